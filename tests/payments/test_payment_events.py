"""Payments emit the event named like their audit action: a recorded payment is
``payment.succeeded``, a refund ``payment.refunded``, an invoice sent to collections
``payment.retries_exhausted``; stored audit rows are renamed by a data migration."""

from __future__ import annotations

import importlib
from decimal import Decimal

from django.apps import apps as django_apps

from nestogy.audit.actions import log_action
from nestogy.audit.models import AuditEntry
from nestogy.notifications.models import Delivery
from nestogy.payments import recording, refunds
from tests.payments.conftest import issued_invoice


def test_refund_emits_payment_refunded_and_audits_under_the_same_name(in_a, events):
    invoice = issued_invoice(in_a.client_a, "100.00")
    payment = recording.record_invoice_payment(invoice, {"amount": "100.00",
                                                         "method": "bank_transfer"})
    refund = refunds.refund_payment(payment, {"amount": "40.00", "reason": "Overbilled"})
    [event] = [e for e in events if e.type == "payment.refunded"]
    assert event.data["payment_id"] == payment.pk and event.data["refund_id"] == refund.pk
    assert Decimal(event.data["amount"]) == Decimal("40.00")
    assert event.data["payment_status"] == "partially_refunded"
    assert event.data["reason"] == "Overbilled"
    assert AuditEntry.objects.filter(action="payment.refunded",
                                     object_id=refund.public_id).exists()
    assert AuditEntry.objects.filter(action="payment.succeeded",
                                     object_id=payment.public_id).exists()
    assert not AuditEntry.objects.filter(action="payment.recorded").exists()
    # staff hear of refunds only on channels they chose: nothing by default
    assert not Delivery.objects.filter(event_type="payment.refunded").exists()


def test_data_migration_renames_stored_audit_actions_both_ways(in_a):
    invoice = issued_invoice(in_a.client_a, "10.00")
    old = [log_action(invoice, "payment.recorded"),
           log_action(invoice, "invoice.sent_to_collections")]
    note = log_action(invoice, "invoice.credit_note_issued")
    payments_migration = importlib.import_module(
        "nestogy.payments.migrations.0002_rename_audit_actions_to_event_names")
    billing_migration = importlib.import_module(
        "nestogy.billing.migrations.0002_rename_credit_note_audit_action")

    def actions():
        return [AuditEntry.objects.get(pk=e.pk).action for e in (*old, note)]

    payments_migration.forward(django_apps, None)
    billing_migration.forward(django_apps, None)
    assert actions() == ["payment.succeeded", "payment.retries_exhausted",
                         "credit_note.issued"]
    payments_migration.backward(django_apps, None)
    billing_migration.backward(django_apps, None)
    assert actions() == ["payment.recorded", "invoice.sent_to_collections",
                         "invoice.credit_note_issued"]


def test_receipt_context_is_stored_as_plain_values(in_a, caplog):
    from nestogy.notifications.models import StoredEvent

    invoice = issued_invoice(in_a.client_a, "25.00")
    with caplog.at_level("WARNING", logger="nestogy.notifications.fanout"):
        recording.record_invoice_payment(invoice, {"amount": "25.00", "method": "cash"})
    stored = StoredEvent.objects.get(type="payment.succeeded")
    assert stored.context["client"] == {"name": in_a.client_a.name}
    assert stored.context["client_name"] == in_a.client_a.name
    assert stored.context["company"] == {"name": in_a.client_a.company.name}
    assert "is not JSON" not in caplog.text
