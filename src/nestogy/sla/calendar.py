"""Business-time maths on a working calendar: pure functions, precise to the second.

Rules (docs/sla.md):

- A calendar has an IANA time zone, weekly windows (several per weekday) given as local
  second offsets ``[start, end)`` within the day (``end`` may be 86400, i.e. ``24:00``),
  holidays (whole local dates, explicit and/or from the ``holidays`` library for a
  country/subdivision) and may be 24x7 (every second counts, holidays ignored).
- ``add_business_time(start, seconds)`` walks forward consuming the budget inside windows on
  non-holiday days. A start outside working time begins at the next window start. A budget
  that runs out exactly at a window end returns that window end. A zero budget returns the
  next working moment (``start`` itself when it is working time).
- ``business_seconds_between(a, b)`` counts working seconds in ``[a, b)``; 0 when ``b <= a``.

DST: every window boundary is built in local wall time on its own date and converted with
``zoneinfo``, so a window spanning a transition is an hour shorter or longer in real time.

Speed: after the first (partial) day, whole weeks are consumed in one arithmetic step when
they are *regular*: no holiday and the same UTC offset at both ends (no DST transition), so
their working time equals the nominal weekly total. Only irregular weeks and the last week
are walked day by day, so a 10,000-hour budget takes a few hundred cheap week steps.
``STATS`` counts day and week steps so tests can assert the walk stays bounded.

The business rules this implements: docs/semantics.md#calendars.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from nestogy.core.errors import ValidationError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 86400
ONE_DAY = timedelta(days=1)
WEEK = timedelta(days=7)

# Step counters (day steps walked, week steps skipped) for bounded-walk tests.
STATS = {"days": 0, "weeks": 0}

_TIME = re.compile(r"^(\d{2}):(\d{2})$")


def _parse_time(value: object, field_name: str) -> int:
    match = _TIME.match(value) if isinstance(value, str) else None
    if not match:
        raise ValidationError(field_name, "must be a time HH:MM")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValidationError(field_name, "must be a time between 00:00 and 24:00")
    return hours * 3600 + minutes * 60


def parse_hours(hours: object, field_name: str = "hours") -> dict[int, tuple[tuple[int, int], ...]]:
    """``{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}`` → weekday → windows.

    Windows must be non-empty, sorted and non-overlapping; unknown day names are rejected.
    """
    if not isinstance(hours, Mapping):
        raise ValidationError(field_name, 'must be an object like {"mon": [["09:00", "17:00"]]}')
    result: dict[int, tuple[tuple[int, int], ...]] = {}
    for name, windows in hours.items():
        if name not in WEEKDAYS:
            raise ValidationError(f"{field_name}.{name}",
                                  f"is not a weekday; use {', '.join(WEEKDAYS)}")
        if not isinstance(windows, list):
            raise ValidationError(f"{field_name}.{name}", "must be a list of [start, end] pairs")
        parsed: list[tuple[int, int]] = []
        for i, window in enumerate(windows):
            where = f"{field_name}.{name}[{i}]"
            if not isinstance(window, list | tuple) or len(window) != 2:
                raise ValidationError(where, 'must be a pair ["HH:MM", "HH:MM"]')
            start, end = _parse_time(window[0], where), _parse_time(window[1], where)
            if end <= start:
                raise ValidationError(where, "must end after it starts")
            if start >= DAY:
                raise ValidationError(where, "must start before 24:00")
            if parsed and start < parsed[-1][1]:
                raise ValidationError(where, "overlaps or precedes the previous window")
            parsed.append((start, end))
        if parsed:
            result[WEEKDAYS.index(name)] = tuple(parsed)
    return result


@dataclass(frozen=True)
class Calendar:
    """A working calendar (a value; build one from a stored ``BusinessCalendar``)."""

    timezone: str = "UTC"
    windows: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    holiday_country: str = ""
    holiday_subdivision: str = ""
    is_24x7: bool = False
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_spec(cls, *, timezone: str = "UTC", hours: Mapping | None = None,
                  holidays: Iterable[str | date] = (), holiday_country: str = "",
                  holiday_subdivision: str = "", is_24x7: bool = False) -> Calendar:
        dates = frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in holidays)
        return cls(timezone=timezone, windows=parse_hours(hours or {}), holidays=dates,
                   holiday_country=holiday_country, holiday_subdivision=holiday_subdivision,
                   is_24x7=is_24x7)

    # -- building blocks -------------------------------------------------------------------

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def week_seconds(self) -> int:
        """Nominal working seconds in any 7 consecutive days without holidays or DST."""
        return sum(e - s for d in range(7) for s, e in self.windows.get(d, ()))

    def _holiday_list(self, year: int) -> list[date]:
        cached = self._cache.get(year)
        if cached is None:
            dates = {d for d in self.holidays if d.year == year}
            if self.holiday_country:
                import holidays as holidays_lib

                dates |= set(holidays_lib.country_holidays(
                    self.holiday_country, subdiv=self.holiday_subdivision or None, years=year))
            cached = self._cache[year] = sorted(dates)
        return cached

    def is_holiday(self, day: date) -> bool:
        dates = self._holiday_list(day.year)
        i = bisect.bisect_left(dates, day)
        return i < len(dates) and dates[i] == day

    def _holiday_in(self, first: date, last: date) -> bool:
        """Whether any holiday falls on a date in ``[first, last]``."""
        for year in range(first.year, last.year + 1):
            dates = self._holiday_list(year)
            i = bisect.bisect_left(dates, first)
            if i < len(dates) and dates[i] <= last:
                return True
        return False

    def _memo(self, key, compute):
        """Per-date results memoised on this calendar value (shared by a batch)."""
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) > 50_000:  # a long-lived value: keep memory bounded
                self._cache.clear()
            cached = self._cache[key] = compute()
        return cached

    def _midnight(self, day: date) -> datetime:
        return self._memo(("mn", day), lambda: datetime(
            day.year, day.month, day.day, tzinfo=self.tz).astimezone(UTC))

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of local date ``day`` as aware UTC ``[start, end)`` pairs.

        Memoised per date on this calendar value (a batch of tickets on one policy shares
        one ``Calendar``, so each date is converted once).
        """
        key = ("iv", day)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) > 50_000:  # a long-lived value: keep memory bounded
                self._cache.clear()
            cached = self._cache[key] = self._compute_intervals(day)
        return cached

    def _compute_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if self.is_holiday(day):
            return []
        base = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        out = []
        for s, e in self.windows.get(day.weekday(), ()):
            start = (base + timedelta(seconds=s)).astimezone(UTC)
            end = (base + timedelta(seconds=e)).astimezone(UTC)
            if end > start:
                out.append((start, end))
        return out

    def _regular_week(self, day: date) -> bool:
        """True when the 7 days from ``day`` hold exactly ``week_seconds`` of working time."""
        return self._memo(("rw", day), lambda: self._compute_regular_week(day))

    def _compute_regular_week(self, day: date) -> bool:
        end = day + WEEK
        tz = self.tz
        a = datetime(day.year, day.month, day.day, tzinfo=tz).utcoffset()
        b = datetime(end.year, end.month, end.day, tzinfo=tz).utcoffset()
        mid = day + timedelta(days=3)
        c = datetime(mid.year, mid.month, mid.day, tzinfo=tz).utcoffset()
        return a == b == c and not self._holiday_in(day, end - ONE_DAY)

    def _check_workable(self) -> None:
        if not self.is_24x7 and self.week_seconds <= 0:
            raise ValidationError("hours", "the calendar has no working time")

    # -- the two public operations ---------------------------------------------------------

    def add_business_time(self, start: datetime, seconds: int | float) -> datetime:
        """The moment at which ``seconds`` of working time after ``start`` have elapsed."""
        _require_aware(start)
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        start = start.astimezone(UTC)
        if self.is_24x7:
            return start + timedelta(seconds=seconds)
        self._check_workable()
        remaining = timedelta(seconds=seconds)
        day = self._local_date(start)
        first = True
        while True:
            if not first and remaining > timedelta(seconds=self.week_seconds) \
                    and self._regular_week(day):
                STATS["weeks"] += 1
                remaining -= timedelta(seconds=self.week_seconds)
                day += WEEK
                continue
            STATS["days"] += 1
            for w_start, w_end in self.intervals(day):
                if w_end <= start:
                    continue
                begin = max(start, w_start)
                available = w_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += ONE_DAY
            first = False

    def business_seconds_between(self, a: datetime, b: datetime) -> int:
        """Working seconds in ``[a, b)`` (whole seconds, rounded down); 0 if ``b <= a``."""
        _require_aware(a)
        _require_aware(b)
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        if b <= a:
            return 0
        if self.is_24x7:
            return int((b - a).total_seconds())
        if b - a <= CUMULATIVE_SPAN:
            # Difference of two running totals (exact: whole microseconds), memoised per
            # date on this calendar value: a batch of tickets on one policy walks each date
            # once instead of once per ticket and clock.
            table = self._cumulative()
            return int((self._worked_before(table, b) - self._worked_before(table, a))
                       .total_seconds())
        total = timedelta(0)
        day = self._local_date(a)
        first = True
        while True:
            if not first and self._midnight(day + WEEK) <= b and self._regular_week(day):
                STATS["weeks"] += 1
                total += timedelta(seconds=self.week_seconds)
                day += WEEK
                continue
            STATS["days"] += 1
            for w_start, w_end in self.intervals(day):
                lo, hi = max(a, w_start), min(b, w_end)
                if hi > lo:
                    total += hi - lo
            day += ONE_DAY
            first = False
            if self._midnight(day) >= b:
                break
        return int(total.total_seconds())


    def _cumulative(self) -> dict:
        table = self._cache.get("cumulative")
        if table is None:
            table = self._cache["cumulative"] = {}
        return table

    def _day_total(self, day: date) -> timedelta:
        return sum((end - start for start, end in self.intervals(day)), timedelta(0))

    def _worked_before(self, table: dict, moment: datetime) -> timedelta:
        """Working time from the table's first local midnight up to ``moment`` (negative
        before it). ``table`` maps dates to the total before their midnight; it grows one
        date at a time from the dates already in it."""
        day = self._local_date(moment)
        total = table.get(day)
        if total is None:
            if not table:
                table[day] = total = timedelta(0)
                table["range"] = (day, day)
            else:
                low, high = table["range"]
                if day > high:
                    walk, total = high, table[high]
                    while walk < day:
                        total += self._day_total(walk)
                        walk += ONE_DAY
                        table[walk] = total
                    table["range"] = (low, day)
                else:
                    walk, total = low, table[low]
                    while walk > day:
                        walk -= ONE_DAY
                        total -= self._day_total(walk)
                        table[walk] = total
                    table["range"] = (day, high)
        for start, end in self.intervals(day):
            if start < moment:
                total += min(moment, end) - start
        return total


# Spans up to this long are counted from per-date running totals (longer ones, rare, walk
# whole regular weeks at a time instead).
CUMULATIVE_SPAN = timedelta(days=400)


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("business-time maths needs aware datetimes")


TWENTY_FOUR_SEVEN = Calendar(timezone="UTC", is_24x7=True)
