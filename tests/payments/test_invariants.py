"""Money invariants under any sequence of payments, credit applications and refunds; event
templates render; an outcome recorded twice is one payment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.template.loader import render_to_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nestogy.billing.models import Invoice
from nestogy.clients.actions import create_client
from nestogy.core.errors import Conflict, ValidationError
from nestogy.core.events import REGISTRY
from nestogy.payments import auto_pay, charging, recording, refunds
from nestogy.payments.gateways import ChargeResult
from nestogy.payments.models import Payment, PaymentAllocation
from nestogy.payments.recording import db_sum
from tests.payments.conftest import card_on_file, issued_invoice

cents = st.integers(min_value=1, max_value=20_000).map(lambda c: Decimal(c) / 100)
operations = st.lists(st.one_of(
    st.tuples(st.just("pay"), st.integers(0, 2), cents),
    st.tuples(st.just("credit"), st.integers(0, 2), st.none()),
    st.tuples(st.just("refund"), st.integers(0, 9), cents),
    st.tuples(st.just("client_pay"), st.none(), cents),
), min_size=1, max_size=12)


def check_invariants(client, invoices):
    for invoice in invoices:
        invoice.refresh_from_db()
        allocated = db_sum(PaymentAllocation.objects.filter(invoice=invoice)
                           .aggregate(s=Sum("amount"))["s"])
        assert invoice.amount_paid == allocated
        assert invoice.balance == invoice.total - invoice.amount_paid
        assert Decimal(0) <= invoice.balance <= invoice.total
        expected = ("paid" if invoice.balance == 0 else
                    "partially_paid" if invoice.amount_paid > 0 else "issued")
        assert invoice.status == expected
    for payment in Payment.objects.filter(client=client):
        net = db_sum(PaymentAllocation.objects.filter(payment=payment)
                     .aggregate(s=Sum("amount"))["s"])
        assert payment.unapplied >= 0 and net >= 0
        assert payment.amount - payment.amount_refunded == net + payment.unapplied


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_allocations_credit_and_refunds_keep_the_books_balanced(in_a, ops):
    client = create_client(in_a.company_a, {"name": "Property Client"})
    invoices = [issued_invoice(client, amount) for amount in ("100.00", "35.50", "250.00")]
    for kind, index, amount in ops:
        try:
            if kind == "pay":
                recording.record_invoice_payment(invoices[index], {"amount": str(amount),
                                                                 "method": "cash"})
            elif kind == "credit":
                recording.apply_credit(invoices[index])
            elif kind == "client_pay":
                recording.record_client_payment(client, {"amount": str(amount),
                                                       "method": "bank_transfer"})
            else:
                payments = list(Payment.objects.filter(client=client).order_by("id"))
                if payments:
                    payment = payments[index % len(payments)]
                    refunds.refund_payment(payment, {"amount": str(amount)})
        except (Conflict, ValidationError):
            pass  # refused operations must leave everything as it was
        check_invariants(client, invoices)


def test_success_recorded_twice_is_one_payment(in_a, stripe_configured):
    card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "20.00")
    attempt = auto_pay.charge_invoice(invoice)
    result = ChargeResult(status="succeeded", reference="pi_twice", amount=Decimal("20.00"),
                          currency="USD")
    charging.record_charge_result(attempt.pk, result)
    charging.record_charge_result(attempt.pk, result)
    assert Payment.objects.filter(gateway_reference="pi_twice").count() == 1
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("20")


def test_late_success_on_a_voided_invoice_becomes_credit(in_a, stripe_configured):
    from nestogy.billing.actions import void_invoice

    card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "20.00")
    attempt = auto_pay.charge_invoice(invoice)
    void_invoice(invoice)
    charging.record_charge_result(attempt.pk, ChargeResult(
        status="succeeded", reference="pi_late", amount=Decimal("20.00"), currency="USD"))
    payment = Payment.objects.get(gateway_reference="pi_late")
    assert payment.unapplied == Decimal("20")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID


@pytest.mark.parametrize("event", ["payment.succeeded", "payment.failed",
                                   "payment.retries_exhausted", "payment.disputed"])
def test_every_event_template_renders(in_a, event):
    from nestogy.core.events import Event

    data = {"client_id": in_a.client_a.pk, "amount": "12.5", "currency": "USD",
            "credit": "0", "method": "card", "reference": "pi_1", "invoice_numbers": ["INV-1"],
            "invoice_number": "INV-1", "attempt_number": 2, "error_code": "card_declined",
            "error_message": "Your card was declined.", "next_retry_at": None,
            "reason": "fraudulent", "dispute": "dp_1"}
    registered = REGISTRY[event]
    context = registered.context(Event(type=event, company_id=in_a.company_a.pk, data=data))
    title = render_to_string(f"notifications/{event}/title.txt", context).strip()
    body = render_to_string(f"notifications/{event}/body.txt", context).strip()
    assert title and body and "12.50" in title + body
    assert "{{" not in title + body
    assert registered.recipients(Event(type=event, company_id=in_a.company_a.pk, data=data))
