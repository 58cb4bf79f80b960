"""Billing's events: a recurring run announces each issued invoice (``invoice.issued`` with
``recurring: true``) to company webhooks and to reactions, not to staff one by one; voids
and credit notes emit the event named like their audit action."""

from __future__ import annotations

from datetime import date

import pytest

from nestogy.audit.models import AuditEntry
from nestogy.billing import recurring
from nestogy.billing.actions import (
    create_credit_note,
    create_invoice,
    issue_invoice,
    void_invoice,
)
from nestogy.billing.models import Invoice
from nestogy.core import events as core_events
from nestogy.notifications.models import Delivery, StoredEvent, WebhookEndpoint
from tests.billing.helpers import make_contract


@pytest.fixture
def emitted():
    seen: list = []
    core_events.subscribe(seen.append)
    yield seen
    core_events.unsubscribe(seen.append)


def _issued(client, amount="100.00"):
    invoice = create_invoice(client.company, client, {"items": [
        {"description": "Project work", "unit_price": amount, "taxable": False}]})
    return issue_invoice(invoice)


def test_recurring_run_emits_invoice_issued_per_invoice_for_webhooks_only(in_a, emitted):
    p = in_a
    make_contract(p.company_a, p.client_a, metered=False)
    make_contract(p.company_a, p.client_a2, metered=False)
    WebhookEndpoint.objects.create(company=p.company_a, name="Books", url="https://books.test/in",
                                   event_types=["invoice.issued"])
    result = recurring.run_recurring(p.company_a, date(2025, 1, 1))
    assert len(result.invoices) == 2
    issued = [e for e in emitted if e.type == "invoice.issued"]
    ids = {i.pk for i in Invoice.objects.filter(status=Invoice.Status.ISSUED)}
    assert {e.data["invoice_id"] for e in issued} == ids and len(issued) == 2
    assert all(e.data["recurring"] is True for e in issued)
    assert {e.data["client_id"] for e in issued} == {p.client_a.pk, p.client_a2.pk}
    deliveries = Delivery.objects.filter(event_type="invoice.issued")
    assert sorted(d.channel for d in deliveries) == ["webhook", "webhook"]
    # the billing people hear of the run once
    assert Delivery.objects.filter(event_type="invoice.recurring_run",
                                   recipient_user_id=p.billing_a.user.pk).exists()


def test_recurring_invoice_events_nobody_receives_are_not_stored(in_a, emitted):
    p = in_a
    make_contract(p.company_a, p.client_a, metered=False)
    recurring.run_recurring(p.company_a, date(2025, 1, 1))
    assert [e.type for e in emitted].count("invoice.issued") == 1
    assert not StoredEvent.objects.filter(type="invoice.issued").exists()
    assert StoredEvent.objects.filter(type="invoice.recurring_run").count() == 1


def test_an_invoice_issued_by_hand_still_reaches_the_billing_people(in_a, emitted):
    p = in_a
    invoice = _issued(p.client_a)
    [event] = [e for e in emitted if e.type == "invoice.issued"]
    assert event.data["recurring"] is False and event.data["invoice_id"] == invoice.pk
    assert Delivery.objects.filter(event_type="invoice.issued", channel="inapp",
                                   recipient_user_id=p.billing_a.user.pk).exists()


def test_void_and_credit_note_emit_the_event_named_like_their_audit_action(in_a, emitted):
    p = in_a
    corrected = _issued(p.client_a, "100.00")
    note = create_credit_note(corrected, {"items": [
        {"description": "Goodwill", "unit_price": "30.00", "taxable": False}],
        "reason": "Goodwill"})
    voided = _issued(p.client_a2, "50.00")
    void_invoice(voided, reason="Sent twice")
    by_type = {e.type: e for e in emitted}
    credit = by_type["credit_note.issued"]
    assert credit.data["invoice_id"] == note.pk and credit.data["total"] == "30.00"
    assert credit.data["credits_invoice_id"] == corrected.pk
    void = by_type["invoice.voided"]
    assert void.data["invoice_id"] == voided.pk and void.data["reason"] == "Sent twice"
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"credit_note.issued", "invoice.voided"} <= actions
    assert "invoice.credit_note_issued" not in actions
    # staff get them only on channels they choose: nothing by default
    assert not Delivery.objects.filter(event_type__in=["credit_note.issued",
                                                       "invoice.voided"]).exists()


def test_new_billing_events_render(in_a):
    from nestogy.notifications.render import Renderer

    p = in_a
    corrected = _issued(p.client_a, "100.00")
    WebhookEndpoint.objects.create(company=p.company_a, name="Books", url="https://books.test/in")
    create_credit_note(corrected, {"reason": "Cancelled"})
    voided = _issued(p.client_a2, "50.00")
    void_invoice(voided, reason="Sent twice")
    renderer = Renderer()
    stored = StoredEvent.objects.get(type="credit_note.issued")
    credit = renderer.render(p.company_a.pk, "credit_note.issued", "inapp", stored.context)
    assert credit.title.startswith("Credit note ") and p.client_a.name in credit.title
    assert f"against invoice {corrected.number} (Cancelled)" in credit.body
    stored = StoredEvent.objects.get(type="invoice.voided")
    void = renderer.render(p.company_a.pk, "invoice.voided", "inapp", stored.context)
    assert void.title == f"Invoice {voided.number} for {p.client_a2.name} voided"
    assert void.body.endswith("was voided: Sent twice.")
