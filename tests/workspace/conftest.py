"""Workspace tests use the portal's throw-away MEDIA_ROOT; the browser fixtures come from
tests/browser.py (registered in tests/conftest.py); ``receiver`` is a local HTTP server on
127.0.0.1 that records what webhooks and Apprise post to it."""

import pytest

from tests.notifications.conftest import Receiver
from tests.payments.fixtures import standin, stripe_configured  # noqa: F401  (card tests)
from tests.portal.conftest import media_root  # noqa: F401


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()
