"""Auto-pay: charge a just-issued invoice to its client's auto-pay card.

Payments reacts to billing's ``invoice.issued`` event (subscribed in
``PaymentsConfig.ready()``), inside the issuing transaction: the attempt is created there
and the charge (task ``run_payment_attempt``) is enqueued after commit. The hourly dunning
job also starts auto-pay for open invoices that never got an attempt.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from nestogy.billing.models import Invoice
from nestogy.billing.settlement import OPEN
from nestogy.core.events import Event, current_batch, memo
from nestogy.core.tasks import enqueue_on_commit
from nestogy.payments.charging import start_charge
from nestogy.payments.methods import method_for
from nestogy.payments.models import PaymentAttempt, PaymentMethodOnFile
from nestogy.payments.tasks import run_payment_attempt


def charge_invoice(invoice: Invoice, *, actor=None) -> PaymentAttempt | None:
    """Auto-pay: when ``invoice`` is issued to a client with an auto-pay card, charge it.

    Creates the attempt in the caller's transaction and enqueues the charge (task
    ``run_payment_attempt``) after commit. Returns ``None`` when the client has no auto-pay
    method or the invoice owes nothing. Called for every ``invoice.issued`` event
    (:func:`on_invoice_issued`); the hourly dunning job also picks up any auto-pay invoice
    without an attempt.
    """
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status not in OPEN \
            or invoice.balance <= 0:
        return None
    if method_for(invoice.client_id, auto_pay_only=True) is None:
        return None
    if PaymentAttempt.objects.filter(invoice=invoice).exists():
        return None
    attempt = start_charge(invoice, trigger="auto_pay", auto_pay_only=True, actor=actor)
    enqueue_on_commit(run_payment_attempt, attempt.company_id, attempt.pk)
    return attempt


def _auto_pay_clients() -> set[int]:
    """Clients with an active auto-pay card among the invoices issued in this dispatch (one
    query for a whole recurring run; the other clients cost nothing more)."""
    client_ids = {event.data.get("client_id") for event in current_batch()
                  if event.type == "invoice.issued"}
    return set(PaymentMethodOnFile.objects.filter(
        client_id__in=client_ids, is_active=True, auto_pay=True)
        .values_list("client_id", flat=True))


def _actor(actor_id: int | None) -> Any:
    if actor_id is None:
        return None
    return memo(("payments.actor", actor_id),
                lambda: get_user_model().objects.filter(pk=actor_id).first())


def on_invoice_issued(event: Event) -> None:
    """Reaction to ``invoice.issued`` (inside the issuing transaction): auto-pay the invoice
    when its client has an auto-pay card."""
    if event.data.get("client_id") not in memo(("payments.auto_pay_clients",),
                                               _auto_pay_clients):
        return
    invoice = Invoice.objects.get(pk=event.data["invoice_id"])
    charge_invoice(invoice, actor=_actor(event.actor_id))
