"""Money given back: refunds of a payment, at the gateway first for card payments.

A refund takes back the payment's unapplied credit first, then reverses its allocations
(newest invoice first) through billing's settlement, re-opening those invoices. A refund made
at the gateway and reported by its webhook is recorded with :func:`record_refund` under the
gateway's refund reference, once.

The business rules this implements: docs/semantics.md#payments-credit-and-refunds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from nestogy.audit.actions import log_action
from nestogy.billing.settlement import lock_invoice, settle
from nestogy.core.errors import Conflict, ValidationError
from nestogy.core.events import emit
from nestogy.core.validation import clean_amount, clean_text
from nestogy.payments.gateways import (
    Gateway,
    PermanentGatewayError,
    TransientGatewayError,
    get_gateway,
)
from nestogy.payments.models import Payment, PaymentAllocation, Refund
from nestogy.payments.recording import db_sum


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
            invoice = lock_invoice(row["invoice_id"])
            PaymentAllocation.objects.create(company_id=payment.company_id, payment=payment,
                                             invoice=invoice, amount=-part)
            settle(invoice, -part)
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
    return record_refund(payment.pk, amount, reason=reason, reference=reference, actor=actor)


@transaction.atomic
def record_refund(payment_id: int, amount: Decimal, *, reason: str, reference: str,
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
    emit("payment.refunded", company_id=payment.company_id, actor=actor,
         data={"payment_id": payment.pk, "refund_id": refund.pk, "client_id": payment.client_id,
               "amount": str(amount), "currency": payment.currency, "reason": reason,
               "payment_status": payment.status})
    return refund

