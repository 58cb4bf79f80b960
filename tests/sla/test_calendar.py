"""Business-time maths: the shared vectors, own edge cases, DST, holidays, properties, speed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nestogy.core.errors import ValidationError
from nestogy.sla import calendar as cal_mod
from nestogy.sla.calendar import Calendar, parse_hours

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "sla_public.json").read_text())


def vector_calendar(name: str) -> Calendar:
    spec = VECTORS["calendars"][name]
    return Calendar.from_spec(timezone=spec["timezone"], hours=spec["hours"],
                              holidays=spec["holidays"])


def dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.mark.parametrize("case", VECTORS["add_business_time"], ids=lambda c: c["source"])
def test_vector_add_business_time(case):
    cal = vector_calendar(case["calendar"])
    assert cal.add_business_time(dt(case["start"]), case["seconds"]) == dt(case["expected"])


@pytest.mark.parametrize("case", VECTORS["business_seconds"], ids=lambda c: c["source"])
def test_vector_business_seconds(case):
    cal = vector_calendar(case["calendar"])
    assert cal.business_seconds_between(dt(case["start"]), dt(case["end"])) == case["expected"]


WEEKDAYS_9_17 = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
SPLIT = {d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_multi_window_day_skips_lunch():
    cal = Calendar.from_spec(hours=SPLIT)
    # Monday 2025-03-03 11:00 + 2h: one hour before lunch, one after.
    assert cal.add_business_time(utc(2025, 3, 3, 11), 7200) == utc(2025, 3, 3, 14)
    # Ends exactly at the morning window end: that end, not 13:00.
    assert cal.add_business_time(utc(2025, 3, 3, 11), 3600) == utc(2025, 3, 3, 12)
    # Started during lunch: begins at 13:00.
    assert cal.add_business_time(utc(2025, 3, 3, 12, 30), 600) == utc(2025, 3, 3, 13, 10)
    assert cal.business_seconds_between(utc(2025, 3, 3, 8), utc(2025, 3, 3, 18)) == 7 * 3600


def test_zero_budget_returns_next_working_moment_or_start():
    cal = Calendar.from_spec(hours=SPLIT)
    assert cal.add_business_time(utc(2025, 3, 3, 10), 0) == utc(2025, 3, 3, 10)
    assert cal.add_business_time(utc(2025, 3, 3, 12, 15), 0) == utc(2025, 3, 3, 13)
    assert cal.add_business_time(utc(2025, 3, 7, 18), 0) == utc(2025, 3, 10, 9)  # Fri → Mon


def test_window_until_midnight():
    cal = Calendar.from_spec(hours={"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]})
    # Budget ends exactly at 24:00 → that window end (Tuesday 00:00), not Tuesday's window.
    assert cal.add_business_time(utc(2025, 3, 3, 21), 3 * 3600) == utc(2025, 3, 4, 0)
    assert cal.add_business_time(utc(2025, 3, 3, 21), 4 * 3600) == utc(2025, 3, 4, 1)
    assert cal.business_seconds_between(utc(2025, 3, 3, 20), utc(2025, 3, 4, 3)) == 6 * 3600


def test_berlin_spring_forward_shortens_a_window_spanning_it():
    # 2025-03-30: 02:00 CET → 03:00 CEST. A Sunday window 00:00-06:00 lasts 5 real hours.
    cal = Calendar.from_spec(timezone="Europe/Berlin", hours={"sun": [["00:00", "06:00"]]})
    start = datetime(2025, 3, 29, 23, tzinfo=UTC)  # 00:00 local CET
    assert cal.business_seconds_between(start, start + timedelta(days=1)) == 5 * 3600
    assert cal.add_business_time(start, 5 * 3600) == datetime(2025, 3, 30, 4, tzinfo=UTC)


def test_berlin_fall_back_lengthens_a_window_spanning_it():
    # 2025-10-26: 03:00 CEST → 02:00 CET. A Sunday window 00:00-06:00 lasts 7 real hours.
    cal = Calendar.from_spec(timezone="Europe/Berlin", hours={"sun": [["00:00", "06:00"]]})
    start = datetime(2025, 10, 25, 22, tzinfo=UTC)  # 00:00 local CEST
    assert cal.business_seconds_between(start, start + timedelta(days=1)) == 7 * 3600
    assert cal.add_business_time(start, 7 * 3600) == datetime(2025, 10, 26, 5, tzinfo=UTC)


def test_new_york_9_to_5_follows_local_time_across_dst():
    cal = Calendar.from_spec(timezone="America/New_York", hours=WEEKDAYS_9_17)
    # Friday 2025-03-07 16:00 EST (21:00Z) + 2h → Monday 10:00 EDT (14:00Z).
    assert cal.add_business_time(utc(2025, 3, 7, 21), 7200) == utc(2025, 3, 10, 14)
    # Friday 2025-10-31 16:00 EDT (20:00Z) + 2h → Monday 10:00 EST (15:00Z).
    assert cal.add_business_time(utc(2025, 10, 31, 20), 7200) == utc(2025, 11, 3, 15)
    # A full DST week still holds 40 business hours.
    assert cal.business_seconds_between(utc(2025, 3, 8), utc(2025, 3, 15)) == 40 * 3600


def test_holidays_from_country_code_and_explicit_dates():
    cal = Calendar.from_spec(timezone="America/New_York", hours=WEEKDAYS_9_17,
                             holiday_country="US", holidays=["2025-12-26"])
    assert cal.is_holiday(date(2025, 12, 25)) and cal.is_holiday(date(2025, 12, 26))
    # Wed 2025-12-24 16:00 EST + 2h: Christmas and the 26th are closed → Mon 29th 10:00 EST.
    assert cal.add_business_time(utc(2025, 12, 24, 21), 7200) == utc(2025, 12, 29, 15)
    assert cal.business_seconds_between(utc(2025, 12, 24, 14), utc(2025, 12, 30, 5)) == 16 * 3600
    sub = Calendar.from_spec(hours=WEEKDAYS_9_17, holiday_country="DE", holiday_subdivision="BY")
    assert sub.is_holiday(date(2025, 1, 6))  # Epiphany: Bavaria only
    assert not Calendar.from_spec(hours=WEEKDAYS_9_17, holiday_country="DE").is_holiday(
        date(2025, 1, 6))


def test_24x7_counts_every_second():
    cal = Calendar.from_spec(is_24x7=True, holidays=["2025-12-25"])
    assert cal.add_business_time(utc(2025, 12, 24, 23), 7200) == utc(2025, 12, 25, 1)
    assert cal.business_seconds_between(utc(2025, 12, 24), utc(2025, 12, 26)) == 2 * 86400


def test_reversed_or_empty_range_is_zero():
    cal = Calendar.from_spec(hours=WEEKDAYS_9_17)
    assert cal.business_seconds_between(utc(2025, 3, 3, 12), utc(2025, 3, 3, 12)) == 0
    assert cal.business_seconds_between(utc(2025, 3, 3, 12), utc(2025, 3, 3, 10)) == 0


@pytest.mark.parametrize(("hours", "field"), [
    ({"mon": [["17:00", "09:00"]]}, "hours.mon[0]"),
    ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "hours.mon[1]"),
    ({"funday": [["09:00", "12:00"]]}, "hours.funday"),
    ({"mon": [["9am", "12:00"]]}, "hours.mon[0]"),
    ({"mon": [["09:00", "24:30"]]}, "hours.mon[0]"),
])
def test_bad_hours_name_the_window(hours, field):
    with pytest.raises(ValidationError) as exc:
        parse_hours(hours)
    assert exc.value.field == field


def test_ten_thousand_hour_budget_walks_weeks_not_days():
    cal = Calendar.from_spec(timezone="Europe/Berlin", hours=SPLIT, holiday_country="DE")
    start = utc(2025, 1, 6, 8)
    cal_mod.STATS.update(days=0, weeks=0)
    due = cal.add_business_time(start, 10_000 * 3600)
    walked_days = cal_mod.STATS["days"]
    skipped = cal_mod.STATS["weeks"]
    assert cal.business_seconds_between(start, due) == 10_000 * 3600
    # ~286 weeks of 35h; only irregular weeks (holidays, DST) are walked by day.
    assert skipped > 200
    assert walked_days < 250, walked_days  # a plain walk would take ~2000 days


def test_skipping_weeks_gives_the_same_answer_as_walking():
    cal = Calendar.from_spec(timezone="America/New_York", hours=SPLIT, holiday_country="US")
    start = utc(2025, 1, 2, 15)
    budget = 900 * 3600
    due = cal.add_business_time(start, budget)
    # Walk day by day, without skipping, as the reference.
    total, day = 0, start.astimezone(cal.tz).date()
    while total < budget:
        for s, e in cal.intervals(day):
            s = max(s, start)
            if e > s:
                if total + (e - s).total_seconds() >= budget:
                    assert s + timedelta(seconds=budget - total) == due
                    total = budget
                    break
                total += (e - s).total_seconds()
        day += timedelta(days=1)


moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31),
                       timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0))
budgets = st.integers(min_value=0, max_value=3000 * 3600)
CALENDARS = [
    Calendar.from_spec(timezone="Europe/Berlin", hours=SPLIT, holiday_country="DE"),
    Calendar.from_spec(timezone="America/New_York", hours={**WEEKDAYS_9_17,
                                                            "sat": [["22:00", "24:00"]],
                                                            "sun": [["00:00", "03:00"]]}),
    Calendar.from_spec(timezone="UTC", is_24x7=True),
]
calendars = st.sampled_from(CALENDARS)


@settings(max_examples=150, deadline=None)
@given(calendars, moments, budgets)
def test_property_between_inverts_add(cal, a, s):
    assert cal.business_seconds_between(a, cal.add_business_time(a, s)) == s


@settings(max_examples=150, deadline=None)
@given(calendars, moments, budgets, budgets)
def test_property_add_is_monotonic_and_additive(cal, a, s1, s2):
    lo, hi = sorted((s1, s2))
    assert cal.add_business_time(a, lo) <= cal.add_business_time(a, hi)
    mid = cal.add_business_time(a, lo)
    assert cal.add_business_time(mid, hi - lo) == cal.add_business_time(a, hi) or hi == lo


@settings(max_examples=150, deadline=None)
@given(calendars, moments, moments, moments)
def test_property_between_is_additive(cal, x, y, z):
    a, b, c = sorted((x, y, z))
    total = cal.business_seconds_between(a, c)
    assert total == cal.business_seconds_between(a, b) + cal.business_seconds_between(b, c)
    assert total >= 0


def test_running_totals_give_the_same_seconds_as_walking(monkeypatch):
    """Short spans are counted as the difference of per-date running totals; they must
    equal the day-by-day walk (used for long spans) to the second, across DST and
    holidays, inside and outside working hours, in any order of calls."""
    import random

    hours = {**SPLIT, "sat": [["20:00", "24:00"]]}
    rng = random.Random(11)
    for spec in ({"timezone": "America/New_York", "holiday_country": "US"},
                 {"timezone": "Europe/Berlin", "holiday_country": "DE"}):
        fast = Calendar.from_spec(hours=hours, **spec)
        pairs = []
        for _ in range(300):
            a = utc(2025, 1, 1) + timedelta(seconds=rng.randint(0, 360 * 86400),
                                            microseconds=rng.randint(0, 999_999))
            pairs.append((a, a + timedelta(seconds=rng.randint(0, 40 * 86400))))
        got = [fast.business_seconds_between(a, b) for a, b in pairs]
        monkeypatch.setattr(cal_mod, "CUMULATIVE_SPAN", timedelta(0))
        walker = Calendar.from_spec(hours=hours, **spec)
        assert got == [walker.business_seconds_between(a, b) for a, b in pairs]
        monkeypatch.undo()
