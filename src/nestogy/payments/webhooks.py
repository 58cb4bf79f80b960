"""Processing stored gateway webhooks, idempotently.

:func:`nestogy.payments.webhook_intake.receive` runs in the web request: it verifies the
signature (docs/payments.md; a bad signature or a stale timestamp raises
``VerificationFailed`` and the endpoint answers 400 with one message whatever the reason, so
the answer tells nothing about which secrets exist), stores the event under a unique
``(gateway, event_id)`` constraint and enqueues :func:`process_event` (task
``process_webhook_event``) after commit. A replayed event id hits the constraint: nothing is
stored or enqueued again.

Processing claims the row (``received`` → ``processing`` by conditional UPDATE), finds the
company from the object's metadata (``nestogy_company``) or from the payment it names, and
applies the event through the same public functions as the synchronous path, which are idempotent
themselves (an attempt's outcome is recorded once; a gateway charge is one payment).

Handled types: ``payment_intent.succeeded``, ``payment_intent.payment_failed``,
``charge.refunded``, ``charge.dispute.created``. Others are stored and marked ``ignored``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from nestogy.audit.actions import log_action
from nestogy.billing.models import Invoice
from nestogy.core.events import emit
from nestogy.payments.charging import record_charge_result
from nestogy.payments.gateways import ChargeResult
from nestogy.payments.gateways.base import from_minor
from nestogy.payments.models import Payment, PaymentAttempt, WebhookEvent
from nestogy.payments.recording import record_gateway_payment
from nestogy.payments.refunds import record_refund
from nestogy.tenancy.models import Company

logger = logging.getLogger(__name__)

HANDLED = ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded",
           "charge.dispute.created")


def _company_for(obj: dict[str, Any], gateway: str) -> int | None:
    public_id = (obj.get("metadata") or {}).get("nestogy_company")
    if public_id:
        company_id = Company.objects.filter(public_id=public_id).values_list("id",
                                                                              flat=True).first()
        if company_id:
            return company_id
    reference = obj.get("payment_intent") if obj.get("object") != "payment_intent" \
        else obj.get("id")
    if isinstance(reference, dict):
        reference = reference.get("id")
    if not reference:
        return None
    with scopes_disabled():
        for model in (Payment, PaymentAttempt):
            company_id = (model.objects.filter(gateway=gateway, gateway_reference=reference)
                          .values_list("company_id", flat=True).first())
            if company_id:
                return company_id
    return None


def process_event(event_id: int) -> str:
    """Apply one stored event; returns its final status. Safe to call more than once."""
    now = timezone.now()
    claimed = WebhookEvent.objects.filter(
        pk=event_id, status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED]
    ).update(status=WebhookEvent.Status.PROCESSING)
    event = WebhookEvent.objects.get(pk=event_id)
    if not claimed:
        return event.status
    obj = (event.payload.get("data") or {}).get("object") or {}
    status = WebhookEvent.Status.IGNORED
    error = ""
    company_id = _company_for(obj, event.gateway) if event.type in HANDLED else None
    try:
        if company_id is not None:
            with scope(company=company_id):
                handled = HANDLERS[event.type](event, obj)
            status = WebhookEvent.Status.PROCESSED if handled else WebhookEvent.Status.IGNORED
    except Exception as exc:  # recorded on the row; the task may be re-run
        logger.exception("webhook %s failed", event.event_id)
        status, error = WebhookEvent.Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    WebhookEvent.objects.filter(pk=event_id).update(status=status, company_id=company_id,
                                                    processed_at=now, error=error)
    return status


def _attempt_for(obj: dict[str, Any], gateway: str) -> PaymentAttempt | None:
    attempt_id = (obj.get("metadata") or {}).get("nestogy_attempt")
    if attempt_id:
        attempt = PaymentAttempt.objects.filter(public_id=attempt_id).first()
        if attempt is not None:
            return attempt
    return PaymentAttempt.objects.filter(gateway=gateway,
                                         gateway_reference=obj.get("id", "")).first()


def _intent_succeeded(event: WebhookEvent, obj: dict[str, Any]) -> bool:
    currency = str(obj.get("currency", "")).upper()
    amount = from_minor(int(obj.get("amount_received") or obj.get("amount") or 0), currency)
    attempt = _attempt_for(obj, event.gateway)
    if attempt is not None:
        record_charge_result(attempt.pk, ChargeResult(
            status=ChargeResult.SUCCEEDED, reference=obj["id"], amount=amount,
            currency=currency))
        return True
    invoice_id = (obj.get("metadata") or {}).get("nestogy_invoice")
    invoice = Invoice.objects.filter(public_id=invoice_id).first() if invoice_id else None
    if invoice is None or amount <= 0:
        return False
    # A hosted-checkout payment (the portal's "pay this invoice").
    record_gateway_payment(invoice, amount=amount, gateway=event.gateway,
                                   reference=obj["id"])
    return True


def _intent_failed(event: WebhookEvent, obj: dict[str, Any]) -> bool:
    attempt = _attempt_for(obj, event.gateway)
    if attempt is None:
        return False
    error = obj.get("last_payment_error") or {}
    record_charge_result(attempt.pk, ChargeResult(
        status=ChargeResult.DECLINED, reference=obj.get("id", ""),
        decline_code=error.get("decline_code") or error.get("code") or "declined",
        message=error.get("message") or "payment failed"))
    return True


def _charge_refunded(event: WebhookEvent, obj: dict[str, Any]) -> bool:
    reference = obj.get("payment_intent")
    payment = Payment.objects.filter(gateway=event.gateway,
                                     gateway_reference=reference).first() if reference else None
    if payment is None:
        return False
    refunded = from_minor(int(obj.get("amount_refunded") or 0), payment.currency)
    missing = refunded - payment.amount_refunded
    if missing <= 0:
        return True  # already known (refunded from Nestogy, or a replay)
    record_refund(payment.pk, missing, reason="refunded at the gateway",
                           reference=f"{obj.get('id', '')}:{int(obj.get('amount_refunded'))}")
    return True


@transaction.atomic
def _dispute_created(event: WebhookEvent, obj: dict[str, Any]) -> bool:
    reference = obj.get("payment_intent")
    payment = (Payment.objects.select_for_update()
               .filter(gateway=event.gateway, gateway_reference=reference).first()
               if reference else None)
    if payment is None:
        return False
    if payment.status == Payment.Status.DISPUTED:
        return True
    payment.status = Payment.Status.DISPUTED
    payment.save(update_fields=["status", "updated_at"])
    amount = from_minor(int(obj.get("amount") or 0), payment.currency)
    log_action(payment, "payment.disputed",
               data={"dispute": obj.get("id"), "reason": obj.get("reason"),
                     "amount": str(amount)})
    emit("payment.disputed", company_id=payment.company_id,
         data={"payment_id": payment.pk, "client_id": payment.client_id,
               "amount": str(amount), "currency": payment.currency,
               "reason": obj.get("reason") or "", "dispute": obj.get("id") or ""})
    return True


def reprocess_stale(*, now=None, stale_after=None, limit: int = 500) -> int:
    """Process events whose task never ran or failed (hourly safety net); returns how many.

    ``received`` rows older than ``stale_after`` (default 15 minutes: their task was lost)
    and ``failed`` rows are processed again; processing is idempotent, so a row that was
    in fact applied changes nothing.
    """
    from datetime import timedelta

    now = now or timezone.now()
    cutoff = now - (stale_after or timedelta(minutes=15))
    ids = list(WebhookEvent.objects.filter(
        status__in=[WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED],
        received_at__lte=cutoff).order_by("id").values_list("id", flat=True)[:limit])
    for event_id in ids:
        process_event(event_id)
    return len(ids)


HANDLERS = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
}
