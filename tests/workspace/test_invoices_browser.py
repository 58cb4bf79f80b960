"""Invoices in a real browser: a billing clerk finds an overdue invoice, opens it, records a
partial payment and sees the balance, the payment, its history and the list's totals change
(Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from nestogy.billing.models import Invoice
from nestogy.clients.actions import create_client
from tests.portal.helpers import invoice
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_billing_clerk_records_a_partial_payment_on_an_overdue_invoice(
        personas, page, screenshot, csp_violations):
    p = personas
    with scope(company=p.company_a.pk):
        invoice(p.client_a, "120.00")
        invoice(p.client_a2, "260.00")
        harbor = create_client(p.company_a, {"name": "Harborview Hotel",
                                             "email": "accounts@harborview.test"})
        late = invoice(harbor, "480.00")
        Invoice.objects.filter(pk=late.pk).update(due_date=late.issue_date - timedelta(days=12),
                                                  status="overdue")
        late.refresh_from_db()
        balance_before = sum((i.balance for i in Invoice.objects.all()), Decimal(0))

    sign_in_page(page, "billing@alpha.test")
    with page.expect_navigation():
        page.get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoices")
    totals = page.locator("[data-total=USD]")
    expect(totals).to_contain_text("3 invoices in USD")
    expect(totals.locator("[data-balance]")).to_have_text(f"{balance_before:,.2f} USD")
    assert axe_violations(page) == []
    screenshot(page, "office-invoices")

    # Only the overdue ones.
    page.get_by_label("Overdue only").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    rows = page.locator("[data-invoice-row]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Harborview Hotel")
    expect(rows.first).to_contain_text("12 days late")
    with page.expect_navigation():
        rows.first.get_by_role("link").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Invoice {late.number}")
    expect(page.locator("[data-invoice-status]")).to_have_text("Overdue")
    expect(page.locator("[data-balance]")).to_have_text(f"{late.balance:,.2f} USD")
    expect(page.get_by_label("Amount", exact=True)).to_have_value(f"{late.balance:.2f}")
    page.get_by_label("Amount", exact=True).fill("200.00")
    page.get_by_label("Method").select_option(label="Check")
    page.get_by_label("Reference").fill("Check 10442")
    with page.expect_navigation():
        page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("status")).to_contain_text("Payment of 200.00 USD recorded.")
    rest = late.balance - 200
    expect(page.locator("[data-balance]")).to_have_text(f"{rest:,.2f} USD")
    expect(page.locator("[data-paid]")).to_have_text("200.00 USD")
    # Still past due with a balance: it stays overdue (a current one turns partially paid).
    expect(page.locator("[data-invoice-status]")).to_have_text("Overdue")
    expect(page.locator("[data-payment]")).to_contain_text("Check 10442")
    expect(page.locator("[data-audit='payment.succeeded']")).to_contain_text(
        "billing@alpha.test")
    assert axe_violations(page) == []
    screenshot(page, "office-invoice")

    # A typing slip is refused in place, naming the field; nothing is recorded.
    page.get_by_label("Amount", exact=True).fill("12.345")
    with page.expect_navigation():
        page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("alert")).to_contain_text("Amount: has more decimals than USD "
                                                      "allows")
    expect(page.locator("[data-payment]")).to_have_count(1)

    # Back on the list, the totals show what is still owed.
    with page.expect_navigation():
        page.get_by_role("link", name="Invoices", exact=True).first.click()
    expect(page.locator("[data-total=USD] [data-balance]")).to_have_text(
        f"{balance_before - 200:,.2f} USD")
    assert csp_violations == []



def test_billing_clerk_reviews_the_aging_board_and_sends_a_reminder(
        personas, page, screenshot, csp_violations):
    p = personas
    with scope(company=p.company_a.pk):
        from nestogy.clients.actions import update_client
        from nestogy.tenancy.queries import company_today

        today = company_today(p.company_a)
        update_client(p.client_a, {"email": "ap@acme.test"})
        harbor = create_client(p.company_a, {"name": "Harborview Hotel",
                                             "email": "accounts@harborview.test"})
        for client, amount, days in ((p.client_a, "120.00", 12), (p.client_a, "90.00", -4),
                                     (p.client_a2, "260.00", 47), (harbor, "480.00", 95)):
            inv = invoice(client, amount)
            Invoice.objects.filter(pk=inv.pk).update(
                due_date=today - timedelta(days=days),
                status="overdue" if days > 0 else "issued")

    sign_in_page(page, "billing@alpha.test")
    with page.expect_navigation():
        page.get_by_role("link", name="Collections").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Collections")
    total = page.locator("[data-aging-total=USD]")
    expect(total.get_by_role("heading")).to_have_text("950.00 USD owed by 3 clients")
    expect(total.locator("[data-bucket='4']")).to_have_text("480.00 USD")
    rows = page.locator("[data-aging-row]")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Harborview Hotel")  # the longest overdue first
    expect(rows.first).to_contain_text("oldest 95 days late")
    acme = rows.filter(has_text=p.client_a.name)
    with page.expect_navigation():
        acme.get_by_role("button", name=f"Send a reminder to {p.client_a.name}").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Reminder sent to {p.client_a.name} for 210.00 USD on 2 open invoices, statement "
        "attached.")
    expect(page.locator("[data-aging-row]").filter(has_text=p.client_a.name)
           .locator("[data-reminded]")).to_contain_text("sent")
    assert axe_violations(page) == []
    screenshot(page, "office-collections")
    assert csp_violations == []
