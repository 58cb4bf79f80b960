"""API tokens in a real browser: an owner creates a token, copies it from the one page that
shows it, finds it masked afterwards and revokes it (Playwright + Debian's Chromium)."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_creates_a_token_shown_once_then_masked_and_revokes_it(
        personas, page, screenshot, csp_violations):
    sign_in_page(page, "owner@alpha.test")
    with page.expect_navigation():
        page.get_by_role("link", name="Your account").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Manage your API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")

    # A name is required: the field says so, nothing is created.
    with page.expect_navigation():
        page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("alert").first).to_contain_text("Name: Name the token.")

    page.get_by_label("Name").fill("RMM sync")
    with page.expect_navigation():
        page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="RMM sync: copy it now")).to_be_visible()
    raw = page.locator("[data-new-token]").input_value()
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    row = page.locator("[data-token]").filter(has_text="RMM sync")
    masked = row.locator("[data-masked]").inner_text()
    assert masked.endswith("…") and raw.startswith(masked[:-1]) and len(masked) < len(raw) // 2
    assert axe_violations(page) == []
    screenshot(page, "office-api-tokens")

    # Never shown again.
    page.reload()
    expect(page.locator("[data-new-token]")).to_have_count(0)
    assert raw not in page.content()
    expect(row.locator("[data-masked]")).to_contain_text("…")
    with page.expect_navigation():
        row.get_by_role("button", name="Revoke RMM sync").click()
    expect(page.get_by_role("status")).to_contain_text("RMM sync")
    expect(page.locator("[data-token]").filter(has_text="RMM sync")).to_contain_text("Revoked")
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert csp_violations == []
