"""Reads of time: work types, a ticket's entries, a user's running timer, and the days and
weeks of *My time* in the company's time zone. The active company scope filters every query.

A day is the company's local calendar day (``core.timeutil.day_start``), so an entry at 23:30
in New York counts on that New York day even though it is the next day in UTC. An entry
belongs to the day on which it started. The week starts on the company's
``time.week_starts_on`` day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q, QuerySet, Sum

from nestogy.core.errors import NotFound
from nestogy.core.timeutil import day_start, local_date
from nestogy.timesheets.models import RunningTimer, TimeEntry, WorkType

WEEKDAY = {"monday": 0, "sunday": 6}


def work_types(*, active_only: bool = True) -> QuerySet[WorkType]:
    qs = WorkType.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def default_work_type(user) -> WorkType | None:
    """The work type ``user`` logged most recently (if still active), else the first active
    one: what the timer and the manual entry form offer first."""
    last = (TimeEntry.objects.filter(user=user, work_type__is_active=True)
            .select_related("work_type").order_by("-created_at", "-id").first())
    return last.work_type if last else work_types().first()


def get_entry(public_id: str) -> TimeEntry:
    entry = (TimeEntry.objects.select_related("ticket", "client", "user", "work_type")
             .filter(public_id=public_id).first())
    if entry is None:
        raise NotFound("time entry not found")
    return entry


def running_timer(user) -> RunningTimer | None:
    return (RunningTimer.objects.select_related("ticket", "client", "work_type")
            .filter(user=user).first())


@dataclass
class Totals:
    seconds: int = 0
    billable_seconds: int = 0
    count: int = 0

    @property
    def non_billable_seconds(self) -> int:
        return self.seconds - self.billable_seconds

    def add(self, entry: TimeEntry) -> None:
        self.seconds += entry.duration_seconds
        self.count += 1
        if entry.billable:
            self.billable_seconds += entry.duration_seconds


@dataclass
class TicketTime:
    entries: list[TimeEntry]
    totals: Totals


def ticket_time(ticket) -> TicketTime:
    """The ticket's entries (oldest first) with the total and billable total."""
    entries = list(TimeEntry.objects.filter(ticket=ticket)
                   .select_related("user", "work_type").order_by("started_at", "id"))
    totals = Totals()
    for entry in entries:
        totals.add(entry)
    return TicketTime(entries, totals)


@dataclass
class Day:
    day: date
    entries: list[TimeEntry] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)


@dataclass
class Period:
    start: date
    end: date  # inclusive
    days: list[Day]
    totals: Totals
    tz: str

    @property
    def length(self) -> int:
        return (self.end - self.start).days + 1


def week_start(company, day: date) -> date:
    """The first day of the company's week containing ``day``."""
    first = WEEKDAY[company.get_setting("time.week_starts_on")]
    return day - timedelta(days=(day.weekday() - first) % 7)


def period(company, user, start: date, days: int) -> Period:
    """``user``'s entries on ``days`` local days from ``start``, grouped by day, with totals
    per day and for the whole period (two index range reads: one query)."""
    tz = company.timezone or "UTC"
    end = start + timedelta(days=days - 1)
    entries = (TimeEntry.objects.filter(user=user, started_at__gte=day_start(start, tz),
                                        started_at__lt=day_start(end + timedelta(days=1), tz))
               .select_related("ticket", "client", "work_type").order_by("started_at", "id"))
    by_day = {start + timedelta(days=i): Day(start + timedelta(days=i)) for i in range(days)}
    totals = Totals()
    for entry in entries:
        bucket = by_day[local_date(entry.started_at, tz)]
        bucket.entries.append(entry)
        bucket.totals.add(entry)
        totals.add(entry)
    return Period(start=start, end=end, days=list(by_day.values()), totals=totals, tz=tz)


def logged_by_user(start, end) -> dict[int, dict]:
    """Per user: seconds logged and billable seconds of the time entries started in
    ``[start, end)`` (one aggregate query; the dashboards' utilisation)."""
    rows = (TimeEntry.objects.filter(started_at__gte=start, started_at__lt=end)
            .values("user_id").annotate(
                logged=Sum("duration_seconds", default=0),
                billable=Sum("duration_seconds", filter=Q(billable=True), default=0))
            .order_by())
    return {r["user_id"]: {"logged": r["logged"], "billable": r["billable"]} for r in rows}
