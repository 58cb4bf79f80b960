"""The billing run in a real browser: a billing clerk previews next month's run, drills into
a contract, issues the run and follows it to its summary, opens one of its invoices, records a
partial payment and sees the balance and the collections board change (Playwright + Debian's
Chromium, headless)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from nestogy.billing.models import Invoice
from nestogy.core.money import format_money
from nestogy.tenancy.queries import company_today
from tests.billing.helpers import add_usage, make_contract
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page
from tests.workspace.test_billing_run import command_preview, worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_billing_clerk_previews_issues_and_collects_the_months_run(
        personas, page, screenshot, csp_violations):
    p = personas
    today = company_today(p.company_a)
    this_month = today.replace(day=1)
    start = (this_month - timedelta(days=40)).replace(day=1)  # two periods ago
    run_day = (this_month + timedelta(days=32)).replace(day=1)  # the first of next month
    with scope(company=p.company_a.pk):
        acme = make_contract(p.company_a, p.client_a, start=start.isoformat(), seats="12",
                             price="45.00", tax="8.25", name="Managed IT: Acme Dental")
        add_usage(acme, [(f"{start.isoformat()} 10:00", "320")], tz=p.company_a.timezone)
        make_contract(p.company_a, p.client_a2, start=start.isoformat(), seats="4",
                      price="120.00", metered=False, name="Server care: Blue Ridge")
    expected = command_preview(p.company_a, run_day.isoformat())
    grand = sum((Decimal(r["total"]) for r in expected), Decimal(0))

    sign_in_page(page, "billing@alpha.test")
    with page.expect_navigation():
        page.get_by_role("link", name="Billing run").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing run")
    with page.expect_navigation():
        page.get_by_role("link", name=f"{run_day.day} {run_day:%b %Y}").click()
    summary = page.locator("[data-run-preview] h2")
    expect(summary).to_contain_text(f"{len(expected)} invoices for 2 clients")
    expect(page.locator("[data-run-preview] [data-run-total=USD]")).to_have_text(
        format_money(grand, "USD"))
    expect(page.locator("[data-run-invoice]")).to_have_count(len(expected))
    assert axe_violations(page) == []
    screenshot(page, "office-billing-run")

    # Drill into one contract: its lines, usage priced through the tiers.
    with page.expect_navigation():
        page.get_by_role("link", name="Managed IT: Acme Dental").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Managed IT: Acme Dental")
    expect(page.get_by_text(re.compile(r"Backup storage: 320 GB"))).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "office-billing-run-contract")
    with page.expect_navigation():
        page.locator(".crumbs").get_by_role("link", name="Billing run").click()
    expect(summary).to_contain_text(f"{run_day:%A} {run_day.day} {run_day:%B %Y}")

    page.get_by_label("Issue the invoices").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Start the billing run").click()
    expect(page.get_by_role("status").first).to_contain_text("has started")
    expect(page.locator("[data-run-status]")).to_have_attribute("data-run-status", "queued")
    worker(real=True)  # the billing worker picks the run up; the page follows it by itself
    expect(page.locator("#run-state-title")).to_have_text(f"Finished: {len(expected)} invoices",
                                                         timeout=15000)
    expect(page.locator("[data-run-created]")).to_have_text(f"{len(expected)} issued, 0 drafts")
    expect(page.locator("#run-status [data-run-total=USD]")).to_have_text(
        format_money(grand, "USD"))
    assert axe_violations(page) == []
    screenshot(page, "office-billing-run-done")

    with scope(company=p.company_a.pk):
        oldest = Invoice.objects.filter(client=p.client_a).order_by("period_start").first()
        owed = sum((i.balance for i in Invoice.objects.filter(client=p.client_a)), Decimal(0))
    with page.expect_navigation():
        page.get_by_role("link", name="Collections").click()
    row = page.locator(f"[data-aging-row='{p.client_a.public_id}']")
    expect(row).to_contain_text(format_money(owed, "USD"))

    with page.expect_navigation():
        page.get_by_role("link", name="Billing run").click()
    with page.expect_navigation():
        page.locator("#recent-runs-title + table a").first.click()
    with page.expect_navigation():
        page.get_by_role("link", name=oldest.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Invoice {oldest.number}")
    page.get_by_label("Amount", exact=True).fill("100.00")
    page.get_by_label("Method").select_option(label="Bank transfer")
    page.get_by_label("Reference").fill("Wire 7781")
    with page.expect_navigation():
        page.get_by_role("button", name="Record payment").click()
    expect(page.locator("[data-balance]")).to_have_text(
        format_money(oldest.balance - 100, "USD"))

    with page.expect_navigation():
        page.get_by_role("link", name="Collections").click()
    expect(row).to_contain_text(format_money(owed - 100, "USD"))
