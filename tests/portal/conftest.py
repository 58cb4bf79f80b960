"""Portal test fixtures: the Stripe stand-in and a throw-away MEDIA_ROOT (the browser
fixtures live in tests/browser.py)."""

from __future__ import annotations

import pytest

# The Stripe stand-in (the browser pays an invoice through it).
from tests.payments.fixtures import immediate_tasks, standin, stripe_configured  # noqa: F401


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Attachments go to a throw-away MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"
