"""Revenue forecast for the next N months, plus current MRR and ARR (docs/billing.md).

- **Frequency-aware:** each fixed item is projected period by period on the contract's own
  cycle and anchor; a period's amount lands in the month its invoice is dated (the period
  start), so a quarterly invoice lands in its month, not spread as 1/3 per month.
- **Ends and renewals:** a contract stops at ``end_date`` (the last period prorated);
  an auto-renewing one continues for further terms, with fixed prices raised by
  ``renewal_uplift_percent`` (half-up) at each renewal, exactly like the renewal job.
- **Usage:** per metered item, the amounts billed for its last (up to) six periods are fitted
  with a least-squares line; each future period's usage is the line extrapolated (never
  below zero), landing in the month of the invoice that bills it in arrears.
- **Range:** each month also has ``low`` and ``high``. Recurring amounts and usage already
  invoiced are certain. A trend fitted on three or more billed periods adds its 90 %
  prediction interval, ``±1.645·s·√(1 + 1/n + (x₀ − x̄)²/Sxx)`` with ``s`` the residual standard
  error (items assumed independent: variances add); with fewer than three periods the spread
  cannot be measured, and the item's projection counts from zero to twice itself. ``low``
  never goes below the certain part.
- **MRR/ARR:** the fixed recurring amount of the contracts in service today normalised to a
  month (weekly × 52/12, quarterly ÷ 3, ...); ARR = 12 × MRR. Usage is not in MRR.
Months are calendar months in the company's time zone; amounts are in each contract's
currency and summed per currency (``currency`` of the answer = the company's currency; other
currencies are reported separately under ``other_currencies``).

The business rules this implements: docs/semantics.md#revenue-forecast.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from nestogy.billing.models import Invoice, InvoiceLine
from nestogy.contracts.models import Contract, ContractItem
from nestogy.contracts.pricing import Cycle, Terms, iter_periods, period_containing
from nestogy.contracts.renewals import renewed_end, uplifted
from nestogy.core.money import quantize_money

ZERO = Decimal(0)
TREND_POINTS = 6
Z_90 = Decimal("1.645")  # two-sided 90 % normal quantile
MIN_POINTS_FOR_SPREAD = 3


def _month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _months(start: date, n: int) -> list[str]:
    out, y, m = [], start.year, start.month
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out


def _horizon_end(start: date, n: int) -> date:
    y, m = divmod(start.month - 1 + n, 12)
    return date(start.year + y, m + 1, 1)


def _trend(values: list[Decimal]) -> tuple[Decimal, Decimal]:
    """Least-squares ``(intercept, slope)`` over x = 0..n-1 (slope 0 for fewer than 2)."""
    n = len(values)
    if n == 0:
        return ZERO, ZERO
    if n == 1:
        return values[0], ZERO
    xs = [Decimal(i) for i in range(n)]
    mean_x = sum(xs) / n
    mean_y = sum(values) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, values, strict=True)) / sxx
    return mean_y - slope * mean_x, slope


def _prediction_variance(values: list[Decimal], intercept: Decimal, slope: Decimal,
                         x0: int) -> Decimal:
    """The variance of a new observation at ``x0`` around the least-squares line."""
    n = len(values)
    residuals = sum((y - (intercept + slope * i)) ** 2 for i, y in enumerate(values))
    s2 = residuals / (n - 2)
    mean_x = Decimal(n - 1) / 2
    sxx = sum((Decimal(i) - mean_x) ** 2 for i in range(n))
    return s2 * (1 + Decimal(1) / n + (Decimal(x0) - mean_x) ** 2 / sxx)


def forecast(company, today: date, months: int = 12) -> dict:
    first = today.replace(day=1)
    keys = _months(first, months)
    horizon = _horizon_end(first, months)
    currency = company.currency
    recurring: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    usage: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    # the uncertain part of usage: projections with a measured spread (amount, variance)
    # and projections without one
    measured: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    variance: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    unmeasured: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    mrr: dict[str, Decimal] = defaultdict(lambda: ZERO)

    contracts = list(Contract.objects.filter(status=Contract.Status.ACTIVE)
                     .prefetch_related("items"))
    metered_ids = [i.pk for c in contracts for i in c.items.all()
                   if i.kind == ContractItem.Kind.METERED]
    history: dict[int, list[Decimal]] = defaultdict(list)
    billed: dict[tuple[int, date], Decimal] = {}
    if metered_ids:
        rows = (InvoiceLine.objects.filter(
            contract_item_id__in=metered_ids, kind=InvoiceLine.Kind.USAGE,
            invoice__status__in=[s for s in Invoice.Status.values if s not in ("draft", "void")])
            .order_by("contract_item_id", "-service_start")
            .values_list("contract_item_id", "service_start", "amount"))
        for item_id, service_start, amount in rows:
            billed[(item_id, service_start)] = amount
            if len(history[item_id]) < TREND_POINTS:
                history[item_id].append(amount)

    for contract in contracts:
        cur = contract.currency
        items = list(contract.items.all())
        fixed = [i for i in items if i.kind == ContractItem.Kind.FIXED]
        metered = [i for i in items if i.kind == ContractItem.Kind.METERED]
        cycle = Cycle(contract.billing_cycle)
        prices = {i.pk: i.unit_price for i in fixed}
        end = contract.end_date
        # MRR: in service today
        if contract.start_date <= today and (end is None or end >= today):
            per_period = sum((i.quantity * i.unit_price for i in fixed), ZERO)
            mrr[cur] += per_period * cycle.per_year / 12
        # Extend the term through renewals as far as the horizon needs.
        renewals: list[date] = []  # end dates after which prices rise
        if contract.auto_renew and end is not None:
            while end < horizon:
                renewals.append(end)
                end = renewed_end(end, contract.renewal_term_months)
        terms = Terms(contract.start_date, cycle, contract.billing_anchor_day, end)
        trends = {}
        points_of = {}
        for item in metered:
            points = list(reversed(history.get(item.pk, [])))
            points_of[item.pk] = points
            trends[item.pk] = (_trend(points), len(points))
        ahead = 0  # arrears periods past the last billed one
        for period in iter_periods(terms, from_date=max(first, contract.start_date)):
            if period.start >= horizon:
                break
            while renewals and period.start > renewals[0]:
                renewals.pop(0)
                for item in fixed:
                    prices[item.pk] = uplifted(prices[item.pk], contract.renewal_uplift_percent,
                                               cur)
            if period.start < first:
                continue
            key = _month_key(period.start)
            for item in fixed:
                amount = item.quantity * prices[item.pk]
                if period.is_partial:
                    amount = amount * period.factor_decimal
                recurring[cur][key] += quantize_money(amount, cur)
            # usage billed on this invoice (arrears of the previous period): the billed
            # amount when it is already invoiced, else the trend extrapolated
            arrears = period_containing(terms, period.start - timedelta(days=1)) \
                if period.start > contract.start_date else None
            if arrears is not None and metered:
                counted = False
                for item in metered:
                    actual = billed.get((item.pk, arrears.start))
                    if actual is not None:
                        usage[cur][key] += actual
                        continue
                    (intercept, slope), n = trends[item.pk]
                    if n == 0:
                        continue
                    if not counted:
                        ahead += 1
                        counted = True
                    value = intercept + slope * (n - 1 + ahead)
                    projected = quantize_money(max(ZERO, value), cur)
                    usage[cur][key] += projected
                    if n >= MIN_POINTS_FOR_SPREAD:
                        measured[cur][key] += projected
                        variance[cur][key] += _prediction_variance(
                            points_of[item.pk], intercept, slope, n - 1 + ahead)
                    else:
                        unmeasured[cur][key] += projected

    def month_rows(cur: str) -> list[dict]:
        rows = []
        for key in keys:
            r, u = recurring[cur][key], usage[cur][key]
            certain = r + u - measured[cur][key] - unmeasured[cur][key]
            spread = Z_90 * variance[cur][key].sqrt()
            low = certain + max(ZERO, measured[cur][key] - spread)
            high = certain + measured[cur][key] + spread + 2 * unmeasured[cur][key]
            rows.append({"month": key, "recurring": quantize_money(r, cur),
                         "usage": quantize_money(u, cur), "total": quantize_money(r + u, cur),
                         "low": quantize_money(low, cur), "high": quantize_money(high, cur)})
        return rows

    others = sorted((set(recurring) | set(mrr) | set(usage)) - {currency})
    m = quantize_money(mrr[currency], currency)
    return {
        "currency": currency, "as_of": today, "months": month_rows(currency),
        "mrr": m, "arr": quantize_money(mrr[currency] * 12, currency),
        "other_currencies": [{"currency": cur, "months": month_rows(cur),
                              "mrr": quantize_money(mrr[cur], cur),
                              "arr": quantize_money(mrr[cur] * 12, cur)} for cur in others],
    }


