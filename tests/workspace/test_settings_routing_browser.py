"""Routing settings in a real browser: a manager weighs load more and adds what a category
requires, and a slip is named on its line (Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_changes_weights_and_category_requirements(personas, page, screenshot,
                                                          csp_violations):
    sign_in_page(page, "manager@alpha.test")
    page.goto("/app/settings/")
    with page.expect_navigation():
        page.get_by_role("link", name="Routing").click()
    page.get_by_label("Load").fill("60")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the weights").click()
    expect(page.get_by_role("status").first).to_contain_text("Routing weights saved.")
    expect(page.get_by_label("Load")).to_have_value("60")
    page.get_by_label("Category, line 1").fill("networking")
    page.get_by_label("Skills, line 1").fill("networking 3")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the categories").click()
    expect(page.get_by_text("Line 1: write each skill as name:level")).to_be_visible()
    page.get_by_label("Skills, line 1").fill("networking:3, firewalls:2")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the categories").click()
    expect(page.get_by_role("status").first).to_contain_text("Category requirements saved.")
    expect(page.get_by_label("Skills, line 1")).to_have_value("firewalls:2, networking:3")
    assert axe_violations(page) == []
    screenshot(page, "office-settings-routing")
