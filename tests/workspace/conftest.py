"""Workspace tests use the portal's throw-away MEDIA_ROOT; the browser fixtures come from
tests/browser.py (registered in tests/conftest.py)."""

from tests.payments.fixtures import standin, stripe_configured  # noqa: F401  (card tests)
from tests.portal.conftest import media_root  # noqa: F401
