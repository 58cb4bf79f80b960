"""The SLA report: compliance, mean and p90 business seconds, breaches, overrun per group.

Computed in the database: one aggregate query per report (``GROUP BY`` the chosen key with
conditional counts and averages), p90 with ``PERCENTILE_CONT(0.9) WITHIN GROUP`` on
PostgreSQL and, elsewhere, one window query that returns only the (at most two) rows around
the 90th percentile of each group, interpolated like ``PERCENTILE_CONT``. No loop runs over
tickets; Python only shapes one row per group.

Per clock: ``met`` (met at all), ``on_time`` (met not late), ``breached`` (late or overdue),
``compliance_percent`` = on_time / (on_time + breached) of the decided clocks (running
clocks that are not yet breached are not counted), ``mean_business_seconds`` and
``p90_business_seconds`` of time-to-meet (pauses excluded), ``average_overrun_seconds`` of
the breached ones, and ``near_miss``: clocks met on time after the policy's warning
threshold (``warning_percent`` of the ticket's target for its priority, in business seconds:
``seconds >= ceil(target * warning_percent / 100)``). Tickets are those opened in
``[from, to)``. The thresholds come from the company's policies (one query), so the count
stays one conditional ``COUNT`` in the same aggregate query.
"""

from __future__ import annotations

import math
from datetime import datetime

from django.db import connection
from django.db.models import Aggregate, Avg, Count, F, FloatField, Q, Window
from django.db.models.functions import Ceil, Floor, RowNumber

from nestogy.core.errors import ValidationError
from nestogy.tickets.models import CLOSED_STATUSES, Ticket

GROUPS = {"priority": ("priority", "priority"),
          "client": ("client__public_id", "client__name"),
          "assignee": ("assignee__public_id", "assignee__name")}
CLOCK_COLUMNS = {"first_response": ("first_response_seconds", "first_response_breached",
                                    "first_response_breached_by"),
                 "resolution": ("resolution_seconds", "resolution_breached",
                                "resolution_breached_by")}


class Percentile90(Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(0.9) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _policies() -> list[tuple[int, dict, int]]:
    from nestogy.sla.models import SLAPolicy

    return list(SLAPolicy.objects.values_list("id", "targets", "warning_percent"))


def near_miss_q(name: str, policies: list[tuple[int, dict, int]] | None = None) -> Q:
    """Tickets whose ``name`` clock (first_response | resolution) was met on time after its
    policy's warning threshold for the ticket's priority (``policies``: the company's, as
    ``(id, targets, warning_percent)``; read when not given)."""
    seconds, breached, _ = CLOCK_COLUMNS[name]
    minutes_key = f"{name}_minutes"
    q = Q(pk__in=[])
    for policy_id, targets, warning in (_policies() if policies is None else policies):
        for priority, target in (targets or {}).items():
            try:
                target_seconds = int(target[minutes_key]) * 60
            except (KeyError, TypeError, ValueError):
                continue
            threshold = math.ceil(target_seconds * warning / 100)
            q |= Q(policy_id=policy_id, priority=priority, **{f"{seconds}__gte": threshold,
                                                               breached: False})
    return q


def _aggregates(postgres: bool) -> dict:
    policies = _policies()
    aggs = {"tickets": Count("id"),
            "breaches": Count("id", filter=Q(first_response_breached=True)
                              | Q(resolution_breached=True))}
    for name, (seconds, breached, by) in CLOCK_COLUMNS.items():
        aggs[f"{name}__met"] = Count(seconds)
        aggs[f"{name}__on_time"] = Count("id", filter=Q(**{f"{seconds}__isnull": False,
                                                           breached: False}))
        aggs[f"{name}__breached"] = Count("id", filter=Q(**{breached: True}))
        aggs[f"{name}__near_miss"] = Count("id", filter=near_miss_q(name, policies))
        aggs[f"{name}__mean"] = Avg(seconds)
        aggs[f"{name}__overrun"] = Avg(by, filter=Q(**{breached: True}))
        if postgres:
            aggs[f"{name}__p90"] = Percentile90(seconds)
    return aggs


def _p90_portable(base, key: str) -> dict[tuple[str, object], float]:
    """(clock, group key) → p90, from one window query per clock (≤ 2 rows per group)."""
    out: dict[tuple[str, object], float] = {}
    for name, (seconds, _, _) in CLOCK_COLUMNS.items():
        rows = (base.filter(**{f"{seconds}__isnull": False})
                .annotate(grp=F(key), val=F(seconds),
                          rn=Window(RowNumber(), partition_by=[F(key)],
                                    order_by=[F(seconds).asc(), F("id").asc()]),
                          cnt=Window(Count("id"), partition_by=[F(key)]))
                .annotate(lo=Floor((F("cnt") - 1) * 0.9) + 1, hi=Ceil((F("cnt") - 1) * 0.9) + 1)
                .filter(Q(rn=F("lo")) | Q(rn=F("hi")))
                .values_list("grp", "rn", "cnt", "val"))
        found: dict[object, dict[int, float]] = {}
        counts: dict[object, int] = {}
        for grp, rn, cnt, val in rows:
            found.setdefault(grp, {})[rn] = float(val)
            counts[grp] = cnt
        for grp, values in found.items():
            position = (counts[grp] - 1) * 0.9
            lo, hi = math.floor(position) + 1, math.ceil(position) + 1
            fraction = position - math.floor(position)
            out[(name, grp)] = values[lo] + (values[hi] - values[lo]) * fraction
    return out


def sla_report(*, group_by: str = "priority", start: datetime | None = None,
               end: datetime | None = None) -> dict:
    if group_by not in GROUPS:
        raise ValidationError("group_by", f"must be one of {', '.join(GROUPS)}")
    if start and end and end <= start:
        raise ValidationError("to", "must be after from")
    key, label = GROUPS[group_by]
    base = Ticket.objects.all()
    if start:
        base = base.filter(opened_at__gte=start)
    if end:
        base = base.filter(opened_at__lt=end)
    postgres = connection.vendor == "postgresql"
    rows = list(base.values(key, label).annotate(**_aggregates(postgres)).order_by(key))
    p90 = {} if postgres else _p90_portable(base, key)
    groups = []
    for row in rows:
        group = {"key": row[key], "label": row[label] or ("Unassigned" if row[key] is None
                                                           else str(row[key])),
                 "tickets": row["tickets"], "breaches": row["breaches"]}
        for name in CLOCK_COLUMNS:
            on_time, breached = row[f"{name}__on_time"], row[f"{name}__breached"]
            decided = on_time + breached
            p = row.get(f"{name}__p90") if postgres else p90.get((name, row[key]))
            group[name] = {
                "met": row[f"{name}__met"], "on_time": on_time, "breached": breached,
                "near_miss": row[f"{name}__near_miss"],
                "compliance_percent": round(100 * on_time / decided, 2) if decided else None,
                "mean_business_seconds": _num(row[f"{name}__mean"]),
                "p90_business_seconds": _num(p),
                "average_overrun_seconds": _num(row[f"{name}__overrun"]),
            }
        groups.append(group)
    return {"group_by": group_by, "start": start, "end": end, "groups": groups}


def _num(value) -> float | None:
    return round(float(value), 2) if value is not None else None


# -- dashboards: the same counts over time ---------------------------------------------------

FIRST_RESPONSE_BUCKETS = (("under 15 min", 0, 15 * 60), ("15-60 min", 15 * 60, 3600),
                          ("1-4 h", 3600, 4 * 3600), ("4-8 h", 4 * 3600, 8 * 3600),
                          ("8-24 h", 8 * 3600, 24 * 3600), ("over 24 h", 24 * 3600, None))


def sla_trend(*, start: datetime, end: datetime, tz: str, group_by: str = "priority") -> list:
    """Per local week (Monday) and group: the resolution and first-response counts of
    :func:`sla_report` for the tickets opened that week; one aggregate query. Each row
    equals ``sla_report(start=week, end=week + 7 days)`` for its group."""
    from zoneinfo import ZoneInfo

    from django.db.models.functions import TruncWeek

    if group_by not in GROUPS:
        raise ValidationError("group_by", f"must be one of {', '.join(GROUPS)}")
    key, label = GROUPS[group_by]
    aggs = {}
    policies = _policies()
    for name, (seconds, breached, _) in CLOCK_COLUMNS.items():
        aggs[f"{name}__on_time"] = Count("id", filter=Q(**{f"{seconds}__isnull": False,
                                                           breached: False}))
        aggs[f"{name}__breached"] = Count("id", filter=Q(**{breached: True}))
        aggs[f"{name}__near_miss"] = Count("id", filter=near_miss_q(name, policies))
    rows = (Ticket.objects.filter(opened_at__gte=start, opened_at__lt=end)
            .annotate(week=TruncWeek("opened_at", tzinfo=ZoneInfo(tz)))
            .values("week", key, label).annotate(tickets=Count("id"), **aggs)
            .order_by("week", key))
    out = []
    for row in rows:
        entry = {"week": row["week"], "key": row[key],
                 "label": row[label] or ("Unassigned" if row[key] is None else str(row[key])),
                 "tickets": row["tickets"]}
        for name in CLOCK_COLUMNS:
            on_time, breached = row[f"{name}__on_time"], row[f"{name}__breached"]
            decided = on_time + breached
            entry[name] = {"on_time": on_time, "breached": breached,
                           "near_miss": row[f"{name}__near_miss"],
                           "compliance_percent": round(100 * on_time / decided, 2)
                           if decided else None}
        out.append(entry)
    return out


def ticket_flow(days: list[tuple[datetime, datetime]], tz: str) -> list[dict]:
    """Per consecutive local day ``[start, end)``: tickets opened, tickets resolved, and the
    backlog at the day's end (opened before it and not resolved by then). Three queries
    whatever the number of days: what was opened and resolved before the first day, and
    the opened and resolved per local day (``GROUP BY`` date); the backlog is the running
    difference (a resolution never precedes its opening)."""
    from zoneinfo import ZoneInfo

    from django.db.models.functions import TruncDate

    if not days:
        return []
    first, last = days[0][0], days[-1][1]
    zone = ZoneInfo(tz)
    before = Ticket.objects.aggregate(
        opened=Count("id", filter=Q(opened_at__lt=first)),
        resolved=Count("id", filter=Q(resolved_at__lt=first)))
    opened = dict(Ticket.objects.filter(opened_at__gte=first, opened_at__lt=last)
                  .annotate(day=TruncDate("opened_at", tzinfo=zone)).values("day")
                  .annotate(n=Count("id")).order_by().values_list("day", "n"))
    resolved = dict(Ticket.objects.filter(resolved_at__gte=first, resolved_at__lt=last)
                    .annotate(day=TruncDate("resolved_at", tzinfo=zone)).values("day")
                    .annotate(n=Count("id")).order_by().values_list("day", "n"))
    backlog = before["opened"] - before["resolved"]
    out = []
    for start, _ in days:
        day = start.astimezone(zone).date()
        o, r = opened.get(day, 0), resolved.get(day, 0)
        backlog += o - r
        out.append({"start": start, "opened": o, "resolved": r, "backlog": backlog})
    return out


def first_response_distribution(*, start: datetime, end: datetime) -> list[dict]:
    """How long the first response took (business seconds, pauses excluded) for tickets
    opened in ``[start, end)`` that have one, in FIRST_RESPONSE_BUCKETS; one query."""
    aggs = {}
    for i, (_, low, high) in enumerate(FIRST_RESPONSE_BUCKETS):
        condition = Q(first_response_seconds__gte=low)
        if high is not None:
            condition &= Q(first_response_seconds__lt=high)
        aggs[f"b{i}"] = Count("id", filter=condition)
    totals = Ticket.objects.filter(opened_at__gte=start, opened_at__lt=end).aggregate(**aggs)
    return [{"bucket": name, "tickets": totals[f"b{i}"]}
            for i, (name, _, _) in enumerate(FIRST_RESPONSE_BUCKETS)]


def technician_load(*, start: datetime, end: datetime) -> list[dict]:
    """Per assignee: open tickets now, tickets resolved in ``[start, end)``, breaches among
    the tickets opened then; one aggregate query."""
    rows = (Ticket.objects.filter(assignee__isnull=False)
            .values("assignee_id", "assignee__public_id", "assignee__name", "assignee__email")
            .annotate(open=Count("id", filter=~Q(status__in=CLOSED_STATUSES)),
                      resolved=Count("id", filter=Q(resolved_at__gte=start,
                                                    resolved_at__lt=end)),
                      breaches=Count("id", filter=Q(opened_at__gte=start, opened_at__lt=end)
                                     & (Q(first_response_breached=True)
                                        | Q(resolution_breached=True))))
            .order_by("-open", "assignee__name"))
    return [{"user_id": r["assignee_id"], "key": r["assignee__public_id"],
             "label": r["assignee__name"] or r["assignee__email"], "open": r["open"],
             "resolved": r["resolved"], "breaches": r["breaches"]} for r in rows]
