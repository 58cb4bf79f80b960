"""Reads of payments. The active company scope filters every query."""

from __future__ import annotations

from django.db.models import QuerySet

from nestogy.core.errors import NotFound
from nestogy.payments.models import (
    CollectionsFlag,
    Payment,
    PaymentAllocation,
    PaymentAttempt,
    PaymentMethodOnFile,
)


def payments(*, client=None, method: str | None = None) -> QuerySet[Payment]:
    qs = Payment.objects.select_related("client")
    if client is not None:
        qs = qs.filter(client=client)
    if method:
        qs = qs.filter(method=method)
    return qs


def get_payment(public_id: str) -> Payment:
    payment = Payment.objects.select_related("client").filter(public_id=public_id).first()
    if payment is None:
        raise NotFound("payment not found")
    return payment


def attempts_for(invoice) -> QuerySet[PaymentAttempt]:
    return PaymentAttempt.objects.filter(invoice=invoice).order_by("attempt_number")


def methods_for(client) -> QuerySet[PaymentMethodOnFile]:
    return PaymentMethodOnFile.objects.filter(client=client, is_active=True)


def in_collections(invoice) -> bool:
    return CollectionsFlag.objects.filter(invoice=invoice, resolved_at__isnull=True).exists()


def allocations_for(invoice) -> QuerySet[PaymentAllocation]:
    """The payments applied to an invoice (with the payment), oldest first."""
    return (PaymentAllocation.objects.filter(invoice=invoice).select_related("payment")
            .order_by("created_at", "id"))
