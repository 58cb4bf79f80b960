"""Every change to payments: recording, allocating, credit, refunds, cards, charges, dunning.

Rules (docs/payments.md and the docstring of ``payments.models``):

- Invoice totals move only through :func:`_settle_invoice`, which locks the invoice row
  (``select_for_update``) and applies the amount with billing's ``apply_payment_amount``;
  an open invoice with a balance whose due date has passed stays (or becomes) ``overdue``.
- Money never exceeds what is owed: an allocation is at most the invoice balance; the rest
  of a payment is the client's credit (``Payment.unapplied``).
- A charge attempt is created (and committed) *before* the gateway is called; the network
  call happens outside any transaction; its result is recorded under a row lock and only
  once (:func:`record_charge_result` ignores a result for an attempt already final). A
  timeout leaves the attempt ``unknown`` and due for reconciliation, which re-sends the
  **same** idempotency key: the gateway answers the original outcome and charges nothing
  new. Gateway charges are recorded as payments once, by a unique constraint on
  ``(company, gateway, gateway_reference)``.
- Failed automatic charges are retried on the company's :class:`RetryPolicy`; when retries
  are exhausted the invoice gets a :class:`CollectionsFlag` (once) and
  ``payment.retries_exhausted`` is emitted.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from nestogy.audit.actions import log_action
from nestogy.billing.actions import apply_payment_amount
from nestogy.billing.models import Invoice
from nestogy.clients.models import Client
from nestogy.core.errors import Conflict, ValidationError
from nestogy.core.events import emit
from nestogy.core.tasks import enqueue_on_commit
from nestogy.core.validation import clean_amount, clean_moment, clean_text
from nestogy.payments.dunning import RetryPolicy
from nestogy.payments.gateways import (
    ChargeResult,
    Gateway,
    PermanentGatewayError,
    TransientGatewayError,
    get_gateway,
)
from nestogy.payments.models import (
    ZERO,
    CollectionsFlag,
    Payment,
    PaymentAllocation,
    PaymentAttempt,
    PaymentMethodOnFile,
    Refund,
)
from nestogy.tenancy.queries import company_today

logger = logging.getLogger(__name__)

OPEN = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.OVERDUE)
# How long to wait before asking again about a charge that got no answer (timeout, 5xx).
RECONCILE_DELAY = timedelta(minutes=5)
# Stripe keeps idempotency keys for 24 hours; after that a re-sent key would charge anew, so
# an attempt still without an answer by then is handed to a person instead.
RECONCILE_WINDOW = timedelta(hours=20)
PAYMENT_FIELDS = {"amount", "method", "reference", "received_at", "notes"}


# Stored precision of money columns. SQLite sums DECIMAL columns in floating point
# (0.06 may come back as 0.0600000000000001), so every SQL sum is re-quantized to it.
PLACES = Decimal("0.0001")


def db_sum(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(PLACES)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


# -- validation helpers ---------------------------------------------------------------------






def _payment_fields(data: dict[str, Any], currency: str) -> dict[str, Any]:
    unknown = set(data) - PAYMENT_FIELDS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a payment field")
    if "amount" not in data:
        raise ValidationError("amount", "is required")
    if data.get("method") not in Payment.Method.values:
        raise ValidationError("method", f"must be one of {', '.join(Payment.Method.values)}")
    return {"amount": clean_amount(data["amount"], currency), "method": data["method"],
            "reference": clean_text(data.get("reference"), "reference", max_length=200),
            "received_at": clean_moment(data.get("received_at"), "received_at", default_now=True,
                                        not_future=True),
            "notes": clean_text(data.get("notes"), "notes", max_length=2000)}


# -- invoices -------------------------------------------------------------------------------
def _lock_invoice(invoice_id: int) -> Invoice:
    return Invoice.objects.select_for_update(of=("self",)).select_related(
        "company", "client").get(
        pk=invoice_id)


def _require_open(invoice: Invoice) -> None:
    if invoice.kind != Invoice.Kind.INVOICE:
        raise Conflict("payments apply to invoices, not credit notes")
    if invoice.status not in OPEN:
        raise Conflict(f"a {invoice.status} invoice takes no payments")


def _settle_invoice(invoice: Invoice, amount: Decimal) -> Invoice:
    """Add ``amount`` (negative for a reversal) to a locked invoice's payments."""
    apply_payment_amount(invoice, amount)
    if (invoice.balance > 0 and invoice.due_date is not None
            and invoice.due_date < company_today(invoice.company)
            and invoice.status != Invoice.Status.OVERDUE):
        invoice.status = Invoice.Status.OVERDUE
        invoice.save(update_fields=["status", "updated_at"])
    return invoice


def _allocate(payment: Payment, invoice: Invoice, amount: Decimal, *,
              from_credit: bool = False) -> PaymentAllocation:
    """Apply ``amount`` of ``payment`` to a locked open ``invoice``."""
    if amount > invoice.balance:
        raise ValidationError("amount", f"exceeds the balance {invoice.balance} of invoice "
                                        f"{invoice.number}")
    allocation = PaymentAllocation.objects.create(company_id=payment.company_id,
                                                  payment=payment, invoice=invoice,
                                                  amount=amount, from_credit=from_credit)
    _settle_invoice(invoice, amount)
    return allocation


def _event_data(payment: Payment, invoices: list[Invoice]) -> dict[str, Any]:
    return {"payment_id": payment.pk, "client_id": payment.client_id,
            "amount": str(payment.amount), "currency": payment.currency,
            "method": payment.method, "reference": payment.reference,
            "invoice_ids": [i.pk for i in invoices],
            "invoice_numbers": [i.number for i in invoices],
            "credit": str(payment.unapplied)}


# -- manual payments ------------------------------------------------------------------------
@transaction.atomic
def record_invoice_payment(invoice: Invoice, data: dict[str, Any], *, actor=None) -> Payment:
    """Money received against one invoice (bank transfer, check, cash, card, other).

    Whatever exceeds the invoice's balance becomes the client's credit.
    """
    invoice = _lock_invoice(invoice.pk)
    _require_open(invoice)
    fields = _payment_fields(data, invoice.currency)
    payment = Payment.objects.create(company_id=invoice.company_id, client=invoice.client,
                                     currency=invoice.currency, unapplied=fields["amount"],
                                     **fields)
    applied = min(payment.amount, invoice.balance)
    if applied > 0:
        _allocate(payment, invoice, applied)
        payment.unapplied -= applied
        payment.save(update_fields=["unapplied", "updated_at"])
    log_action(payment, "payment.recorded", actor=actor,
               data={"amount": str(payment.amount), "method": payment.method,
                     "invoice": invoice.number, "credit": str(payment.unapplied)})
    emit("payment.succeeded", company_id=payment.company_id, actor=actor,
         data=_event_data(payment, [invoice]))
    return payment


@transaction.atomic
def record_client_payment(client: Client, data: dict[str, Any],
                          allocations: list[tuple[Invoice, Decimal]] | None = None, *,
                          currency: str | None = None, actor=None) -> Payment:
    """One payment spread over several invoices.

    ``allocations`` names the invoices and amounts; without it the payment pays the
    client's open invoices oldest due first. What is left is credit.
    """
    currency = (currency or client.company.currency).upper()
    fields = _payment_fields(data, currency)
    payment = Payment.objects.create(company_id=client.company_id, client=client,
                                     currency=currency, unapplied=fields["amount"], **fields)
    remaining = payment.amount
    touched: list[Invoice] = []
    if allocations is None:
        ids = list(Invoice.objects.filter(client=client, kind=Invoice.Kind.INVOICE,
                                          status__in=OPEN, currency=currency, balance__gt=0)
                   .order_by("due_date", "id").values_list("id", flat=True))
        plan = [(invoice_id, None) for invoice_id in ids]
    else:
        plan = [(invoice.pk, amount) for invoice, amount in allocations]
        if len({pk for pk, _ in plan}) != len(plan):
            raise ValidationError("allocations", "names an invoice twice")
    for index, (invoice_id, wanted) in enumerate(plan):
        if remaining <= 0:
            break
        invoice = _lock_invoice(invoice_id)
        field = f"allocations[{index}]"
        if invoice.client_id != client.pk:
            raise ValidationError(f"{field}.invoice_id", "belongs to another client")
        if invoice.currency != currency:
            raise ValidationError(f"{field}.invoice_id", f"is in {invoice.currency}, "
                                                          f"not {currency}")
        try:
            _require_open(invoice)
        except Conflict as exc:
            raise ValidationError(f"{field}.invoice_id", exc.message) from None
        amount = min(invoice.balance, remaining) if wanted is None else wanted
        if wanted is not None:
            amount = clean_amount(wanted, currency, f"{field}.amount")
            if amount > remaining:
                raise ValidationError(f"{field}.amount", "allocations exceed the payment")
            if amount > invoice.balance:
                raise ValidationError(f"{field}.amount",
                                      f"exceeds the invoice balance {invoice.balance}")
        if amount <= 0:
            continue
        _allocate(payment, invoice, amount)
        remaining -= amount
        touched.append(invoice)
    payment.unapplied = remaining
    payment.save(update_fields=["unapplied", "updated_at"])
    log_action(payment, "payment.recorded", actor=actor,
               data={"amount": str(payment.amount), "method": payment.method,
                     "invoices": [i.number for i in touched], "credit": str(remaining)})
    emit("payment.succeeded", company_id=payment.company_id, actor=actor,
         data=_event_data(payment, touched))
    return payment


def credit_balance(client: Client, currency: str) -> Decimal:
    return db_sum(Payment.objects.filter(client=client, currency=currency.upper())
                  .aggregate(total=Sum("unapplied"))["total"])


@transaction.atomic
def apply_credit(invoice: Invoice, *, amount: Any = None, actor=None) -> Decimal:
    """Pay ``invoice`` from the client's credit (oldest credit first); return the amount."""
    invoice = _lock_invoice(invoice.pk)
    _require_open(invoice)
    wanted = invoice.balance if amount is None else clean_amount(amount, invoice.currency)
    if wanted > invoice.balance:
        raise ValidationError("amount", f"exceeds the invoice balance {invoice.balance}")
    sources = list(Payment.objects.select_for_update()
                   .filter(client_id=invoice.client_id, currency=invoice.currency,
                           unapplied__gt=0).order_by("received_at", "id"))
    available = sum((p.unapplied for p in sources), ZERO)
    if available <= 0:
        raise Conflict("the client has no credit in this currency")
    if amount is not None and wanted > available:
        raise ValidationError("amount", f"exceeds the client's credit {available}")
    left = min(wanted, available)
    applied = ZERO
    for payment in sources:
        if left <= 0:
            break
        part = min(payment.unapplied, left)
        _allocate(payment, invoice, part, from_credit=True)
        payment.unapplied -= part
        payment.save(update_fields=["unapplied", "updated_at"])
        left -= part
        applied += part
    log_action(invoice, "invoice.credit_applied", actor=actor,
               data={"amount": str(applied), "number": invoice.number})
    return applied


# -- refunds --------------------------------------------------------------------------------
def _reverse(payment: Payment, amount: Decimal) -> None:
    """Take ``amount`` back out of a locked payment: credit first, then allocations."""
    from_credit = min(payment.unapplied, amount)
    payment.unapplied -= from_credit
    left = amount - from_credit
    if left > 0:
        per_invoice = (PaymentAllocation.objects.filter(payment=payment)
                       .values("invoice_id").annotate(net=Sum("amount"))
                       .filter(net__gt=0).order_by("-invoice_id"))
        for row in per_invoice:
            if left <= 0:
                break
            part = min(db_sum(row["net"]), left)
            if part <= 0:
                continue
            invoice = _lock_invoice(row["invoice_id"])
            PaymentAllocation.objects.create(company_id=payment.company_id, payment=payment,
                                             invoice=invoice, amount=-part)
            _settle_invoice(invoice, -part)
            left -= part
    payment.amount_refunded += amount
    payment.status = (Payment.Status.REFUNDED if payment.amount_refunded >= payment.amount
                      else Payment.Status.PARTIALLY_REFUNDED)
    payment.save(update_fields=["unapplied", "amount_refunded", "status", "updated_at"])


def refund_payment(payment: Payment, data: dict[str, Any], *, actor=None,
                   gateway: Gateway | None = None) -> Refund:
    """Give money back. Card payments are refunded at the gateway first (idempotent key)."""
    unknown = set(data) - {"amount", "reason"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a refund field")
    refundable = payment.amount - payment.amount_refunded
    amount = (refundable if data.get("amount") is None
              else clean_amount(data["amount"], payment.currency))
    if refundable <= 0:
        raise Conflict("the payment is fully refunded")
    if amount > refundable:
        raise ValidationError("amount", f"exceeds the refundable {refundable}")
    reason = clean_text(data.get("reason"), "reason", max_length=300)
    reference = ""
    if payment.gateway and payment.gateway_reference:
        number = Refund.objects.filter(payment=payment).count() + 1
        gw = gateway or get_gateway(payment.gateway, company=payment.company)
        try:
            result = gw.refund(charge_reference=payment.gateway_reference, amount=amount,
                               currency=payment.currency,
                               idempotency_key=f"{payment.public_id}_refund_{number}")
        except (TransientGatewayError, PermanentGatewayError) as exc:
            raise Conflict(f"the gateway refused the refund: {exc.message}") from None
        reference = result.reference
    return _record_refund(payment.pk, amount, reason=reason, reference=reference, actor=actor)


@transaction.atomic
def _record_refund(payment_id: int, amount: Decimal, *, reason: str, reference: str,
                   actor=None) -> Refund:
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    if reference:
        existing = Refund.objects.filter(gateway_reference=reference).first()
        if existing is not None:
            return existing
    amount = min(amount, payment.amount - payment.amount_refunded)
    if amount <= 0:
        raise Conflict("the payment is fully refunded")
    refund = Refund.objects.create(company_id=payment.company_id, payment=payment,
                                   amount=amount, reason=reason, gateway_reference=reference)
    _reverse(payment, amount)
    log_action(refund, "payment.refunded", actor=actor,
               data={"payment": payment.public_id, "amount": str(amount), "reason": reason})
    return refund


# -- payment methods on file ----------------------------------------------------------------
@transaction.atomic
def add_payment_method(client: Client, data: dict[str, Any], *, actor=None,
                       gateway: Gateway | None = None) -> PaymentMethodOnFile:
    """Keep a card (tokenised by the gateway's browser SDK) on file for a client."""
    unknown = set(data) - {"payment_method_reference", "auto_pay", "gateway"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a payment method field")
    reference = clean_text(data.get("payment_method_reference"), "payment_method_reference",
                           max_length=255)
    if not reference:
        raise ValidationError("payment_method_reference", "is required")
    auto_pay = data.get("auto_pay", False)
    if not isinstance(auto_pay, bool):
        raise ValidationError("auto_pay", "must be true or false")
    name = data.get("gateway") or client.company.get_setting("payments.gateway")
    gw = gateway or get_gateway(name, company=client.company)
    existing = (PaymentMethodOnFile.objects.filter(client=client, gateway=name)
                .exclude(customer_reference="").values_list("customer_reference", flat=True)
                .first())
    try:
        customer = existing or gw.create_customer(
            email=client.email, name=client.name,
            metadata={"nestogy_company": client.company.public_id,
                      "nestogy_client": client.public_id},
            idempotency_key=f"customer_{client.public_id}")
        info = gw.attach_payment_method(customer_reference=customer,
                                        payment_method_reference=reference)
    except PermanentGatewayError as exc:
        raise ValidationError("payment_method_reference", exc.message) from None
    except TransientGatewayError as exc:
        raise Conflict(f"the gateway did not answer, try again: {exc.message}") from None
    if auto_pay:
        PaymentMethodOnFile.objects.filter(client=client, auto_pay=True).update(auto_pay=False)
    try:
        with transaction.atomic():
            method = PaymentMethodOnFile.objects.create(
                company_id=client.company_id, client=client, gateway=name,
                customer_reference=customer, payment_method_reference=info.reference,
                brand=info.brand, last4=info.last4, exp_month=info.exp_month,
                exp_year=info.exp_year, auto_pay=auto_pay)
    except IntegrityError:
        raise ValidationError("payment_method_reference", "is already on file") from None
    log_action(method, "payment_method.added", actor=actor,
               data={"client": client.public_id, "brand": method.brand, "last4": method.last4,
                     "auto_pay": auto_pay})
    return method


# -- automatic charges ----------------------------------------------------------------------
def _method_for(client_id: int, *, auto_pay_only: bool) -> PaymentMethodOnFile | None:
    qs = PaymentMethodOnFile.objects.filter(client_id=client_id, is_active=True)
    if auto_pay_only:
        qs = qs.filter(auto_pay=True)
    return qs.order_by("-auto_pay", "-id").first()


def _new_attempt(invoice: Invoice, method: PaymentMethodOnFile, *, trigger: str,
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
    invoice = _lock_invoice(invoice.pk)
    _require_open(invoice)
    if invoice.balance <= 0:
        raise Conflict("the invoice has nothing to pay")
    method = _method_for(invoice.client_id, auto_pay_only=auto_pay_only)
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
    attempt = _new_attempt(invoice, method, trigger=trigger)
    log_action(attempt, "payment.attempt_started", actor=actor,
               data={"invoice": invoice.number, "attempt": attempt.attempt_number,
                     "amount": str(attempt.amount), "trigger": trigger})
    return attempt


def charge_invoice(invoice: Invoice, *, actor=None) -> PaymentAttempt | None:
    """Auto-pay: when ``invoice`` is issued to a client with an auto-pay card, charge it.

    Creates the attempt in the caller's transaction and enqueues the charge (task
    ``run_payment_attempt``) after commit. Returns ``None`` when the client has no auto-pay
    method or the invoice owes nothing. The billing issue flow calls this (integration
    point); the hourly dunning job also picks up any auto-pay invoice without an attempt.
    """
    from nestogy.payments.tasks import run_payment_attempt

    if invoice.kind != Invoice.Kind.INVOICE or invoice.status not in OPEN \
            or invoice.balance <= 0:
        return None
    if _method_for(invoice.client_id, auto_pay_only=True) is None:
        return None
    if PaymentAttempt.objects.filter(invoice=invoice).exists():
        return None
    attempt = start_charge(invoice, trigger="auto_pay", auto_pay_only=True, actor=actor)
    enqueue_on_commit(run_payment_attempt, attempt.company_id, attempt.pk)
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
def record_gateway_payment(invoice: Invoice, *, amount: Decimal, gateway: str,
                           reference: str, actor=None) -> tuple[Payment, bool]:
    """A card payment the gateway confirmed; recorded once per gateway reference.

    Returns ``(payment, created)``. Allocates up to the invoice's balance; any excess (the
    invoice was paid otherwise meanwhile) is client credit, refundable.
    """
    existing = Payment.objects.filter(gateway=gateway, gateway_reference=reference).first()
    if existing is not None:
        return existing, False
    invoice = _lock_invoice(invoice.pk)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                company_id=invoice.company_id, client_id=invoice.client_id, amount=amount,
                currency=invoice.currency, method=Payment.Method.CARD, gateway=gateway,
                gateway_reference=reference, reference=reference, unapplied=amount)
    except IntegrityError:
        return Payment.objects.get(gateway=gateway, gateway_reference=reference), False
    applied = ZERO
    if invoice.kind == Invoice.Kind.INVOICE and invoice.status in OPEN:
        applied = min(amount, invoice.balance)
        if applied > 0:
            _allocate(payment, invoice, applied)
    payment.unapplied = amount - applied
    payment.save(update_fields=["unapplied", "updated_at"])
    if invoice.balance <= 0:
        CollectionsFlag.objects.filter(invoice=invoice, resolved_at__isnull=True).update(
            resolved_at=timezone.now())
    log_action(payment, "payment.recorded", actor=actor,
               data={"amount": str(amount), "method": "card", "gateway": gateway,
                     "reference": reference, "invoice": invoice.number,
                     "credit": str(payment.unapplied)})
    emit("payment.succeeded", company_id=payment.company_id, actor=actor,
         data=_event_data(payment, [invoice]))
    return payment, True


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
        log_action(attempt.invoice, "invoice.sent_to_collections",
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
    _require_open(invoice)
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


# -- dunning job ----------------------------------------------------------------------------
@dataclass
class DunningReport:
    dry_run: bool
    due: list[dict[str, Any]] = field(default_factory=list)
    charged: int = 0
    succeeded: int = 0
    declined: int = 0
    unknown: int = 0
    errors: int = 0
    exhausted: int = 0
    cancelled: int = 0
    skipped: int = 0
    auto_pay_started: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "dry_run", "due", "charged", "succeeded", "declined", "unknown", "errors",
            "exhausted", "cancelled", "skipped", "auto_pay_started")}


def _claim(attempt_id: int, now: datetime, worker: str) -> bool:
    """Take a due row for this worker: a conditional UPDATE only one process can win."""
    return PaymentAttempt.objects.filter(pk=attempt_id, next_retry_at__isnull=False,
                                         next_retry_at__lte=now).update(
        next_retry_at=None, claimed_by=worker, claimed_at=now) == 1


def _tally(report: DunningReport, attempt: PaymentAttempt) -> None:
    report.charged += 1
    status = attempt.status
    if status == PaymentAttempt.Status.SUCCEEDED:
        report.succeeded += 1
    elif status == PaymentAttempt.Status.DECLINED:
        report.declined += 1
        if attempt.next_retry_at is None:
            report.exhausted += 1
    elif status == PaymentAttempt.Status.UNKNOWN:
        report.unknown += 1
    else:
        report.errors += 1


@transaction.atomic
def _next_for_retry(attempt_id: int, worker: str) -> PaymentAttempt | None:
    """After claiming a declined attempt: the next attempt, or None (invoice settled)."""
    attempt = PaymentAttempt.objects.select_related("payment_method").get(pk=attempt_id)
    invoice = _lock_invoice(attempt.invoice_id)
    if invoice.status not in OPEN or invoice.balance <= 0:
        return None
    method = attempt.payment_method if (attempt.payment_method
                                        and attempt.payment_method.is_active) else \
        _method_for(invoice.client_id, auto_pay_only=False)
    if method is None:
        return None
    return _new_attempt(invoice, method, trigger="retry", worker=worker)


def _auto_pay_backlog(company_id: int) -> list[int]:
    """Open invoices of auto-pay clients that were never attempted (issued since the card)."""
    methods = dict(PaymentMethodOnFile.objects.filter(auto_pay=True, is_active=True)
                   .values_list("client_id", "created_at"))
    if not methods:
        return []
    rows = (Invoice.objects.filter(client_id__in=list(methods), kind=Invoice.Kind.INVOICE,
                                   status__in=OPEN, balance__gt=0,
                                   payment_attempts__isnull=True)
            .values_list("id", "client_id", "issue_date"))
    return [pk for pk, client_id, issued in rows
            if issued is None or issued >= methods[client_id].date()]


def process_failed_payments(*, now: datetime | None = None, dry_run: bool = False,
                            worker: str | None = None, gateway: Gateway | None = None,
                            limit: int = 1000, progress: Any = None) -> DunningReport:
    """Retry due failed charges and reconcile unanswered ones, for every company.

    Each due row is claimed with a conditional UPDATE before anything is sent, so two
    workers running at once never act on the same row; each retry is a new attempt with
    its own idempotency key; reconciliation re-sends the unanswered attempt's own key.
    """
    from django_scopes import scope, scopes_disabled

    now = now or timezone.now()
    worker = worker or worker_name()
    report = DunningReport(dry_run=dry_run)
    with scopes_disabled():
        company_ids = sorted(
            set(PaymentAttempt.objects.filter(next_retry_at__lte=now)
                .values_list("company_id", flat=True).distinct())
            | set(PaymentMethodOnFile.objects.filter(auto_pay=True, is_active=True)
                  .values_list("company_id", flat=True).distinct()))
    for company_id in company_ids:
        with scope(company=company_id):
            due = list(PaymentAttempt.objects.filter(next_retry_at__lte=now)
                       .select_related("invoice").order_by("next_retry_at", "id")[:limit])
            backlog = _auto_pay_backlog(company_id)
            if dry_run:
                for attempt in due:
                    report.due.append({
                        "company_id": company_id, "invoice": attempt.invoice.number,
                        "attempt": attempt.attempt_number, "amount": str(attempt.invoice.balance),
                        "action": ("reconcile" if attempt.status in (
                            PaymentAttempt.Status.UNKNOWN, PaymentAttempt.Status.PENDING)
                            else "retry"),
                        "due_at": attempt.next_retry_at.isoformat()})
                for invoice in Invoice.objects.filter(pk__in=backlog):
                    report.due.append({"company_id": company_id, "invoice": invoice.number,
                                       "attempt": 1, "amount": str(invoice.balance),
                                       "action": "auto_pay", "due_at": None})
                continue
            for attempt in due:
                # Claim and create the follow-up in one transaction: a crash loses neither.
                with transaction.atomic():
                    if not _claim(attempt.pk, now, worker):
                        report.skipped += 1
                        continue
                    if attempt.status in (PaymentAttempt.Status.UNKNOWN,
                                          PaymentAttempt.Status.PENDING):
                        target = attempt.pk
                    else:
                        nxt = _next_for_retry(attempt.pk, worker)
                        if nxt is None:  # paid or voided meanwhile: the chain ends
                            report.cancelled += 1
                            continue
                        target = nxt.pk
                result = run_attempt(target, gateway=gateway)
                _tally(report, result)
                if progress:
                    progress(result)
            for invoice_id in backlog:
                invoice = Invoice.objects.get(pk=invoice_id)
                try:
                    attempt = start_charge(invoice, trigger="auto_pay", auto_pay_only=True)
                except (Conflict, IntegrityError):
                    report.skipped += 1
                    continue
                report.auto_pay_started += 1
                result = run_attempt(attempt.pk, gateway=gateway)
                _tally(report, result)
                if progress:
                    progress(result)
    return report


def charge_issued_invoices(invoices: list[Invoice], actor=None) -> list[PaymentAttempt]:
    """Billing's after-issue hook: auto-pay every just-issued invoice whose client has an
    auto-pay card. One query finds those clients; the others cost nothing more."""
    client_ids = set(PaymentMethodOnFile.objects.filter(
        client_id__in={i.client_id for i in invoices}, is_active=True, auto_pay=True)
        .values_list("client_id", flat=True))
    attempts = []
    for invoice in invoices:
        if invoice.client_id in client_ids:
            attempt = charge_invoice(invoice, actor=actor)
            if attempt is not None:
                attempts.append(attempt)
    return attempts
