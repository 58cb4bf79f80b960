"""The draft editor in a real browser: a billing clerk writes an invoice line by line,
watches the totals follow, adds a line, saves the draft, issues it and credits part of it
(Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from nestogy.billing.models import Invoice
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_billing_clerk_writes_issues_and_credits_an_invoice(personas, page, screenshot,
                                                            csp_violations):
    sign_in_page(page, "billing@alpha.test")
    page.goto("/app/invoices/")
    with page.expect_navigation():
        page.get_by_role("link", name="New invoice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New invoice")
    page.get_by_label("Client").select_option(label="Acme Dental")
    page.get_by_label("Tax rate (%)").fill("8.25")
    page.get_by_label("Line 1 description").fill("Firewall replacement")
    page.get_by_label("Line 1 unit price").fill("1200")
    # the totals follow what is typed (computed by the server, written nowhere)
    expect(page.locator("[data-draft-total]")).to_have_text("1,299.00 USD")
    page.get_by_label("Line 2 description").fill("Installation (hours)")
    page.get_by_label("Line 2 quantity").fill("3.5")
    page.get_by_label("Line 2 unit price").fill("95")
    expect(page.locator("[data-draft-total]")).to_have_text("1,658.93 USD")
    page.get_by_label("Line 3 description").fill("Travel")
    page.get_by_label("Line 3 unit price").fill("40")
    page.get_by_label("Line 3 taxable").uncheck()
    expect(page.locator("[data-draft-tax]")).to_have_text("126.43 USD")
    expect(page.locator("[data-draft-total]")).to_have_text("1,698.93 USD")
    with page.expect_navigation():
        page.get_by_role("button", name="Add a line").click()
    expect(page.get_by_label("Line 4 description")).to_be_visible()
    page.get_by_label("Line 4 description").fill("Cable kit")
    page.get_by_label("Line 4 unit price").fill("twelve")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    # a typing slip is named in place, on its line; nothing is written
    expect(page.get_by_text("Line 4, Unit price:").first).to_be_visible()
    expect(page.get_by_label("Line 4 unit price")).to_have_attribute("aria-invalid", "true")
    with scopes_disabled():
        assert not Invoice.objects.exists()
    assert axe_violations(page) == []
    page.get_by_label("Line 4 unit price").fill("12")
    expect(page.locator("[data-draft-total]")).to_have_text("1,711.92 USD")
    screenshot(page, "office-invoice-draft")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").first).to_contain_text("Draft saved")
    expect(page.locator("[data-invoice-status]")).to_have_text("Draft")

    with page.expect_navigation():
        page.get_by_role("button", name="Issue invoice").click()
    with scopes_disabled():
        issued = Invoice.objects.get()
    expect(page.get_by_role("status").first).to_contain_text(f"Issued as {issued.number}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Invoice {issued.number}")
    expect(page.locator("[data-balance]")).to_have_text("1,711.92 USD")

    page.get_by_text("Credit note", exact=True).click()
    page.get_by_label("Amount before tax").fill("100")
    page.get_by_label("Description").fill("Goodwill: late visit")
    page.get_by_label("Reason", exact=True).first.fill("Technician arrived a day late")
    with page.expect_navigation():
        page.get_by_role("button", name="Issue credit note").click()
    expect(page.get_by_role("status").first).to_contain_text("108.25 USD issued")
    expect(page.locator("[data-credited]")).to_have_text("108.25 USD")
    expect(page.locator("[data-balance]")).to_have_text("1,603.67 USD")
    expect(page.locator("[data-audit='credit_note.issued']")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "office-invoice-actions")
