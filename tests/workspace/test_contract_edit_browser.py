"""Writing a contract in a real browser: a billing clerk creates one with a fixed and a
metered item, a slip in the tiers is named on its item, then the contract page shows it
(Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_billing_clerk_writes_a_contract(personas, page, screenshot, csp_violations):
    sign_in_page(page, "billing@alpha.test")
    page.goto("/app/contracts/")
    with page.expect_navigation():
        page.get_by_role("link", name="New contract").click()
    page.get_by_label("Client").select_option(label="Acme Dental")
    page.get_by_label("Name", exact=True).fill("Managed IT 2027")
    page.get_by_label("Start date").fill("2027-01-01")
    page.get_by_label("End date").fill("2027-12-31")
    page.get_by_label("Tax rate (%)").fill("8.25")
    page.get_by_label("Renews automatically").check()
    page.get_by_label("Renewal uplift (%)").fill("3")
    page.get_by_label("Item 1 description").fill("Managed workstation")
    page.get_by_label("Item 1 quantity").fill("12")
    page.get_by_label("Item 1 unit price").fill("45")
    page.get_by_label("Item 2 kind").select_option("metered")
    page.get_by_label("Item 2 description").fill("Backup storage")
    page.get_by_label("Item 2 unit", exact=True).fill("GB")
    page.get_by_label("Item 2 tiers").fill("100 0.10 5\nabove")
    with page.expect_navigation():
        page.get_by_role("button", name="Create the contract").click()
    expect(page.get_by_role("alert").first).to_contain_text("Item 2, tiers: write each tier")
    assert axe_violations(page) == []
    screenshot(page, "office-contract-new")
    page.get_by_label("Item 2 tiers").fill("100 0.10 5\n- 0.05")
    with page.expect_navigation():
        page.get_by_role("button", name="Create the contract").click()
    expect(page.get_by_role("status").first).to_contain_text("Contract Managed IT 2027 created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Managed IT 2027")
    expect(page.get_by_text("Managed workstation").first).to_be_visible()
    expect(page.get_by_text("Backup storage").first).to_be_visible()
