"""Invoice arithmetic (pure): line amounts rounded once, tax per rate on the taxable sum.

The business rules this implements: docs/semantics.md#invoices.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from nestogy.core.money import percent_of, quantize_money

ZERO = Decimal(0)
# Amounts are stored as MONEY (14 digits, 4 of them decimals): every amount, total and
# balance must stay below this in absolute value.
MAX_AMOUNT = Decimal(10) ** 10


def fits(*amounts: Decimal) -> bool:
    """Whether every amount can be stored (is below MAX_AMOUNT in absolute value)."""
    return all(abs(amount) < MAX_AMOUNT for amount in amounts)


def line_amount(quantity: Decimal, unit_price: Decimal, currency: str,
                factor: Decimal | None = None) -> Decimal:
    """``quantity × unit_price [× proration factor]`` rounded half-up once."""
    raw = quantity * unit_price
    if factor is not None:
        raw = raw * factor
    return quantize_money(raw, currency)


def totals(lines: Iterable, currency: str) -> tuple[Decimal, Decimal, Decimal]:
    """``(subtotal, tax, total)``: tax per rate on the sum of taxable lines, one rounding each.

    ``lines`` are objects with ``amount``, ``taxable`` and ``tax_rate``.
    """
    subtotal = ZERO
    taxable_by_rate: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        subtotal += line.amount
        if line.taxable and line.tax_rate:
            taxable_by_rate[Decimal(line.tax_rate)] += line.amount
    tax = sum((percent_of(base, rate, currency) for rate, base in taxable_by_rate.items()),
              ZERO)
    subtotal = quantize_money(subtotal, currency)
    return subtotal, tax, quantize_money(subtotal + tax, currency)
