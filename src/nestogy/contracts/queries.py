"""Reads of contracts, items and usage. The active company scope filters every query."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet, Sum

from nestogy.contracts.models import (
    Contract,
    ContractItem,
    ContractItemQuantity,
    UsageRecord,
    quantity_on,
)
from nestogy.contracts.pricing import Cycle
from nestogy.core.errors import NotFound
from nestogy.core.money import quantize_money


def contracts(*, client=None, status: str | None = None) -> QuerySet[Contract]:
    qs = Contract.objects.select_related("client", "sla_policy").prefetch_related(
        Prefetch("items", queryset=ContractItem.objects.order_by("position", "id")))
    if client is not None:
        qs = qs.filter(client=client)
    if status:
        qs = qs.filter(status=status)
    return qs


def get_contract(public_id: str, field: str = "contract") -> Contract:
    contract = contracts().filter(public_id=public_id).first()
    if contract is None:
        raise NotFound(f"{field} not found")
    return contract


def get_item(public_id: str, field: str = "contract_item") -> ContractItem:
    item = ContractItem.objects.select_related("contract").filter(public_id=public_id).first()
    if item is None:
        raise NotFound(f"{field} not found")
    return item


def items_by_public_id(public_ids: set[str]) -> dict[str, ContractItem]:
    return {i.public_id: i for i in ContractItem.objects.select_related("contract")
            .filter(public_id__in=public_ids)}


def quantity_history(item_ids: list[int]) -> dict[int, list[ContractItemQuantity]]:
    out: dict[int, list[ContractItemQuantity]] = {i: [] for i in item_ids}
    for row in ContractItemQuantity.objects.filter(item_id__in=item_ids).order_by(
            "item_id", "effective_from"):
        out[row.item_id].append(row)
    return out


def local_bounds(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    """``[start, end)`` dates as aware datetimes at local midnight in the company's zone."""
    zone = ZoneInfo(tz)
    return (datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end, time.min, tzinfo=zone))


WINDOWS_PER_QUERY = 200


def usage_totals(windows: list[tuple[int, date, date]], tz: str) -> dict[tuple[int, date],
                                                                      Decimal]:
    """Summed usage per ``(item_id, period_start)`` for many windows, aggregated in the DB.

    One query per batch: windows sharing the same dates are merged into one ``item IN (...)``
    condition, the conditions are OR-ed and grouped by item and window; windows of one item
    never overlap (periods tile), so each row is attributed to exactly one window.
    """
    if not windows:
        return {}
    from django.db.models import Case, DateField, Q, Value, When

    by_window: dict[tuple[date, date], list[int]] = {}
    for item_id, start, end in windows:
        by_window.setdefault((start, end), []).append(item_id)
    spans = list(by_window.items())
    totals: dict[tuple[int, date], Decimal] = {}
    # At most WINDOWS_PER_QUERY OR-ed windows per query (a contract catching up years of
    # periods has hundreds; SQLite refuses expressions deeper than 1000).
    for offset in range(0, len(spans), WINDOWS_PER_QUERY):
        cases, condition = [], Q()
        for (start, end), item_ids in spans[offset:offset + WINDOWS_PER_QUERY]:
            lo, hi = local_bounds(start, end, tz)
            term = Q(item_id__in=item_ids, occurred_at__gte=lo, occurred_at__lt=hi)
            condition |= term
            cases.append(When(term, then=Value(start)))
        rows = (UsageRecord.objects.filter(condition)
                .annotate(window=Case(*cases, output_field=DateField()))
                .values("item_id", "window").annotate(total=Sum("quantity")).order_by())
        totals.update({(r["item_id"], r["window"]): r["total"] for r in rows})
    return totals


def stored_usage_keys(pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which ``(item_id, idempotency_key)`` pairs are already recorded (a repeated key
    changes nothing), in batches of 1,000 keys."""
    found: set[tuple[int, str]] = set()
    ordered = sorted(pairs)
    for offset in range(0, len(ordered), 1000):
        batch = ordered[offset:offset + 1000]
        found.update(UsageRecord.objects.filter(
            item_id__in={i for i, _ in batch}, idempotency_key__in={k for _, k in batch},
        ).values_list("item_id", "idempotency_key"))
    return found & pairs


def active_contract_policy(client, on: date):
    """The SLA policy of the client's contract in force on ``on`` (the most recent start
    wins when several run at once), or None."""
    contract = (Contract.objects.filter(client=client, status=Contract.Status.ACTIVE,
                                        sla_policy__isnull=False, start_date__lte=on)
                .exclude(end_date__lt=on).select_related("sla_policy__calendar")
                .order_by("-start_date", "-id").first())
    return contract.sla_policy if contract else None


ENDING_SOON_DAYS = 60


def ends_soon(contract: Contract, today: date) -> bool:
    """Active, and its end date is within ``ENDING_SOON_DAYS`` days or its notice days."""
    if contract.status != Contract.Status.ACTIVE or contract.end_date is None:
        return False
    days = (contract.end_date - today).days
    return 0 <= days <= max(ENDING_SOON_DAYS, contract.renewal_notice_days)


def fixed_per_period(contract: Contract, today: date,
                     history: dict[int, list[ContractItemQuantity]]) -> Decimal:
    """What the fixed items come to per billing period at the seat counts of ``today``
    (``history`` from :func:`quantity_history`; items prefetched)."""
    return sum((quantity_on(item, today, history.get(item.pk, [])) * item.unit_price
                for item in contract.items.all() if item.kind == ContractItem.Kind.FIXED),
               start=Decimal(0))


def per_month(contract: Contract, amount: Decimal) -> Decimal:
    """``amount`` per period as an amount per month: the normalisation of MRR
    (``billing.forecast``: per period × periods per year ÷ 12)."""
    return quantize_money(amount * Cycle(contract.billing_cycle).per_year / 12,
                          contract.currency)
