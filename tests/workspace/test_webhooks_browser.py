"""Webhooks in a real browser: an owner adds an endpoint, copies its secret from the one
page that shows it, and finds it listed (Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from nestogy.notifications.models import WebhookEndpoint
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_adds_a_webhook_and_sees_its_secret_once(personas, page, screenshot,
                                                        csp_violations):
    sign_in_page(page, "owner@alpha.test")
    page.goto("/app/settings/")
    with page.expect_navigation():
        page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("Name", exact=True).fill("PSA bridge")
    page.get_by_label("URL", exact=True).fill("http://10.0.0.5/hook")
    page.get_by_role("checkbox", name="ticket.created A ticket").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Add the webhook").click()
    # this machine's test settings allow loopback only: a private address is refused
    expect(page.get_by_text("URL:").first).to_be_visible()
    page.get_by_label("URL", exact=True).fill("https://93.184.216.34/nestogy")
    with page.expect_navigation():
        page.get_by_role("button", name="Add the webhook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Signing secret of PSA bridge")
    secret = page.locator("[data-secret]").input_value()
    from django_scopes import scopes_disabled
    with scopes_disabled():
        assert WebhookEndpoint.objects.get().secret == secret
    assert axe_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("link", name="Done").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("PSA bridge")
    assert secret not in page.content()
    assert axe_violations(page) == []
    screenshot(page, "office-settings-webhook")
