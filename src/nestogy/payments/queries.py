"""Reads of payments. The active company scope filters every query."""

from __future__ import annotations

from django.db.models import Q, QuerySet

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


FAILED_ATTEMPTS = (PaymentAttempt.Status.DECLINED, PaymentAttempt.Status.ERROR)


def dunning_by_client(client_ids: list[int]) -> dict[int, dict]:
    """Automatic card payments of these clients' open invoices: failed attempts, the next
    retry, the last error, and the invoices handed to collections (three queries)."""
    from django.db.models import Count, Min

    from nestogy.billing.models import Invoice

    open_statuses = Invoice.OPEN_STATUSES
    out: dict[int, dict] = {cid: {"failures": 0, "next_retry": None, "last_error": "",
                                  "collections": 0} for cid in client_ids}
    attempts = PaymentAttempt.objects.filter(client_id__in=client_ids,
                                             invoice__status__in=open_statuses)
    for row in (attempts.values("client_id").annotate(
            failures=Count("pk", filter=Q(status__in=FAILED_ATTEMPTS)),
            next_retry=Min("next_retry_at", filter=~Q(status__in=(
                PaymentAttempt.Status.SUCCEEDED, PaymentAttempt.Status.CANCELLED))))
            .order_by()):
        out[row["client_id"]].update(failures=row["failures"], next_retry=row["next_retry"])
    # The latest failure's message wins (failed attempts are few: retries are capped).
    for client_id, message in (attempts.filter(status__in=FAILED_ATTEMPTS)
                               .order_by("created_at", "id")
                               .values_list("client_id", "error_message")):
        out[client_id]["last_error"] = message
    for row in (CollectionsFlag.objects.filter(invoice__client_id__in=client_ids,
                                               resolved_at__isnull=True)
                .values("invoice__client_id").annotate(n=Count("pk")).order_by()):
        out[row["invoice__client_id"]]["collections"] = row["n"]
    return out

