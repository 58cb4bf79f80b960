"""Auto-pay starts when an invoice is issued: by hand and by the recurring run."""

from __future__ import annotations

from datetime import date

import pytest

from nestogy.billing.models import Invoice
from nestogy.payments.models import PaymentAttempt
from tests.payments.conftest import card_on_file, issued_invoice

pytestmark = pytest.mark.auto_pay_on_issue


def test_issuing_an_invoice_starts_auto_pay_and_the_charge_runs_after_commit(
        in_a, stripe_configured, immediate_tasks, django_capture_on_commit_callbacks):
    card_on_file(in_a.client_a, stripe_configured)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = issued_invoice(in_a.client_a, "80.00")
        assert stripe_configured.succeeded_charges() == []  # nothing before commit
    [attempt] = PaymentAttempt.objects.filter(invoice=invoice)
    attempt.refresh_from_db()
    invoice.refresh_from_db()
    assert attempt.trigger == "auto_pay" and attempt.status == "succeeded"
    assert invoice.status == Invoice.Status.PAID
    assert len(stripe_configured.succeeded_charges()) == 1


def test_clients_without_auto_pay_are_not_charged(in_a, stripe_configured):
    card_on_file(in_a.client_a, stripe_configured, auto_pay=False)
    issued_invoice(in_a.client_a, "80.00")
    issued_invoice(in_a.client_a2, "80.00")
    assert not PaymentAttempt.objects.exists()


def test_recurring_run_starts_auto_pay_for_each_issued_invoice(in_a, stripe_configured):
    from nestogy.billing import recurring
    from nestogy.contracts.actions import create_contract

    card_on_file(in_a.client_a, stripe_configured)
    for client in (in_a.client_a, in_a.client_a2):
        create_contract(in_a.company_a, client, {
            "name": "Managed", "start_date": "2025-01-01", "billing_cycle": "monthly",
            "items": [{"kind": "fixed", "description": "Seats", "quantity": "3",
                       "unit_price": "25.00"}]})
    result = recurring.run_recurring(in_a.company_a, date(2025, 2, 1))
    assert len(result.invoices) == 4
    attempts = PaymentAttempt.objects.all()
    assert {a.invoice.client_id for a in attempts} == {in_a.client_a.pk}
    assert attempts.count() == 2  # January and February of the auto-pay client
