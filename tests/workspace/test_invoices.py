"""The workspace's invoice pages (Django test client): the list with its filters and totals,
an invoice with its lines, payments and history, the PDF, recording a payment; every view
for every role, another company's invoices, bad input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.billing.actions import void_invoice
from nestogy.billing.models import Invoice
from nestogy.payments.models import Payment
from nestogy.payments.recording import record_invoice_payment
from tests.portal.helpers import invoice
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def issued(p, amount="120.00", client=None):
    client = client or p.client_a
    with scope(company=client.company_id):
        return invoice(client, amount)


def payments_of(company) -> list[Payment]:
    with scope(company=company.pk):
        return list(Payment.objects.order_by("id"))


def fresh(inv: Invoice) -> Invoice:
    with scopes_disabled():
        return Invoice.objects.get(pk=inv.pk)


@pytest.mark.parametrize("role", ROLES)
def test_every_invoice_view_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    inv = issued(p)
    client = signed_in(persona.email)
    cases = [
        ("get", "/app/invoices/", {}, "invoices.view"),
        ("get", f"/app/invoices/{inv.public_id}/", {}, "invoices.view"),
        ("get", f"/app/invoices/{inv.public_id}/pdf", {}, "invoices.view"),
        ("post", f"/app/invoices/{inv.public_id}/payment",
         {"amount": "10.00", "method": "check", "reference": f"by {role}"}, "payments.manage"),
    ]
    check_role_matrix(client, persona.role, cases)
    recorded = [pay.reference for pay in payments_of(p.company_a)]
    assert recorded == ([f"by {role}"] if allowed(persona.role, "payments.manage") else [])
    page = client.get("/app/").content.decode()
    assert ('href="/app/invoices/"' in page) == allowed(persona.role, "invoices.view")


def test_the_list_filters_totals_and_links(personas):
    p = personas
    first, second = issued(p, "120.00"), issued(p, "300.00")
    with scope(company=p.company_a.pk):
        void_invoice(second, reason="Duplicate")
        overdue = issued(p, "150.00")
        Invoice.objects.filter(pk=overdue.pk).update(due_date=overdue.issue_date
                                                     - timedelta(days=3))
    clerk = signed_in("billing@alpha.test")
    page = clerk.get("/app/invoices/").content.decode()
    for inv in (first, second, overdue):
        assert f"/app/invoices/{inv.public_id}/" in page
    with scope(company=p.company_a.pk):
        totals = {i.currency: i for i in [first]}
        all_total = sum((i.total for i in Invoice.objects.all()), Decimal(0))
    assert "3 invoices in USD" in page
    assert f"{all_total:,.2f} USD" in page and totals
    open_only = clerk.get("/app/invoices/", {"status": "open"}).content.decode()
    assert f"/app/invoices/{second.public_id}/" not in open_only
    assert "2 invoices in USD" in open_only
    late = clerk.get("/app/invoices/", {"overdue": "on"}).content.decode()
    assert f"/app/invoices/{overdue.public_id}/" in late
    assert f"/app/invoices/{first.public_id}/" not in late and "3 days late" in late
    by_number = clerk.get("/app/invoices/", {"q": first.number}).content.decode()
    assert "1 invoice in USD" in by_number
    nothing = clerk.get("/app/invoices/", {"q": "no such thing"}).content.decode()
    assert "No invoice matches these filters." in nothing


def test_bad_filters_name_the_field(personas):
    clerk = signed_in("billing@alpha.test")
    response = clerk.get("/app/invoices/", {"issued_from": "2026-02-30"})
    assert response.status_code == 400
    assert "Issued from: Enter a valid date." in response.content.decode()
    response = clerk.get("/app/invoices/", {"issued_from": "2026-03-10",
                                            "issued_to": "2026-03-01"})
    assert response.status_code == 400
    assert "Issued to: Must be on or after the start date." in response.content.decode()
    # A page number that is not one shows the first page, not an error.
    assert clerk.get("/app/invoices/", {"page": "abc"}).status_code == 200
    response = clerk.get("/app/invoices/", {"status": "lost"})
    assert response.status_code == 400 and "Status: Select a valid choice." in \
        response.content.decode()


def test_the_list_takes_the_same_queries_for_few_and_many(personas):
    p = personas
    issued(p)
    clerk = signed_in("billing@alpha.test")
    clerk.get("/app/invoices/")
    with CaptureQueriesContext(connection) as few:
        assert clerk.get("/app/invoices/").status_code == 200
    for _ in range(12):
        issued(p)
    with CaptureQueriesContext(connection) as many:
        assert clerk.get("/app/invoices/").status_code == 200
    assert len(many) == len(few), (len(few), len(many))


def test_a_partial_payment_changes_the_balance_and_the_status(personas):
    p = personas
    inv = issued(p, "120.00")
    clerk = signed_in("billing@alpha.test")
    before = clerk.get(f"/app/invoices/{inv.public_id}/").content.decode()
    assert "Record a payment" in before and "Managed workstation" in before
    assert "invoice.issued" in before  # the history explains the state
    response = clerk.post(f"/app/invoices/{inv.public_id}/payment",
                          {"amount": "50.00", "method": "bank_transfer",
                           "reference": "BANK-7731", "received_on": ""})
    assert response.status_code == 302
    page = clerk.get(response["Location"]).content.decode()
    assert "Payment of 50.00 USD recorded." in page
    inv = fresh(inv)
    assert inv.status == "partially_paid" and inv.balance == inv.total - Decimal("50.00")
    assert f"{inv.balance:,.2f} USD" in page and "BANK-7731" in page
    assert "Partially paid" in page and "payment.succeeded" in page
    # Paying more than the rest: the invoice is paid and the excess is the client's credit.
    over = inv.balance + Decimal("5.00")
    response = clerk.post(f"/app/invoices/{inv.public_id}/payment",
                          {"amount": str(over), "method": "check"})
    assert response.status_code == 302
    page = clerk.get(response["Location"]).content.decode()
    assert "5.00 USD is the client&#x27;s credit." in page
    assert fresh(inv).status == "paid" and "Record a payment" not in page


@pytest.mark.parametrize(("data", "message"), [
    ({"amount": "", "method": "check"}, "Amount: This field is required."),
    ({"amount": "-5", "method": "check"}, "Amount: must not be negative"),
    ({"amount": "0", "method": "check"}, "Amount: must be greater than zero"),
    ({"amount": "abc", "method": "check"}, "Amount: must be a decimal number"),
    ({"amount": "1.234", "method": "check"}, "Amount: has more decimals than USD allows"),
    ({"amount": "10", "method": "bitcoin"}, "Method: Select a valid choice."),
    ({"amount": "10", "method": "check", "received_on": "2999-01-01"},
     "Received on: Cannot be in the future."),
    ({"amount": "10", "method": "check", "received_on": "2026-02-30"},
     "Received on: Enter a valid date."),
    ({"amount": "10", "method": "check", "reference": "x" * 201},
     "Reference: Ensure this value has at most 200 characters"),
])
def test_bad_payment_input_names_the_field_and_writes_nothing(personas, data, message):
    p = personas
    inv = issued(p)
    response = signed_in("billing@alpha.test").post(f"/app/invoices/{inv.public_id}/payment",
                                                   data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert payments_of(p.company_a) == [] and fresh(inv).balance == inv.balance


def test_a_void_or_paid_invoice_takes_no_payment(personas):
    p = personas
    inv = issued(p)
    with scope(company=p.company_a.pk):
        void_invoice(inv, reason="Wrong client")
    clerk = signed_in("billing@alpha.test")
    page = clerk.get(f"/app/invoices/{inv.public_id}/").content.decode()
    assert "Record a payment" not in page and "Void" in page and "Wrong client" in page
    response = clerk.post(f"/app/invoices/{inv.public_id}/payment",
                          {"amount": "10", "method": "check"})
    assert response.status_code == 409
    assert "No payment recorded: a void invoice takes no payments." in \
        response.content.decode()
    assert payments_of(p.company_a) == []


@pytest.mark.parametrize("role", ["owner_a", "billing_a"])
def test_another_companys_invoices_are_404_and_nothing_is_written(personas, role):
    p = personas
    theirs = issued(p, client=p.client_b)
    client = signed_in(getattr(p, role).email)
    for url in (f"/app/invoices/{theirs.public_id}/", f"/app/invoices/{theirs.public_id}/pdf"):
        assert client.get(url).status_code == 404
    response = client.post(f"/app/invoices/{theirs.public_id}/payment",
                           {"amount": "10", "method": "check"})
    assert response.status_code == 404
    listing = client.get("/app/invoices/", {"q": theirs.number}).content.decode()
    assert theirs.public_id not in listing
    assert payments_of(p.company_b) == [] and fresh(theirs).balance == theirs.balance


def test_the_pdf_is_the_clients(personas):
    inv = issued(personas)
    response = signed_in("billing@alpha.test").get(f"/app/invoices/{inv.public_id}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and inv.number in response["Content-Disposition"]


def test_payments_recorded_elsewhere_show_with_their_history(personas):
    p = personas
    inv = issued(p)
    with scope(company=p.company_a.pk):
        record_invoice_payment(inv, {"amount": "20.00", "method": "cash",
                                     "reference": "Till 3"}, actor=p.owner_a.user)
    page = signed_in("manager@alpha.test").get(f"/app/invoices/{inv.public_id}/")
    text = page.content.decode()
    assert "Till 3" in text and "payment.succeeded" in text and "owner@alpha.test" in text
    assert "Record a payment" not in text  # a manager may look, not record
