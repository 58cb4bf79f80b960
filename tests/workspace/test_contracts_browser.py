"""Contracts in a real browser: a billing clerk lists the contracts ending soon, opens one,
reads its seat history and tiers, checks a usage file with a bad line (the dry run names the
line and the field, nothing is written), fixes it, records it and sees the usage change; then
the renewals calendar (Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from nestogy.contracts.actions import set_item_quantity
from nestogy.contracts.models import UsageRecord
from nestogy.tenancy.queries import company_today
from tests.billing.helpers import add_usage, fixed_item, make_contract, metered_item
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def csv_file(text: str) -> dict:
    return {"name": "backup-usage.csv", "mimeType": "text/csv", "buffer": text.encode()}


def test_billing_clerk_uploads_usage_to_a_contract_ending_soon(
        personas, page, screenshot, csp_violations):
    p = personas
    today = company_today(p.company_a)
    this_month = today.replace(day=1)
    start = (this_month - timedelta(days=40)).replace(day=1)  # two months ago
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    with scope(company=p.company_a.pk):
        acme = make_contract(p.company_a, p.client_a, start=start.isoformat(), seats="12",
                             price="45.00", tax="8.25", name="Managed IT: Acme Dental",
                             end=(today + timedelta(days=40)).isoformat(), auto_renew=True,
                             renewal_uplift_percent="4", renewal_notice_days=45)
        add_usage(acme, [(f"{start.isoformat()} 10:00", "320")], tz=p.company_a.timezone)
        set_item_quantity(fixed_item(acme), "14", next_month)
        item = metered_item(acme)
        make_contract(p.company_a, p.client_a2, start=start.isoformat(), seats="4",
                      price="120.00", metered=False, name="Server care: Blue Ridge",
                      cycle="quarterly", end=(today + timedelta(days=300)).isoformat())

    sign_in_page(page, "billing@alpha.test")
    with page.expect_navigation():
        page.get_by_role("link", name="Contracts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contracts")
    expect(page.locator("[data-contract-row]")).to_have_count(2)
    page.get_by_label("Show").select_option(label="Ending soon")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(page.locator("[data-contract-row]")).to_have_count(1)
    expect(page.locator("[data-contract-row]")).to_contain_text("ends in 40 days")
    assert axe_violations(page) == []
    screenshot(page, "office-contracts")

    with page.expect_navigation():
        page.get_by_role("link", name="Managed IT: Acme Dental").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Managed IT: Acme Dental")
    history = page.locator(".seat-history tbody tr")
    expect(history).to_have_count(2)
    expect(history.last).to_contain_text("planned")
    expect(page.locator(".tier-table [data-tier]")).to_have_count(3)
    current = page.locator(f"[data-usage='{item.public_id}:{this_month.isoformat()}'] "
                           "[data-usage-total]")
    expect(current).to_have_text("0 GB")
    assert axe_violations(page) == []
    screenshot(page, "office-contract")

    # A file with a bad line: the dry run names it, and records nothing.
    day = today.isoformat()
    bad = ("item,quantity,occurred_at,idempotency_key\n"
           f"Backup storage,120,{day} 09:00,\n"
           f"Backup storage,-15,{day} 10:00,\n"
           f"{item.public_id},30.5,{day}T11:00:00-05:00,scan-7781\n")
    page.get_by_label("CSV file").set_input_files(csv_file(bad))
    with page.expect_navigation():
        page.get_by_role("button", name="Check only (dry run)").click()
    report = page.locator("[data-usage-report]")
    expect(report).to_contain_text("Line 3, quantity: must not be negative")
    expect(page.locator("[data-refused]")).to_have_text("1")
    expect(page.locator("[data-would-record]")).to_have_text("2")
    with scope(company=p.company_a.pk):
        assert UsageRecord.objects.count() == 1
    assert axe_violations(page) == []
    screenshot(page, "office-contract-usage")

    good = bad.replace("-15", "15")
    page.get_by_label("CSV file").set_input_files(csv_file(good))
    with page.expect_navigation():
        page.get_by_role("button", name="Record", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Recorded 3 usage lines.")
    expect(current).to_have_text("165.5 GB")
    with scope(company=p.company_a.pk):
        assert UsageRecord.objects.count() == 4

    with page.expect_navigation():
        page.locator(".crumbs").get_by_role("link", name="Contracts").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Renewals calendar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Renewals")
    expect(page.locator("[data-renewal]")).to_have_count(2)
    expect(page.locator(f"[data-renewal='{acme.public_id}'] [data-new-price]")).to_contain_text(
        "Managed workstation: 45.00 USD → 46.80 USD")
    assert axe_violations(page) == []
    screenshot(page, "office-renewals")
    assert csp_violations == []
