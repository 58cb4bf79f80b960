"""Charging a card on file: attempts, their outcomes, reconciliation, hosted checkout.

- A charge attempt is created (and committed) *before* the gateway is called; the network
  call happens outside any transaction; its result is recorded under a row lock and only
  once (:func:`record_charge_result` ignores a result for an attempt already final). A
  timeout leaves the attempt ``unknown`` and due for reconciliation, which re-sends the
  **same** idempotency key: the gateway answers the original outcome and charges nothing
  new.
- A decline schedules the next retry on the company's
  :class:`~nestogy.payments.retry_policy.RetryPolicy` and emits ``payment.failed``; the
  decline after the last retry writes a :class:`CollectionsFlag` (once) and emits
  ``payment.retries_exhausted`` instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from nestogy.audit.actions import log_action
from nestogy.billing.models import Invoice
from nestogy.billing.settlement import lock_invoice, require_payable
from nestogy.core.errors import Conflict
from nestogy.core.events import emit
from nestogy.payments.gateways import (
    ChargeResult,
    Gateway,
    PermanentGatewayError,
    TransientGatewayError,
    get_gateway,
)
from nestogy.payments.methods import method_for
from nestogy.payments.models import (
    CollectionsFlag,
    PaymentAttempt,
    PaymentMethodOnFile,
)
from nestogy.payments.recording import record_gateway_payment
from nestogy.payments.retry_policy import RetryPolicy

# How long to wait before asking again about a charge that got no answer (timeout, 5xx).
RECONCILE_DELAY = timedelta(minutes=5)
# Stripe keeps idempotency keys for 24 hours; after that a re-sent key would charge anew, so
# an attempt still without an answer by then is handed to a person instead.
RECONCILE_WINDOW = timedelta(hours=20)


def new_attempt(invoice: Invoice, method: PaymentMethodOnFile, *, trigger: str,
                 worker: str = "") -> PaymentAttempt:
    """The next attempt of a locked invoice, with its own idempotency key."""
    last = (PaymentAttempt.objects.filter(invoice=invoice)
            .aggregate(n=Max("attempt_number"))["n"] or 0)
    number = last + 1
    now = timezone.now()
    return PaymentAttempt.objects.create(
        company_id=invoice.company_id, invoice=invoice, client_id=invoice.client_id,
        payment_method=method, attempt_number=number,
        idempotency_key=f"inv_{invoice.public_id}_attempt_{number}", trigger=trigger,
        amount=invoice.balance, currency=invoice.currency, gateway=method.gateway,
        claimed_by=worker, claimed_at=now if worker else None)


@transaction.atomic
def start_charge(invoice: Invoice, *, trigger: str = "manual", auto_pay_only: bool = False,
                 actor=None) -> PaymentAttempt:
    """Create (and commit) the next attempt to charge ``invoice``'s balance to its card."""
    invoice = lock_invoice(invoice.pk)
    require_payable(invoice)
    if invoice.balance <= 0:
        raise Conflict("the invoice has nothing to pay")
    method = method_for(invoice.client_id, auto_pay_only=auto_pay_only)
    if method is None:
        raise Conflict("the client has no payment method on file"
                       + (" with auto-pay" if auto_pay_only else ""))
    if trigger == "auto_pay" and PaymentAttempt.objects.filter(invoice=invoice).exists():
        raise Conflict("auto-pay already charged this invoice; retries follow the schedule")
    in_flight = PaymentAttempt.objects.filter(
        invoice=invoice, status__in=[PaymentAttempt.Status.PENDING,
                                     PaymentAttempt.Status.UNKNOWN]).first()
    if in_flight is not None:
        raise Conflict(f"attempt {in_flight.attempt_number} of this invoice has no outcome "
                       "yet; it is reconciled automatically")
    # Trying now replaces any scheduled retry.
    PaymentAttempt.objects.filter(invoice=invoice, next_retry_at__isnull=False).update(
        next_retry_at=None)
    attempt = new_attempt(invoice, method, trigger=trigger)
    log_action(attempt, "payment.attempt_started", actor=actor,
               data={"invoice": invoice.number, "attempt": attempt.attempt_number,
                     "amount": str(attempt.amount), "trigger": trigger})
    return attempt


def run_attempt(attempt_id: int, *, gateway: Gateway | None = None) -> PaymentAttempt:
    """Send an attempt to the gateway (again, for reconciliation) and record the outcome.

    Must not run inside a transaction: the network call holds no locks. Safe to run twice
    at once: both send the same idempotency key and the outcome is recorded once.
    """
    with transaction.atomic():
        attempt = (PaymentAttempt.objects.select_for_update(of=("self",))
                   .select_related("payment_method", "invoice", "company").get(pk=attempt_id))
        if attempt.status not in (PaymentAttempt.Status.PENDING,
                                  PaymentAttempt.Status.UNKNOWN):
            return attempt
        attempt.sends += 1
        attempt.attempted_at = timezone.now()
        attempt.save(update_fields=["sends", "attempted_at", "updated_at"])
    method = attempt.payment_method
    invoice = attempt.invoice
    gw = gateway or get_gateway(attempt.gateway, company=attempt.company)
    reconciling = attempt.status == PaymentAttempt.Status.UNKNOWN
    try:
        if reconciling and attempt.gateway_reference:
            # The gateway said "processing": look the charge up rather than re-send.
            return record_charge_result(attempt.pk,
                                        gw.retrieve_charge(attempt.gateway_reference))
        if reconciling and timezone.now() - attempt.created_at > RECONCILE_WINDOW:
            raise PermanentGatewayError(
                "no answer from the gateway within the idempotency window; check the "
                "gateway dashboard for this key before charging again", code="reconcile_expired")
        if method is None or not method.is_active:
            raise PermanentGatewayError("the payment method was removed",
                                        code="payment_method_removed")
        result = gw.charge(
            amount=attempt.amount, currency=attempt.currency,
            customer_reference=method.customer_reference,
            payment_method_reference=method.payment_method_reference,
            idempotency_key=attempt.idempotency_key,
            description=f"Invoice {invoice.number}",
            metadata={"nestogy_company": attempt.company.public_id,
                      "nestogy_invoice": invoice.public_id,
                      "nestogy_attempt": attempt.public_id})
    except TransientGatewayError as exc:
        return _record_unknown(attempt.pk, exc)
    except PermanentGatewayError as exc:
        return _record_error(attempt.pk, exc)
    return record_charge_result(attempt.pk, result)


@transaction.atomic
def _record_unknown(attempt_id: int, exc: TransientGatewayError) -> PaymentAttempt:
    attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
    if attempt.status not in (PaymentAttempt.Status.PENDING, PaymentAttempt.Status.UNKNOWN):
        return attempt
    attempt.status = PaymentAttempt.Status.UNKNOWN
    attempt.error_code = (exc.code or "no_answer")[:100]
    attempt.error_message = exc.message[:500]
    attempt.next_retry_at = timezone.now() + RECONCILE_DELAY
    attempt.save()
    log_action(attempt, "payment.attempt_unknown",
               data={"attempt": attempt.attempt_number, "error": attempt.error_message,
                     "reconcile_at": attempt.next_retry_at})
    return attempt


@transaction.atomic
def _record_error(attempt_id: int, exc: PermanentGatewayError) -> PaymentAttempt:
    attempt = PaymentAttempt.objects.select_for_update(of=("self",)).select_related(
        "invoice").get(
        pk=attempt_id)
    if attempt.status not in (PaymentAttempt.Status.PENDING, PaymentAttempt.Status.UNKNOWN):
        return attempt
    attempt.status = PaymentAttempt.Status.ERROR
    attempt.error_code = (exc.code or "error")[:100]
    attempt.error_message = exc.message[:500]
    attempt.completed_at = timezone.now()
    attempt.next_retry_at = None
    attempt.save()
    log_action(attempt, "payment.attempt_error",
               data={"attempt": attempt.attempt_number, "error": attempt.error_message})
    emit("payment.failed", company_id=attempt.company_id,
         data=_attempt_event(attempt, retry_at=None))
    return attempt


def _attempt_event(attempt: PaymentAttempt, *, retry_at: datetime | None) -> dict[str, Any]:
    return {"attempt_id": attempt.pk, "invoice_id": attempt.invoice_id,
            "client_id": attempt.client_id, "invoice_number": attempt.invoice.number,
            "attempt_number": attempt.attempt_number, "amount": str(attempt.amount),
            "currency": attempt.currency, "error_code": attempt.error_code,
            "error_message": attempt.error_message,
            "next_retry_at": retry_at.isoformat() if retry_at else None}


@transaction.atomic
def record_charge_result(attempt_id: int, result: ChargeResult, *,
                         rng: Any = None) -> PaymentAttempt:
    """Record the gateway's answer for an attempt, once. Later answers for it are ignored."""
    attempt = (PaymentAttempt.objects.select_for_update(of=("self",))
               .select_related("invoice", "company").get(pk=attempt_id))
    final = (PaymentAttempt.Status.SUCCEEDED, PaymentAttempt.Status.CANCELLED)
    if attempt.status in final:
        return attempt
    now = timezone.now()
    if result.reference and not attempt.gateway_reference:
        attempt.gateway_reference = result.reference
    if result.succeeded:
        payment, _ = record_gateway_payment(
            attempt.invoice, amount=result.amount or attempt.amount, gateway=attempt.gateway,
            reference=result.reference or attempt.idempotency_key)
        attempt.status = PaymentAttempt.Status.SUCCEEDED
        attempt.payment = payment
        attempt.completed_at = now
        attempt.next_retry_at = None
        attempt.error_code = attempt.error_message = ""
        attempt.save()
        return attempt
    if result.status == ChargeResult.PENDING:
        # Processing at the gateway: ask again later with the same key (or the webhook says).
        attempt.status = PaymentAttempt.Status.UNKNOWN
        attempt.next_retry_at = now + RECONCILE_DELAY
        attempt.save()
        return attempt
    if attempt.status == PaymentAttempt.Status.DECLINED:
        return attempt
    attempt.status = PaymentAttempt.Status.DECLINED
    attempt.error_code = (result.decline_code or "declined")[:100]
    attempt.error_message = (result.message or "declined")[:500]
    attempt.completed_at = now
    policy = RetryPolicy.for_company(attempt.company)
    retry_at = policy.next_retry_at(now, attempt.attempt_number, rng=rng)
    attempt.next_retry_at = retry_at
    attempt.claimed_by = ""
    attempt.save()
    log_action(attempt, "payment.attempt_declined",
               data={"attempt": attempt.attempt_number, "code": attempt.error_code,
                     "next_retry_at": retry_at})
    if retry_at is not None:
        emit("payment.failed", company_id=attempt.company_id,
             data=_attempt_event(attempt, retry_at=retry_at))
        return attempt
    _, created = CollectionsFlag.objects.get_or_create(
        company_id=attempt.company_id, invoice=attempt.invoice,
        defaults={"failures": attempt.attempt_number, "last_error": attempt.error_message})
    if created:
        log_action(attempt.invoice, "payment.retries_exhausted",
                   data={"failures": attempt.attempt_number, "last_error": attempt.error_code})
        emit("payment.retries_exhausted", company_id=attempt.company_id,
             data=_attempt_event(attempt, retry_at=None))
    return attempt


def retry_payment_now(invoice: Invoice, *, actor=None,
                      gateway: Gateway | None = None) -> PaymentAttempt:
    """``POST /invoices/{id}/retry-payment``: charge the card on file at once."""
    attempt = start_charge(invoice, trigger="manual", actor=actor)
    return run_attempt(attempt.pk, gateway=gateway)


def start_checkout(invoice: Invoice, *, success_url: str, cancel_url: str,
                   gateway: Gateway | None = None) -> str:
    """A hosted payment page for the invoice's balance (the portal's "pay this invoice").

    Returns the URL to redirect the client to. The payment is recorded when the gateway's
    ``payment_intent.succeeded`` webhook arrives (its metadata names the invoice).
    """
    require_payable(invoice)
    if invoice.balance <= 0:
        raise Conflict("the invoice has nothing to pay")
    company = invoice.company
    gw = gateway or get_gateway(company.get_setting("payments.gateway"), company=company)
    customer = (PaymentMethodOnFile.objects.filter(client_id=invoice.client_id,
                                                   gateway=gw.name)
                .values_list("customer_reference", flat=True).first() or "")
    meta = {"nestogy_company": company.public_id, "nestogy_invoice": invoice.public_id}
    balance_key = str(invoice.balance).replace(".", "_")
    try:
        session = gw.create_checkout_session(
            amount=invoice.balance, currency=invoice.currency,
            description=f"Invoice {invoice.number}", success_url=success_url,
            cancel_url=cancel_url, customer_reference=customer, metadata=meta,
            idempotency_key=f"checkout_{invoice.public_id}_{balance_key}")
    except (TransientGatewayError, PermanentGatewayError) as exc:
        raise Conflict(f"the payment page is not available: {exc.message}") from None
    return session.url

