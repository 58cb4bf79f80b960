"""MRR movements per month: where the recurring revenue came from and went (docs/billing.md).

MRR on a day is what :mod:`nestogy.billing.forecast` counts for today, on that day: the fixed
items of each contract in service that day (started, and not past its end date), at that
day's seat counts (the seat history), per billing period normalised to a month (× periods a
year ÷ 12), rounded to the cent per client. Draft contracts are not in service; a cancelled
one counts until its end date when it has one. Only contracts in the company's currency are
counted.

For each month, the MRR at the end of the previous month (``opening``) and at the month's
last day (``closing``; today for the current month) are compared client by client:

- **new**: a client with no MRR before and some now (its whole MRR);
- **expansion**: a client whose MRR grew (the increase);
- **contraction**: a client whose MRR shrank but is not zero (the decrease);
- **churn**: a client whose MRR went to zero (what it had).

so that ``opening + new + expansion - contraction - churn = closing`` exactly.

Prices are the items' current unit prices: a renewal uplift is applied to the items in
place, so months before an uplift are valued at the uplifted price. Reads three queries
(contracts, their items, the seat history); the rest is arithmetic.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from nestogy.contracts import queries as contract_queries
from nestogy.contracts.models import Contract, ContractItem, quantity_on
from nestogy.contracts.pricing import Cycle, add_months
from nestogy.core.money import quantize_money

ZERO = Decimal(0)
MAX_MONTHS = 36


def _in_service(contract: Contract, day: date) -> bool:
    if contract.start_date > day:
        return False
    if contract.end_date is not None and contract.end_date < day:
        return False
    return not (contract.status == Contract.Status.CANCELLED and contract.end_date is None)


def _by_client(contracts: list[Contract], history: dict, day: date, currency: str
               ) -> dict[int, Decimal]:
    per_client: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for contract in contracts:
        if not _in_service(contract, day):
            continue
        per_period = sum((quantity_on(item, day, history.get(item.pk, [])) * item.unit_price
                          for item in contract.items.all()
                          if item.kind == ContractItem.Kind.FIXED), start=ZERO)
        per_client[contract.client_id] += per_period * Cycle(contract.billing_cycle).per_year \
            / 12
    return {client: quantize_money(value, currency) for client, value in per_client.items()}


def mrr_movements(company, today: date, months: int = 12) -> dict:
    """The last ``months`` months up to ``today`` (the current month to date), oldest first."""
    currency = company.currency
    contracts = list(Contract.objects.filter(currency=currency)
                     .exclude(status=Contract.Status.DRAFT).prefetch_related("items"))
    history = contract_queries.quantity_history(
        [i.pk for c in contracts for i in c.items.all() if i.kind == ContractItem.Kind.FIXED])
    first = add_months(today.replace(day=1), -(months - 1))
    rows = []
    opening_day = first - timedelta(days=1)
    opening = _by_client(contracts, history, opening_day, currency)
    for k in range(months):
        month_start = add_months(first, k)
        closing_day = min(add_months(month_start, 1) - timedelta(days=1), today)
        closing = _by_client(contracts, history, closing_day, currency)
        moves = {"new": ZERO, "expansion": ZERO, "contraction": ZERO, "churn": ZERO}
        counts = {"new": 0, "expansion": 0, "contraction": 0, "churn": 0}
        for client in set(opening) | set(closing):
            before, after = opening.get(client, ZERO), closing.get(client, ZERO)
            if before == after:
                continue
            if before == ZERO:
                kind, amount = "new", after
            elif after == ZERO:
                kind, amount = "churn", before
            elif after > before:
                kind, amount = "expansion", after - before
            else:
                kind, amount = "contraction", before - after
            moves[kind] += amount
            counts[kind] += 1
        rows.append({"month": f"{month_start.year:04d}-{month_start.month:02d}",
                     "opening": sum(opening.values(), ZERO), **moves,
                     "closing": sum(closing.values(), ZERO), "clients": counts,
                     "to": closing_day})
        opening = closing
    return {"currency": currency, "as_of": today, "months": rows}
