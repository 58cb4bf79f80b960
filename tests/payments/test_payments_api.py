"""Manual payments, partial and over-payments, one payment over several invoices, credit,
refunds, cards on file and the client statement."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django_scopes import scopes_disabled

from nestogy.billing.models import Invoice
from nestogy.payments import auto_pay, charging, recording, refunds
from nestogy.payments.models import Payment, PaymentAllocation, Refund
from nestogy.payments.statement import statement_context, statement_lines
from tests.payments.conftest import card_on_file, issued_invoice


def pay(api, invoice, amount, method="bank_transfer", **extra):
    return api.post(f"/invoices/{invoice.public_id}/payments",
                    {"amount": amount, "method": method, **extra})


def state(invoice):
    invoice.refresh_from_db()
    return invoice.status, invoice.amount_paid, invoice.balance


def counts():
    with scopes_disabled():
        return (Payment.objects.count(), PaymentAllocation.objects.count(),
                list(Invoice.objects.order_by("id").values_list("amount_paid", "status")))


def test_partial_then_full_payment(in_a, events):
    api = in_a.billing_a.api
    invoice = issued_invoice(in_a.client_a, "100.00")
    first = pay(api, invoice, "30.00", reference="BANK-1")
    assert first.status_code == 201
    assert first.data["invoice"]["status"] == "partially_paid"
    assert (first.data["invoice"]["amount_paid"], first.data["invoice"]["balance"]) == (
        "30.00", "70.00")
    assert first.data["payment"]["unapplied"] == "0.00"
    assert first.data["payment"]["allocations"] == [{
        "invoice_id": invoice.public_id, "invoice_number": invoice.number, "amount": "30.00",
        "from_credit": False}]
    second = pay(api, invoice, "70.00", method="check", reference="CHK 1001")
    assert second.data["invoice"]["status"] == "paid"
    assert state(invoice) == ("paid", Decimal("100"), Decimal("0"))
    receipts = [e for e in events if e.type == "payment.succeeded"]
    assert len(receipts) == 2
    # The receipt goes to the client's billing address (its contact when it has no email).
    from nestogy.core.events import REGISTRY

    recipients = REGISTRY["payment.succeeded"].recipients(receipts[0])
    assert [(r.email, r.kind) for r in recipients] == [("dana@acme.test", "contact")]
    from django.template.loader import render_to_string

    context = REGISTRY["payment.succeeded"].context(receipts[1])
    body = render_to_string("notifications/payment.succeeded/body.txt", context)
    assert "received your payment of 70.00 USD (check, reference CHK 1001)" in body
    assert f"Applied to: {invoice.number}." in body
    # A paid invoice takes no more payments.
    assert pay(api, invoice, "1.00").status_code == 409


def test_overpayment_becomes_credit_and_credit_pays_the_next_invoice(in_a):
    api = in_a.billing_a.api
    invoice = issued_invoice(in_a.client_a, "100.00")
    over = pay(api, invoice, "130.00")
    assert over.data["invoice"]["status"] == "paid"
    assert over.data["invoice"]["balance"] == "0.00"
    assert over.data["payment"]["unapplied"] == "30.00"
    credit = api.get(f"/clients/{in_a.client_a.public_id}/credit").data
    assert credit == {"items": [{"currency": "USD", "amount": "30.00"}]}

    nxt = issued_invoice(in_a.client_a, "50.00")
    applied = api.post(f"/invoices/{nxt.public_id}/apply-credit", {})
    assert applied.status_code == 200
    assert applied.data["applied"] == "30.00"
    assert applied.data["invoice"]["status"] == "partially_paid"
    assert applied.data["invoice"]["balance"] == "20.00"
    assert api.get(f"/clients/{in_a.client_a.public_id}/credit").data == {"items": []}
    # No credit left: a clear conflict, nothing written.
    before = counts()
    assert api.post(f"/invoices/{nxt.public_id}/apply-credit", {}).status_code == 409
    assert counts() == before


def test_partial_credit_application(in_a):
    invoice = issued_invoice(in_a.client_a, "10.00")
    recording.record_invoice_payment(invoice, {"amount": "50.00", "method": "cash"})
    nxt = issued_invoice(in_a.client_a, "40.00")
    api = in_a.billing_a.api
    bad = api.post(f"/invoices/{nxt.public_id}/apply-credit", {"amount": "45.00"})
    assert bad.status_code == 422 and bad.data["error"]["field"] == "amount"
    ok = api.post(f"/invoices/{nxt.public_id}/apply-credit", {"amount": "15.00"})
    assert ok.data["applied"] == "15.00" and ok.data["invoice"]["balance"] == "25.00"
    assert recording.credit_balance(in_a.client_a, "USD") == Decimal("25")


def test_one_payment_over_several_invoices_oldest_due_first(in_a):
    api = in_a.billing_a.api
    later = issued_invoice(in_a.client_a, "60.00", due_date=date(2027, 3, 1))
    sooner = issued_invoice(in_a.client_a, "40.00", due_date=date(2027, 2, 1))
    response = api.post("/payments", {"client_id": in_a.client_a.public_id,
                                      "amount": "70.00", "method": "bank_transfer"})
    assert response.status_code == 201
    assert [(a["invoice_id"], a["amount"]) for a in response.data["allocations"]] == [
        (sooner.public_id, "40.00"), (later.public_id, "30.00")]
    assert state(sooner)[0] == "paid"
    assert state(later) == ("partially_paid", Decimal("30"), Decimal("30"))


def test_explicit_allocations_and_their_errors(in_a):
    api = in_a.billing_a.api
    a = issued_invoice(in_a.client_a, "60.00")
    b = issued_invoice(in_a.client_a, "40.00")
    body = {"client_id": in_a.client_a.public_id, "amount": "100.00", "method": "check",
            "allocations": [{"invoice_id": a.public_id, "amount": "20.00"},
                            {"invoice_id": b.public_id, "amount": "40.00"}]}
    ok = api.post("/payments", body)
    assert ok.status_code == 201 and ok.data["unapplied"] == "40.00"
    assert state(a)[0] == "partially_paid" and state(b)[0] == "paid"

    other = issued_invoice(in_a.client_a2, "10.00")
    cases = [
        ({"allocations": [{"invoice_id": a.public_id, "amount": "50.00"}]},
         "allocations[0].amount"),  # more than the balance (40)
        ({"amount": "5.00", "allocations": [{"invoice_id": a.public_id, "amount": "6.00"}]},
         "allocations[0].amount"),  # more than the payment
        ({"allocations": [{"invoice_id": other.public_id, "amount": "1.00"}]},
         "allocations[0].invoice_id"),  # another client's invoice
        ({"allocations": [{"invoice_id": b.public_id, "amount": "1.00"}]},
         "allocations[0].invoice_id"),  # paid already
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": 1.505}, "amount"),  # a JSON number with more decimals than USD has
        ({"method": "bitcoin"}, "method"),
        ({"received_at": "2020-01-01T00:00:00"}, "received_at"),
        ({"currency": "US"}, "currency"),
    ]
    for change, field in cases:
        before = counts()
        response = api.post("/payments", {**body, **change})
        assert response.status_code == 422, (change, response.data)
        assert response.data["error"]["field"] == field, (change, response.data)
        assert counts() == before, change
    missing = api.post("/payments", {**body, "allocations": [
        {"invoice_id": "inv_missing", "amount": "1"}]})
    assert missing.status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"amount": "0", "method": "cash"}, "amount"),
    ({"amount": "abc", "method": "cash"}, "amount"),
    ({"amount": "10.00", "method": "barter"}, "method"),
    ({"method": "cash"}, "amount"),
    ({"amount": "10.00", "method": "cash", "received_at": "2999-01-01T00:00:00+00:00"},
     "received_at"),
])
def test_invoice_payment_bad_input_is_422_and_writes_nothing(in_a, body, field):
    invoice = issued_invoice(in_a.client_a, "10.00")
    before = counts()
    response = in_a.billing_a.api.post(f"/invoices/{invoice.public_id}/payments", body)
    assert response.status_code == 422
    assert response.data["error"]["field"] == field
    assert counts() == before


def test_draft_and_void_invoices_take_no_payment(in_a):
    from nestogy.billing.actions import create_invoice, void_invoice

    draft = create_invoice(in_a.company_a, in_a.client_a,
                           {"items": [{"description": "x", "unit_price": "5"}]})
    assert pay(in_a.billing_a.api, draft, "5.00").status_code == 409
    voided = issued_invoice(in_a.client_a, "5.00")
    void_invoice(voided)
    assert pay(in_a.billing_a.api, voided, "5.00").status_code == 409


def test_idempotency_key_records_a_payment_once(in_a):
    api = in_a.billing_a.api
    invoice = issued_invoice(in_a.client_a, "100.00")
    headers = {"Idempotency-Key": "bank-import-42"}
    first = api.post(f"/invoices/{invoice.public_id}/payments",
                     {"amount": "25.00", "method": "bank_transfer"}, headers=headers)
    again = api.post(f"/invoices/{invoice.public_id}/payments",
                     {"amount": "25.00", "method": "bank_transfer"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.data == again.data
    assert Payment.objects.count() == 1
    assert state(invoice)[2] == Decimal("75")
    clash = api.post(f"/invoices/{invoice.public_id}/payments",
                     {"amount": "26.00", "method": "bank_transfer"}, headers=headers)
    assert clash.status_code == 409


def test_partial_payment_of_an_overdue_invoice_keeps_it_overdue(in_a):
    with time_machine.travel("2026-01-05 12:00Z", tick=False):
        invoice = issued_invoice(in_a.client_a, "100.00", due_date=date(2026, 1, 20))
    with time_machine.travel("2026-02-10 12:00Z", tick=False):
        from nestogy.billing.actions import mark_overdue

        mark_overdue(in_a.company_a)
        assert state(invoice)[0] == "overdue"
        pay(in_a.billing_a.api, invoice, "40.00")
        assert state(invoice) == ("overdue", Decimal("40"), Decimal("60"))
        pay(in_a.billing_a.api, invoice, "60.00")
        assert state(invoice)[0] == "paid"


def test_refund_takes_credit_first_then_reopens_invoices(in_a):
    api = in_a.billing_a.api
    invoice = issued_invoice(in_a.client_a, "100.00")
    payment_id = pay(api, invoice, "120.00").data["payment"]["id"]
    refund = api.post(f"/payments/{payment_id}/refunds", {"amount": "15.00",
                                                          "reason": "overpaid"})
    assert refund.status_code == 201 and refund.data["amount"] == "15.00"
    payment = api.get(f"/payments/{payment_id}").data
    assert (payment["unapplied"], payment["amount_refunded"], payment["status"]) == (
        "5.00", "15.00", "partially_refunded")
    assert state(invoice)[0] == "paid"
    # 25 more: 5 from credit, 20 re-opens the invoice.
    api.post(f"/payments/{payment_id}/refunds", {"amount": "25.00"})
    assert state(invoice) == ("partially_paid", Decimal("80"), Decimal("20"))
    bad = api.post(f"/payments/{payment_id}/refunds", {"amount": "80.01"})
    assert bad.status_code == 422 and bad.data["error"]["field"] == "amount"
    full = api.post(f"/payments/{payment_id}/refunds", {})
    assert full.data["amount"] == "80.00"
    assert state(invoice) == ("issued", Decimal("0"), Decimal("100"))
    assert api.get(f"/payments/{payment_id}").data["status"] == "refunded"
    assert api.post(f"/payments/{payment_id}/refunds", {}).status_code == 409
    assert Refund.objects.count() == 3


def test_card_refund_goes_through_the_gateway(in_a, stripe_configured):
    card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "50.00")
    charging.run_attempt(auto_pay.charge_invoice(invoice).pk)
    payment = Payment.objects.get()
    response = in_a.billing_a.api.post(f"/payments/{payment.public_id}/refunds",
                                       {"amount": "20.00"})
    assert response.status_code == 201
    assert response.data["gateway_reference"].startswith("re_")
    assert stripe_configured.ledger[-1].amount_refunded == 2000
    assert state(invoice) == ("partially_paid", Decimal("30"), Decimal("20"))


def test_cards_on_file_api(in_a, stripe_configured):
    api = in_a.billing_a.api
    url = f"/clients/{in_a.client_a.public_id}/payment-methods"
    pm = stripe_configured.add_card(brand="amex", last4="0005")
    created = api.post(url, {"payment_method_reference": pm, "auto_pay": True})
    assert created.status_code == 201
    assert (created.data["brand"], created.data["last4"], created.data["auto_pay"]) == (
        "amex", "0005", True)
    second = api.post(url, {"payment_method_reference": stripe_configured.add_card(),
                            "auto_pay": True})
    assert second.status_code == 201
    listed = api.get(url).data["items"]
    assert [m["auto_pay"] for m in sorted(listed, key=lambda m: m["id"] == second.data["id"])
            ] == [False, True], "one auto-pay card per client"
    assert len(stripe_configured.customers) == 1, "one gateway customer per client"
    unknown = api.post(url, {"payment_method_reference": "pm_does_not_exist"})
    assert unknown.status_code == 422
    assert unknown.data["error"]["field"] == "payment_method_reference"
    assert api.post(url, {"payment_method_reference": pm}).status_code == 422  # on file


def test_list_payments_query_budget(in_a, django_assert_max_num_queries):
    for n in range(8):
        invoice = issued_invoice(in_a.client_a, "10.00")
        recording.record_invoice_payment(invoice, {"amount": "12.00", "method": "cash",
                                                 "reference": f"R{n}"})
    with django_assert_max_num_queries(12):
        response = in_a.billing_a.api.get("/payments", limit=5)
    assert response.status_code == 200 and len(response.data["items"]) == 5
    assert response.data["next_cursor"]
    filtered = in_a.billing_a.api.get("/payments", client_id=in_a.client_a2.public_id)
    assert filtered.data["items"] == []


def test_statement_lines_and_running_balance(in_a):
    with time_machine.travel("2026-01-05 15:00Z", tick=False):
        first = issued_invoice(in_a.client_a, "100.00")
    with time_machine.travel("2026-01-10 15:00Z", tick=False):
        recording.record_invoice_payment(first, {"amount": "130.00", "method": "check",
                                               "reference": "CHK-7"})
    with time_machine.travel("2026-02-05 15:00Z", tick=False):
        second = issued_invoice(in_a.client_a, "50.00")
        recording.apply_credit(second)
        payment = Payment.objects.get()
        refunds.refund_payment(payment, {"amount": "5.00", "reason": "goodwill"})
        context = statement_context(in_a.client_a)
    lines = statement_lines(in_a.client_a, "USD")
    assert [(ln.kind, ln.reference) for ln in lines] == [
        ("invoice", first.number), ("payment", "CHK-7"), ("invoice", second.number),
        ("refund", Refund.objects.get().public_id)]
    assert [row["balance"] for row in context["rows"]] == ["100.00", "-30.00", "20.00",
                                                           "25.00"]
    assert context["balance"] == "25.00" and context["owes"] is True
    second.refresh_from_db()
    assert second.balance == Decimal("25")  # statement agrees with the invoices


def test_statement_pdf_endpoint(in_a):
    invoice = issued_invoice(in_a.client_a, "100.00")
    recording.record_invoice_payment(invoice, {"amount": "40.00", "method": "cash"})
    response = in_a.billing_a.api.get(f"/clients/{in_a.client_a.public_id}/statement.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    from nestogy.payments.statement import statement_html

    html = statement_html(in_a.client_a)
    assert invoice.number in html and "60.00" in html and "Balance due" in html
    bad = in_a.billing_a.api.get(f"/clients/{in_a.client_a.public_id}/statement.pdf",
                                 currency="dollars")
    assert bad.status_code == 422 and bad.data["error"]["field"] == "currency"
    assert in_a.tech_a.api.get(
        f"/clients/{in_a.client_a.public_id}/statement.pdf").status_code == 403


def test_statement_attachment_builder(in_a):
    from nestogy.core import attachments

    issued_invoice(in_a.client_a, "10.00")
    attachment = attachments.build({"builder": "client_statement",
                                    "client_id": in_a.client_a.pk})
    assert attachment.mimetype == "application/pdf" and attachment.content[:4] == b"%PDF"


def test_payments_of_other_company_are_invisible(personas):
    from django_scopes import scope

    with scope(company=personas.company_a.pk):
        invoice = issued_invoice(personas.client_a, "10.00")
        payment = recording.record_invoice_payment(invoice, {"amount": "10.00",
                                                           "method": "cash"})
    api_b = personas.owner_b.api
    assert api_b.get("/payments").data["items"] == []
    assert api_b.get(f"/payments/{payment.public_id}").status_code == 404
    assert api_b.post("/payments", {"client_id": personas.client_a.public_id,
                                    "amount": "1", "method": "cash"}).status_code == 404


def test_received_at_defaults_to_now_and_accepts_the_past(in_a):
    invoice = issued_invoice(in_a.client_a, "10.00")
    response = pay(in_a.billing_a.api, invoice, "5.00",
                   received_at="2026-01-02T09:00:00-05:00")
    assert response.data["payment"]["received_at"].startswith("2026-01-02T14:00:00")
    assert timedelta(0) <= (Payment.objects.get().created_at
                            - Payment.objects.get().received_at)


def test_admin_lists_payments_for_operators_only(personas):
    from django.test import Client as HttpClient
    from django_scopes import scope

    from tests.conftest import PASSWORD

    with scope(company=personas.company_a.pk):
        invoice = issued_invoice(personas.client_a, "10.00")
        recording.record_invoice_payment(invoice, {"amount": "10.00", "method": "cash",
                                                 "reference": "ALPHA-CASH"})
    with scope(company=personas.company_b.pk):
        invoice_b = issued_invoice(personas.client_b, "10.00")
        recording.record_invoice_payment(invoice_b, {"amount": "10.00", "method": "cash",
                                                   "reference": "BRAVO-CASH"})
    from tests.support.admin_forms import operator

    clerk = HttpClient()
    assert clerk.login(username="billing@alpha.test", password=PASSWORD)
    assert clerk.get("/admin/payments/payment/").status_code == 302  # operators only
    http = operator()
    page = http.get("/admin/payments/payment/")
    assert page.status_code == 200
    assert b"Acme Dental" in page.content and b"Bravo Client" in page.content


def test_demo_payments_match_the_invoices(db):
    from django.db.models import Sum

    from nestogy.ops.demo import seed_demo

    lines = []
    assert seed_demo(report=lines.append).created
    with scopes_disabled():
        paid = Invoice.objects.filter(amount_paid__gt=0)
        assert paid.exists()
        for invoice in paid:
            allocated = recording.db_sum(PaymentAllocation.objects.filter(
                invoice=invoice).aggregate(s=Sum("amount"))["s"])
            assert allocated == invoice.amount_paid
        assert Payment.objects.count() == paid.count()
    assert any("payments recorded" in line for line in lines)
