"""Company settings and the audit log in a real browser: an owner corrects a refused
colour, saves the invoice prefix, uploads the logo, then finds the changes in the audit
log (Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from nestogy.tenancy.models import Company
from tests.portal.test_browser_invitation import axe_violations
from tests.tenancy.test_logo import png
from tests.workspace.helpers import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_changes_settings_and_reads_the_audit_log(personas, page, screenshot,
                                                        csp_violations, tmp_path,
                                                        media_root):
    p = personas
    sign_in_page(page, "owner@alpha.test")
    page.goto("/app/settings/")
    with page.expect_navigation():
        page.get_by_role("link", name="Company settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Company settings")
    page.get_by_label("Accent color").fill("green")
    page.get_by_label("Invoice prefix").fill("AIT-")
    with page.expect_navigation():
        page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was saved.")
    expect(page.get_by_text("Accent color: Must be a colour written #rrggbb")).to_be_visible()
    assert Company.objects.get(pk=p.company_a.pk).get_setting("billing.invoice_prefix") \
        == "INV-"
    page.get_by_label("Accent color").fill("#0a7d3b")
    with page.expect_navigation():
        page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved: invoice prefix, "
                                                             "accent color.")
    logo = tmp_path / "logo.png"
    logo.write_bytes(png((240, 80), (20, 90, 200)))
    page.get_by_label("Upload a logo").set_input_files(str(logo))
    with page.expect_navigation():
        page.get_by_role("button", name="Save the logo").click()
    expect(page.get_by_role("status").first).to_contain_text("Logo saved.")
    expect(page.get_by_role("img", name="The company logo")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "office-settings-company")

    page.goto("/app/settings/audit/")
    page.get_by_label("Action").fill("company.")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    rows = page.locator("[data-audit-row]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("company.logo_uploaded")
    expect(rows.nth(1)).to_contain_text("company.settings_updated")
    expect(rows.nth(1)).to_contain_text("owner@alpha.test")
    assert axe_violations(page) == []
    screenshot(page, "office-audit-log")
