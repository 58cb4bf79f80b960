"""The pricing engine: pure functions, no database (docs/billing.md).

Two parts:

**Tiers.** A metered item's price is a list of tiers given by cumulative upper bounds
``up_to`` (``None`` = infinity), each with a ``unit_price`` and an optional ``flat_fee``.

- ``graduated``: each unit is priced in the tier it falls in, and the flat fee of every tier
  reached is added; the first tier's flat fee is charged even at zero usage.
- ``volume``: every unit is priced at the tier the total falls in, plus that tier's flat fee.
- A quantity between two integer bounds (100.5 with tiers up to 100 and up to 200) falls in
  the upper tier: a tier holds quantities ``q`` with ``previous_up_to < q <= up_to``.

**Periods.** A contract bills in cycles (weekly, monthly, quarterly, semiannual, annual).
Period boundaries come from the contract's anchor, never from the date a run happened:

- monthly and longer: the ``anchor_day`` (1-31) of every k-th month counted from the start
  date's month, clamped to the month's last day (anchor 31: Jan 31, Feb 28/29, Mar 31,
  Apr 30);
- weekly: every day whose ISO weekday is ``anchor_day`` (1 = Monday).

Periods are half-open date ranges ``[start, end)``. The first and last billed periods are
clipped to the contract's term (``end_date`` is the last day of service, inclusive); a clipped
period is prorated by ``days_covered / days_in_full_period``, where the full period is the
cycle period containing it.

The business rules this implements: docs/semantics.md#proration and docs/semantics.md#usage-tiers.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from nestogy.core.errors import FieldError, ValidationError
from nestogy.core.money import MoneyError, to_decimal

ZERO = Decimal(0)

# --------------------------------------------------------------------------------------------
# Tiers
# --------------------------------------------------------------------------------------------


class Mode(StrEnum):
    GRADUATED = "graduated"
    VOLUME = "volume"


@dataclass(frozen=True)
class Tier:
    up_to: Decimal | None
    unit_price: Decimal
    flat_fee: Decimal = ZERO

    def as_dict(self) -> dict[str, Any]:
        return {"up_to": None if self.up_to is None else str(self.up_to),
                "unit_price": str(self.unit_price), "flat_fee": str(self.flat_fee)}


@dataclass(frozen=True)
class Pricing:
    mode: Mode
    tiers: tuple[Tier, ...]

    @classmethod
    def from_dict(cls, data: Any, field: str = "pricing") -> Pricing:
        """Validate and build a pricing from its JSON form; errors name the exact field."""
        if not isinstance(data, dict):
            raise ValidationError(field, "must be an object with mode and tiers")
        unknown = set(data) - {"mode", "tiers"}
        if unknown:
            raise ValidationError(f"{field}.{sorted(unknown)[0]}", "is not a known field")
        mode = data.get("mode")
        if mode not in Mode._value2member_map_:
            raise ValidationError(f"{field}.mode", "must be graduated or volume")
        raw_tiers = data.get("tiers")
        if not isinstance(raw_tiers, list) or not raw_tiers:
            raise ValidationError(f"{field}.tiers", "must be a non-empty list")
        if len(raw_tiers) > 50:
            raise ValidationError(f"{field}.tiers", "must have at most 50 tiers")
        tiers: list[Tier] = []
        errors: list[FieldError] = []
        previous: Decimal = ZERO
        for i, raw in enumerate(raw_tiers):
            here = f"{field}.tiers[{i}]"
            if not isinstance(raw, dict):
                raise ValidationError(here, "must be an object")
            unknown = set(raw) - {"up_to", "unit_price", "flat_fee"}
            if unknown:
                raise ValidationError(f"{here}.{sorted(unknown)[0]}", "is not a known field")
            try:
                if "unit_price" not in raw:
                    raise MoneyError(f"{here}.unit_price", "is required")
                unit_price = to_decimal(raw["unit_price"], f"{here}.unit_price",
                                        allow_negative=False)
                flat_fee = to_decimal(raw.get("flat_fee") or "0", f"{here}.flat_fee",
                                      allow_negative=False)
                up_to = raw.get("up_to")
                if up_to is not None:
                    up_to = to_decimal(up_to, f"{here}.up_to", allow_negative=False)
                    if up_to <= previous and (i > 0 or up_to <= 0):
                        raise MoneyError(f"{here}.up_to",
                                         "must be greater than the previous tier's up_to"
                                         if i else "must be greater than 0")
                    previous = up_to
                elif i != len(raw_tiers) - 1:
                    raise MoneyError(f"{here}.up_to",
                                     "only the last tier may be open-ended (null)")
            except MoneyError as exc:
                errors.append(FieldError(exc.field, exc.message))
                break
            tiers.append(Tier(up_to, unit_price, flat_fee))
        if errors:
            raise ValidationError.many(errors)
        return cls(Mode(mode), tuple(tiers))

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode.value, "tiers": [t.as_dict() for t in self.tiers]}


def _tier_index(tiers: tuple[Tier, ...], quantity: Decimal) -> int:
    """The tier a total falls in: the first with ``quantity <= up_to`` (last if none)."""
    for i, tier in enumerate(tiers):
        if tier.up_to is None or quantity <= tier.up_to:
            return i
    return len(tiers) - 1


def quote(pricing: Pricing, quantity: Decimal) -> Decimal:
    """The exact (unrounded) price of ``quantity`` units; callers round once at line level."""
    if isinstance(quantity, float):
        raise TypeError("quantities are Decimal, never float")
    quantity = Decimal(quantity)
    if quantity < 0:
        raise ValueError("quantity must not be negative")
    tiers = pricing.tiers
    if pricing.mode is Mode.VOLUME:
        tier = tiers[_tier_index(tiers, quantity)]
        return quantity * tier.unit_price + tier.flat_fee
    total = ZERO
    lower = ZERO
    for i, tier in enumerate(tiers):
        if i > 0 and quantity <= lower:
            break  # tier not reached
        upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
        units = max(ZERO, upper - lower)
        total += units * tier.unit_price + tier.flat_fee
        if tier.up_to is None:
            break
        lower = tier.up_to
    return total


def tier_breakdown(pricing: Pricing, quantity: Decimal) -> list[dict[str, Any]]:
    """Per-tier units and amounts (for invoice line descriptions and the quote endpoint)."""
    rows = []
    tiers = pricing.tiers
    if pricing.mode is Mode.VOLUME:
        i = _tier_index(tiers, quantity)
        tier = tiers[i]
        rows.append({"tier": i + 1, "quantity": quantity, "unit_price": tier.unit_price,
                     "flat_fee": tier.flat_fee, "amount": quantity * tier.unit_price
                     + tier.flat_fee})
        return rows
    lower = ZERO
    for i, tier in enumerate(tiers):
        if i > 0 and quantity <= lower:
            break
        upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
        units = max(ZERO, upper - lower)
        rows.append({"tier": i + 1, "quantity": units, "unit_price": tier.unit_price,
                     "flat_fee": tier.flat_fee,
                     "amount": units * tier.unit_price + tier.flat_fee})
        if tier.up_to is None:
            break
        lower = tier.up_to
    return rows


# --------------------------------------------------------------------------------------------
# Cycles and periods
# --------------------------------------------------------------------------------------------


class Cycle(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return {"weekly": 0, "monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}[self]

    @property
    def per_year(self) -> int:
        return {"weekly": 52, "monthly": 12, "quarterly": 4, "semiannual": 2, "annual": 1}[self]


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _anchored(month_index: int, anchor_day: int) -> date:
    year, month0 = divmod(month_index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(anchor_day, last))


def validate_anchor(cycle: Cycle, anchor_day: int) -> int:
    if cycle is Cycle.WEEKLY:
        if not 1 <= anchor_day <= 7:
            raise ValidationError("billing_anchor_day",
                                  "must be an ISO weekday 1-7 (1 = Monday) for weekly cycles")
    elif not 1 <= anchor_day <= 31:
        raise ValidationError("billing_anchor_day", "must be a day of the month, 1-31")
    return anchor_day


def default_anchor(cycle: Cycle, start: date) -> int:
    return start.isoweekday() if cycle is Cycle.WEEKLY else start.day


@dataclass(frozen=True)
class Terms:
    """What period arithmetic needs to know about a contract."""

    start_date: date
    cycle: Cycle
    anchor_day: int
    end_date: date | None = None  # last day of service, inclusive

    def __post_init__(self):
        object.__setattr__(self, "cycle", Cycle(self.cycle))

    # -- full cycle periods -----------------------------------------------------------------
    def boundary_on_or_before(self, d: date) -> date:
        """The latest cycle boundary on or before ``d``."""
        if self.cycle is Cycle.WEEKLY:
            return d - timedelta(days=(d.isoweekday() - self.anchor_day) % 7)
        k = self.cycle.months
        phase = _month_index(self.start_date)
        n = _month_index(d)
        n -= (n - phase) % k
        b = _anchored(n, self.anchor_day)
        if b > d:
            b = _anchored(n - k, self.anchor_day)
        return b

    def next_boundary(self, boundary: date) -> date:
        """The boundary after ``boundary`` (which must be a boundary)."""
        if self.cycle is Cycle.WEEKLY:
            return boundary + timedelta(days=7)
        return _anchored(_month_index(boundary) + self.cycle.months, self.anchor_day)

    def full_period(self, d: date) -> tuple[date, date]:
        start = self.boundary_on_or_before(d)
        return start, self.next_boundary(start)

    @property
    def service_end(self) -> date | None:
        """Exclusive end of service: the day after ``end_date``."""
        return None if self.end_date is None else self.end_date + timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """One billed period ``[start, end)``, possibly clipped from ``[full_start, full_end)``."""

    start: date
    end: date
    full_start: date
    full_end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def full_days(self) -> int:
        return (self.full_end - self.full_start).days

    @property
    def is_partial(self) -> bool:
        return self.days != self.full_days

    @property
    def factor(self) -> Fraction:
        """Proration factor ``days_covered / days_in_full_period`` (1 for a full period)."""
        return Fraction(self.days, self.full_days)

    @property
    def factor_decimal(self) -> Decimal:
        return Decimal(self.days) / Decimal(self.full_days)


def period_containing(terms: Terms, d: date) -> Period | None:
    """The billed period containing day ``d``, or None outside the contract's term."""
    if d < terms.start_date or (terms.end_date is not None and d > terms.end_date):
        return None
    full_start, full_end = terms.full_period(d)
    start = max(full_start, terms.start_date)
    end = full_end if terms.service_end is None else min(full_end, terms.service_end)
    return Period(start, end, full_start, full_end)


def iter_periods(terms: Terms, *, from_date: date | None = None):
    """Billed periods in order from the start (or from the one containing ``from_date``)."""
    d = max(from_date or terms.start_date, terms.start_date)
    while True:
        period = period_containing(terms, d)
        if period is None:
            return
        yield period
        d = period.end


def add_months(d: date, months: int, anchor_day: int | None = None) -> date:
    """``d`` plus whole months, clamped to month end (Jan 31 + 1 month = Feb 28/29)."""
    return _anchored(_month_index(d) + months, anchor_day or d.day)
