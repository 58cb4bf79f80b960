"""The pricing engine: every public vector, the anchors' documented behaviour, properties."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise, takewhile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nestogy.billing.calc import line_amount
from nestogy.contracts.pricing import (
    Cycle,
    Period,
    Pricing,
    Terms,
    iter_periods,
    period_containing,
    quote,
)
from nestogy.core.errors import ValidationError
from nestogy.core.money import MoneyError, minor_units, percent_of, quantize_money, to_decimal


def billing_periods(terms: Terms, up_to: date) -> list[Period]:
    """The billed periods starting on or before ``up_to`` (what a run as of it bills)."""
    return list(takewhile(lambda period: period.start <= up_to, iter_periods(terms)))


def prorated(amount: Decimal, period: Period, currency: str = "USD") -> Decimal:
    """A fixed line of ``amount`` for ``period``, as the recurring run computes it."""
    return line_amount(Decimal(1), amount, currency,
                       period.factor_decimal if period.is_partial else None)


VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "billing_public.json")
                     .read_text())

TIER_CASES = [(block["pricing"], qty, expected, block["source"])
              for block in VECTORS["tier_quotes"] for qty, expected in block["cases"]]


@pytest.mark.parametrize(("pricing", "quantity", "expected", "source"), TIER_CASES)
def test_public_tier_vectors(pricing, quantity, expected, source):
    assert quote(Pricing.from_dict(pricing), Decimal(quantity)) == Decimal(expected), source


@pytest.mark.parametrize("case", VECTORS["proration"], ids=lambda c: c["source"])
def test_public_proration_vectors(case):
    start = date.fromisoformat(case["contract_start"])
    terms = Terms(start, Cycle(case["cycle"]), case["anchor_day"])
    first = billing_periods(terms, start)[0]
    assert [first.start.isoformat(), first.end.isoformat()] == case["first_period"]
    amount = prorated(Decimal(case["full_period_amount"]), first)
    assert amount == Decimal(case["expected_amount"])


# -- tiers ----------------------------------------------------------------------------------

STEPS = {"mode": "graduated", "tiers": [
    {"up_to": 100, "unit_price": "1", "flat_fee": "0"},
    {"up_to": 200, "unit_price": "0.5", "flat_fee": "5"},
    {"up_to": None, "unit_price": "0.25"}]}


def test_quantity_between_integer_bounds_falls_in_upper_tier():
    volume = Pricing.from_dict({**STEPS, "mode": "volume"})
    assert quote(volume, Decimal("100")) == Decimal("100")
    assert quote(volume, Decimal("100.5")) == Decimal("100.5") * Decimal("0.5") + 5
    graduated = Pricing.from_dict(STEPS)
    # 100 units at 1, then 0.5 unit in tier 2 (whose flat fee is reached)
    assert quote(graduated, Decimal("100.5")) == Decimal("100") + Decimal("0.25") + 5
    assert quote(graduated, Decimal("100")) == Decimal("100")


def test_graduated_first_flat_fee_at_zero_usage_only_first():
    pricing = Pricing.from_dict({"mode": "graduated", "tiers": [
        {"up_to": 10, "unit_price": "1", "flat_fee": "7"},
        {"up_to": None, "unit_price": "1", "flat_fee": "100"}]})
    assert quote(pricing, Decimal(0)) == Decimal(7)
    assert quote(pricing, Decimal(10)) == Decimal(17)
    assert quote(pricing, Decimal(11)) == Decimal(118)


@pytest.mark.parametrize(("tiers", "field"), [
    ([], "pricing.tiers"),
    ([{"up_to": 10, "unit_price": "1"}, {"up_to": 5, "unit_price": "1"}],
     "pricing.tiers[1].up_to"),
    ([{"up_to": None, "unit_price": "1"}, {"up_to": 5, "unit_price": "1"}],
     "pricing.tiers[0].up_to"),
    ([{"up_to": 10, "unit_price": "-1"}], "pricing.tiers[0].unit_price"),
    ([{"up_to": 10, "unit_price": 1.5}], "pricing.tiers[0].unit_price"),
    ([{"up_to": 10, "unit_price": "1", "flat_fee": "-2"}], "pricing.tiers[0].flat_fee"),
    ([{"up_to": 10}], "pricing.tiers[0].unit_price"),
    ([{"up_to": 10, "unit_price": "1", "bogus": 1}], "pricing.tiers[0].bogus"),
])
def test_invalid_pricing_names_the_field(tiers, field):
    with pytest.raises(ValidationError) as exc:
        Pricing.from_dict({"mode": "graduated", "tiers": tiers})
    assert exc.value.field == field


def test_bad_mode():
    with pytest.raises(ValidationError) as exc:
        Pricing.from_dict({"mode": "stairstep", "tiers": [{"up_to": None, "unit_price": "1"}]})
    assert exc.value.field == "pricing.mode"


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=10_000, places=2),
       st.decimals(min_value=0, max_value=10_000, places=2))
def test_graduated_amount_is_monotone_in_quantity(a, b):
    pricing = Pricing.from_dict(STEPS)
    low, high = sorted((a, b))
    assert quote(pricing, low) <= quote(pricing, high)


# -- money ----------------------------------------------------------------------------------

def test_money_rounding_is_half_up_per_currency():
    assert quantize_money(Decimal("2.675"), "USD") == Decimal("2.68")
    assert quantize_money(Decimal("2.665"), "EUR") == Decimal("2.67")
    assert quantize_money(Decimal("-2.675"), "USD") == Decimal("-2.68")
    assert quantize_money(Decimal("100.5"), "JPY") == Decimal("101")
    assert quantize_money(Decimal("1.2345"), "KWD") == Decimal("1.235")
    assert (minor_units("JPY"), minor_units("BHD"), minor_units("usd")) == (0, 3, 2)


def test_tax_rounding_once_on_the_sum():
    # three lines of 0.335 taxed at 10%: per-line rounding would give 0.03 x 3 = 0.09
    subtotal = sum([Decimal("0.335")] * 3)
    assert percent_of(subtotal, Decimal("10"), "USD") == Decimal("0.10")
    assert percent_of(Decimal("10.05"), Decimal("8.25"), "USD") == Decimal("0.83")


@pytest.mark.parametrize("bad", [0.1, float("nan"), "NaN", "inf", "1e5x", "", None, True, [1]])
def test_to_decimal_refuses_floats_and_garbage(bad):
    with pytest.raises(MoneyError) as exc:
        to_decimal(bad, "unit_price")
    assert exc.value.field == "unit_price"


def test_to_decimal_accepts_strings_and_ints():
    assert to_decimal("12.50", "x") == Decimal("12.50")
    assert to_decimal(3, "x") == Decimal(3)
    with pytest.raises(MoneyError):
        to_decimal("-1", "x", allow_negative=False)


# -- periods --------------------------------------------------------------------------------

def starts(periods):
    return [p.start for p in periods]


@pytest.mark.parametrize(("year", "feb_end"), [(2023, 28), (2024, 29)])
def test_anchor_31_through_february(year, feb_end):
    terms = Terms(date(year, 1, 31), Cycle.MONTHLY, 31)
    periods = billing_periods(terms, date(year, 6, 1))
    assert starts(periods) == [date(year, 1, 31), date(year, 2, feb_end), date(year, 3, 31),
                               date(year, 4, 30), date(year, 5, 31)]
    assert periods[1].end == date(year, 3, 31)  # back to 31 after February
    assert not any(p.is_partial for p in periods)


def test_anchor_30_in_february_then_back():
    terms = Terms(date(2023, 1, 30), Cycle.MONTHLY, 30)
    assert starts(billing_periods(terms, date(2023, 4, 1))) == [
        date(2023, 1, 30), date(2023, 2, 28), date(2023, 3, 30)]


def test_monthly_proration_first_partial_period():
    terms = Terms(date(2024, 2, 10), Cycle.MONTHLY, 1)
    first = billing_periods(terms, date(2024, 2, 10))[0]
    assert (first.start, first.end, first.days, first.full_days) == (
        date(2024, 2, 10), date(2024, 3, 1), 20, 29)
    assert prorated(Decimal("290"), first) == Decimal("200.00")


def test_quarterly_proration_uses_the_containing_quarter():
    # quarters are phased from the start month (March) and anchored on day 1
    terms = Terms(date(2025, 3, 16), Cycle.QUARTERLY, 1)
    periods = billing_periods(terms, date(2025, 12, 31))
    first = periods[0]
    assert (first.start, first.end, first.full_start, first.full_end) == (
        date(2025, 3, 16), date(2025, 6, 1), date(2025, 3, 1), date(2025, 6, 1))
    assert first.days == 77 and first.full_days == 92
    assert prorated(Decimal("920"), first) == Decimal("770.00")
    assert starts(periods)[1:] == [date(2025, 6, 1), date(2025, 9, 1), date(2025, 12, 1)]


def test_annual_proration_ending_mid_year():
    terms = Terms(date(2024, 7, 1), Cycle.ANNUAL, 1, end_date=date(2025, 3, 31))
    periods = billing_periods(terms, date(2030, 1, 1))
    assert len(periods) == 1
    p = periods[0]
    assert (p.start, p.end, p.full_start, p.full_end) == (
        date(2024, 7, 1), date(2025, 4, 1), date(2024, 7, 1), date(2025, 7, 1))
    assert (p.days, p.full_days) == (274, 365)
    assert prorated(Decimal("1200"), p) == Decimal("900.82")


def test_annual_full_period_in_leap_year_has_366_days():
    terms = Terms(date(2024, 1, 1), Cycle.ANNUAL, 1)
    p = billing_periods(terms, date(2024, 1, 1))[0]
    assert p.full_days == 366 and not p.is_partial


def test_contract_ending_mid_period_is_prorated_to_its_last_day():
    terms = Terms(date(2025, 1, 1), Cycle.MONTHLY, 1, end_date=date(2025, 3, 10))
    periods = billing_periods(terms, date(2025, 12, 1))
    assert starts(periods) == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
    last = periods[-1]
    assert (last.end, last.days, last.full_days) == (date(2025, 3, 11), 10, 31)
    assert prorated(Decimal("31"), last) == Decimal("10.00")


def test_semiannual_and_weekly_cycles():
    terms = Terms(date(2025, 8, 31), Cycle.SEMIANNUAL, 31)
    assert starts(billing_periods(terms, date(2026, 9, 1))) == [
        date(2025, 8, 31), date(2026, 2, 28), date(2026, 8, 31)]
    weekly = Terms(date(2025, 1, 1), Cycle.WEEKLY, 5)  # Fridays
    periods = billing_periods(weekly, date(2025, 1, 20))
    assert starts(periods) == [date(2025, 1, 1), date(2025, 1, 3), date(2025, 1, 10),
                               date(2025, 1, 17)]
    assert (periods[0].days, periods[0].full_days) == (2, 7)


def test_periods_never_depend_on_the_run_date():
    terms = Terms(date(2025, 1, 15), Cycle.MONTHLY, 15)
    a = billing_periods(terms, date(2025, 6, 14))
    b = billing_periods(terms, date(2025, 6, 20))
    assert starts(b)[: len(a)] == starts(a)
    assert period_containing(terms, date(2025, 3, 20)).start == date(2025, 3, 15)
    assert period_containing(terms, date(2024, 3, 20)) is None


@settings(max_examples=150, deadline=None)
@given(start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
       cycle=st.sampled_from(list(Cycle)), anchor=st.integers(1, 31),
       length=st.integers(1, 900), open_ended=st.booleans())
def test_periods_tile_the_term_without_gap_or_overlap(start, cycle, anchor, length,
                                                       open_ended):
    if cycle is Cycle.WEEKLY:
        anchor = anchor % 7 + 1
    end = None if open_ended else start + timedelta(days=length)
    terms = Terms(start, cycle, anchor, end_date=end)
    horizon = start + timedelta(days=length)
    periods = billing_periods(terms, horizon)
    assert periods[0].start == start
    for a, b in pairwise(periods):
        assert a.end == b.start
    for p in periods:
        assert p.start < p.end
        assert p.full_start <= p.start and p.end <= p.full_end
        assert 0 < p.factor <= 1
    if end is not None:
        assert periods[-1].end == end + timedelta(days=1)
    else:
        assert periods[-1].start <= horizon < periods[-1].end
