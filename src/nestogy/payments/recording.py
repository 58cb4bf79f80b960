"""Money received: manual payments against one invoice or spread over several, a gateway
charge recorded as one payment, and the client's credit (unapplied money).

Invoice totals and status move only through billing's settlement
(:mod:`nestogy.billing.settlement`): every allocation here locks the invoice and calls
``settle``. An allocation is at most the
invoice's balance; whatever part of a payment is not allocated is the client's credit
(``Payment.unapplied``). A gateway charge is recorded as exactly one payment, by a unique
constraint on ``(company, gateway, gateway_reference)``.

The business rules this implements: docs/semantics.md#payments-credit-and-refunds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from nestogy.audit.actions import log_action
from nestogy.billing.models import Invoice
from nestogy.billing.settlement import OPEN, lock_invoice, require_payable, settle
from nestogy.clients.models import Client
from nestogy.core.errors import Conflict, ValidationError
from nestogy.core.events import emit
from nestogy.core.validation import clean_amount, clean_moment, clean_text
from nestogy.payments.models import ZERO, CollectionsFlag, Payment, PaymentAllocation

PAYMENT_FIELDS = {"amount", "method", "reference", "received_at", "notes"}

# Stored precision of money columns. SQLite sums DECIMAL columns in floating point
# (0.06 may come back as 0.0600000000000001), so every SQL sum is re-quantized to it.
PLACES = Decimal("0.0001")


def db_sum(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(PLACES)


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


def allocate(payment: Payment, invoice: Invoice, amount: Decimal, *,
              from_credit: bool = False) -> PaymentAllocation:
    """Apply ``amount`` of ``payment`` to a locked open ``invoice``."""
    if amount > invoice.balance:
        raise ValidationError("amount", f"exceeds the balance {invoice.balance} of invoice "
                                        f"{invoice.number}")
    allocation = PaymentAllocation.objects.create(company_id=payment.company_id,
                                                  payment=payment, invoice=invoice,
                                                  amount=amount, from_credit=from_credit)
    settle(invoice, amount)
    return allocation


def payment_event_data(payment: Payment, invoices: list[Invoice]) -> dict[str, Any]:
    return {"payment_id": payment.pk, "client_id": payment.client_id,
            "amount": str(payment.amount), "currency": payment.currency,
            "method": payment.method, "reference": payment.reference,
            "invoice_ids": [i.pk for i in invoices],
            "invoice_numbers": [i.number for i in invoices],
            "credit": str(payment.unapplied)}


@transaction.atomic
def record_invoice_payment(invoice: Invoice, data: dict[str, Any], *, actor=None) -> Payment:
    """Money received against one invoice (bank transfer, check, cash, card, other).

    Whatever exceeds the invoice's balance becomes the client's credit.
    """
    invoice = lock_invoice(invoice.pk)
    require_payable(invoice)
    fields = _payment_fields(data, invoice.currency)
    payment = Payment.objects.create(company_id=invoice.company_id, client=invoice.client,
                                     currency=invoice.currency, unapplied=fields["amount"],
                                     **fields)
    applied = min(payment.amount, invoice.balance)
    if applied > 0:
        allocate(payment, invoice, applied)
        payment.unapplied -= applied
        payment.save(update_fields=["unapplied", "updated_at"])
    log_action(payment, "payment.succeeded", actor=actor,
               data={"amount": str(payment.amount), "method": payment.method,
                     "invoice": invoice.number, "credit": str(payment.unapplied)})
    emit("payment.succeeded", company_id=payment.company_id, actor=actor,
         data=payment_event_data(payment, [invoice]))
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
        invoice = lock_invoice(invoice_id)
        field = f"allocations[{index}]"
        if invoice.client_id != client.pk:
            raise ValidationError(f"{field}.invoice_id", "belongs to another client")
        if invoice.currency != currency:
            raise ValidationError(f"{field}.invoice_id", f"is in {invoice.currency}, "
                                                          f"not {currency}")
        try:
            require_payable(invoice)
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
        allocate(payment, invoice, amount)
        remaining -= amount
        touched.append(invoice)
    payment.unapplied = remaining
    payment.save(update_fields=["unapplied", "updated_at"])
    log_action(payment, "payment.succeeded", actor=actor,
               data={"amount": str(payment.amount), "method": payment.method,
                     "invoices": [i.number for i in touched], "credit": str(remaining)})
    emit("payment.succeeded", company_id=payment.company_id, actor=actor,
         data=payment_event_data(payment, touched))
    return payment


def credit_balance(client: Client, currency: str) -> Decimal:
    return db_sum(Payment.objects.filter(client=client, currency=currency.upper())
                  .aggregate(total=Sum("unapplied"))["total"])


@transaction.atomic
def apply_credit(invoice: Invoice, *, amount: Any = None, actor=None) -> Decimal:
    """Pay ``invoice`` from the client's credit (oldest credit first); return the amount."""
    invoice = lock_invoice(invoice.pk)
    require_payable(invoice)
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
        allocate(payment, invoice, part, from_credit=True)
        payment.unapplied -= part
        payment.save(update_fields=["unapplied", "updated_at"])
        left -= part
        applied += part
    log_action(invoice, "invoice.credit_applied", actor=actor,
               data={"amount": str(applied), "number": invoice.number})
    return applied


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
    invoice = lock_invoice(invoice.pk)
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
            allocate(payment, invoice, applied)
    payment.unapplied = amount - applied
    payment.save(update_fields=["unapplied", "updated_at"])
    if invoice.balance <= 0:
        CollectionsFlag.objects.filter(invoice=invoice, resolved_at__isnull=True).update(
            resolved_at=timezone.now())
    log_action(payment, "payment.succeeded", actor=actor,
               data={"amount": str(amount), "method": "card", "gateway": gateway,
                     "reference": reference, "invoice": invoice.number,
                     "credit": str(payment.unapplied)})
    emit("payment.succeeded", company_id=payment.company_id, actor=actor,
         data=payment_event_data(payment, [invoice]))
    return payment, True

