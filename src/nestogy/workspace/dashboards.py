"""The dashboards' figures, computed for one company: each page's tables (header and rows,
as its CSV download has them) and the series its charts draw. ``workspace.snapshots``
stores them; ``workspace.views_reports`` shows them.

- **Service** (:func:`service`), over the last 7, 30 or 90 local days (tickets opened in the
  period): SLA compliance per week and priority, breaches and near misses per week
  (``tickets.reports.sla_trend``); compliance, breaches, near misses, mean and p90 per
  priority, client and technician (``tickets.reports.sla_report``, the numbers of
  ``GET /api/v1/tickets/sla-report``); tickets opened and resolved per day with the backlog;
  how long first responses took; each technician's open tickets, resolved tickets, breaches,
  hours logged and billable share (``timesheets.queries``).
- **Revenue** (:func:`revenue`): MRR and ARR, the last twelve months' MRR movements
  (``billing.mrr``, ``GET /api/v1/revenue/mrr-movements``), the next twelve months' forecast
  with its 90 % range (``billing.forecast``, ``GET /api/v1/revenue/forecast``), receivables by
  days past due (``billing.queries.aging_buckets``, the buckets of
  ``GET /api/v1/invoices/overdue``) and days sales outstanding over 90 days.

:func:`figures` is how a page (and the scheduler) gets them: through ``workspace.snapshots``,
stored for five minutes.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.utils.safestring import SafeString

from nestogy.billing import forecast as billing_forecast
from nestogy.billing import mrr as billing_mrr
from nestogy.billing import queries as billing_queries
from nestogy.core.money import money_str
from nestogy.tenancy.queries import company_today
from nestogy.tickets import reports
from nestogy.tickets.models import Priority
from nestogy.timesheets.queries import logged_by_user
from nestogy.workspace import snapshots
from nestogy.workspace.charts import bar_chart, line_chart

PERIODS = {"7": 7, "30": 30, "90": 90}
PRIORITY_ORDER = [p for p, _ in reversed(Priority.choices)]  # the most urgent first
CLOCKS = (("first_response", "First response"), ("resolution", "Resolution"))
MOVES = ("opening", "new", "expansion", "contraction", "churn", "closing")
SERVICE_TABLES = ("priority", "client", "technician", "trend", "misses", "flow",
                  "first_response", "load")
REVENUE_TABLES = ("forecast", "movements", "aging", "dso")
SLA_HEADER = ["group", "tickets", "tickets breached",
              "first response on time", "first response breached",
              "first response near misses",
              "first response compliance %", "first response mean h", "first response p90 h",
              "resolution on time", "resolution breached", "resolution near misses",
              "resolution compliance %", "resolution mean h", "resolution p90 h"]


def _hours(seconds) -> str:
    return "" if seconds is None else f"{float(seconds) / 3600:.2f}"


def period(company, days: int) -> tuple[datetime, datetime, list]:
    """The last ``days`` local days of the company up to today: first start, end, and each
    day's ``[start, end)``."""
    zone = ZoneInfo(company.timezone or "UTC")
    today = company_today(company)
    first = today - timedelta(days=days - 1)
    bounds = [(datetime.combine(first + timedelta(days=i), time(), zone),
               datetime.combine(first + timedelta(days=i + 1), time(), zone))
              for i in range(days)]
    return bounds[0][0], bounds[-1][1], bounds


def _sla_rows(report: dict) -> list[list]:
    rows = []
    for g in report["groups"]:
        row = [g["label"], g["tickets"], g["breaches"]]
        for clock, _ in CLOCKS:
            c = g[clock]
            row += [c["on_time"], c["breached"], c["near_miss"],
                    "" if c["compliance_percent"] is None else c["compliance_percent"],
                    _hours(c["mean_business_seconds"]), _hours(c["p90_business_seconds"])]
        rows.append(row)
    return rows


def _misses_per_week(trend: list, weeks: list) -> list[list]:
    """Per week, the breaches and near misses of both clocks over every priority."""
    per_week = {w: [0, 0, 0, 0] for w in weeks}
    for row in trend:
        counts = per_week[row["week"]]
        counts[0] += row["first_response"]["breached"]
        counts[1] += row["first_response"]["near_miss"]
        counts[2] += row["resolution"]["breached"]
        counts[3] += row["resolution"]["near_miss"]
    return [[w.date().isoformat(), *per_week[w]] for w in weeks]


def service(company, days: int) -> dict:
    """The service dashboard's tables and chart series for the last ``days`` days."""
    start, end, bounds = period(company, days)
    tz = company.timezone or "UTC"
    by = {group: reports.sla_report(group_by=group, start=start, end=end)
          for group in ("priority", "client", "assignee")}
    rank = {p: i for i, p in enumerate(PRIORITY_ORDER)}
    labels = dict(Priority.choices)
    by["priority"]["groups"].sort(key=lambda g: rank.get(g["key"], 99))
    for g in by["priority"]["groups"]:
        g["label"] = labels.get(g["key"], g["label"])
    by["client"]["groups"].sort(key=lambda g: (-g["tickets"], g["label"]))
    trend = reports.sla_trend(start=start, end=end, tz=tz)
    weeks = sorted({row["week"] for row in trend})
    flow = reports.ticket_flow(bounds, tz)
    first = reports.first_response_distribution(start=start, end=end)
    load = reports.technician_load(start=start, end=end)
    logged = logged_by_user(start, end)
    for row in load:
        hours = logged.get(row["user_id"], {"logged": 0, "billable": 0})
        row["logged_hours"] = _hours(hours["logged"])
        row["billable_percent"] = (round(100 * hours["billable"] / hours["logged"], 1)
                                   if hours["logged"] else None)

    trend_rows = [[row["week"].date().isoformat(), labels.get(row["key"], row["label"]),
                   row["tickets"], row["resolution"]["on_time"], row["resolution"]["breached"],
                   "" if row["resolution"]["compliance_percent"] is None
                   else row["resolution"]["compliance_percent"]] for row in trend]
    flow_rows = [[f["start"].date().isoformat(), f["opened"], f["resolved"], f["backlog"]]
                 for f in flow]
    miss_rows = _misses_per_week(trend, weeks)
    load_rows = [[r["label"], r["open"], r["resolved"], r["breaches"], r["logged_hours"],
                  "" if r["billable_percent"] is None else r["billable_percent"]]
                 for r in load]
    tables = {
        "priority": (["priority", *SLA_HEADER[1:]], _sla_rows(by["priority"])),
        "client": (["client", *SLA_HEADER[1:]], _sla_rows(by["client"])),
        "technician": (["technician", *SLA_HEADER[1:]], _sla_rows(by["assignee"])),
        "trend": (["week", "priority", "tickets", "resolution on time",
                   "resolution breached", "resolution compliance %"], trend_rows),
        "misses": (["week", "first response breached", "first response near misses",
                    "resolution breached", "resolution near misses"], miss_rows),
        "flow": (["day", "opened", "resolved", "backlog at end of day"], flow_rows),
        "first_response": (["first response took", "tickets"],
                           [[b["bucket"], b["tickets"]] for b in first]),
        "load": (["technician", "open now", "resolved in period", "breaches in period",
                  "hours logged", "billable %"], load_rows),
    }
    trend_series = []
    for p in PRIORITY_ORDER:
        values = {row["week"]: row["resolution"]["compliance_percent"]
                  for row in trend if row["key"] == p}
        if values:
            trend_series.append((labels[p], [values.get(w) for w in weeks]))
    week_labels = [w.strftime("%-d %b") for w in weeks]
    priority_groups = by["priority"]["groups"]
    charts = {
        "trend": ("line", "Resolution SLA compliance per week, by priority (%)", week_labels,
                  trend_series, {"unit": "%", "max_value": 100}),
        "priority": ("bar", "SLA compliance by priority (%)",
                     [g["label"] for g in priority_groups],
                     [(name, [g[clock]["compliance_percent"] for g in priority_groups])
                      for clock, name in CLOCKS], {"unit": "%", "max_value": 100}),
        "misses": ("bar", "Breaches and near misses per week (both clocks)", week_labels,
                   [("Breached", [r[1] + r[3] for r in miss_rows]),
                    ("Near misses", [r[2] + r[4] for r in miss_rows])], {}),
        "flow": ("line", "Tickets opened and resolved per day, and the backlog",
                 [f["start"].strftime("%-d %b") for f in flow],
                 [("Opened", [f["opened"] for f in flow]),
                  ("Resolved", [f["resolved"] for f in flow]),
                  ("Backlog", [f["backlog"] for f in flow])], {}),
        "first_response": ("bar", "How long the first response took (business time)",
                           [b["bucket"] for b in first],
                           [("Tickets", [b["tickets"] for b in first])], {}),
        "load": ("bar", "Open and resolved tickets per technician",
                 [r["label"] for r in load],
                 [("Open now", [r["open"] for r in load]),
                  ("Resolved in period", [r["resolved"] for r in load])], {}),
    }
    return {"days": days, "start": start, "end": end - timedelta(days=1), "tables": tables,
            "charts": charts}


def revenue(company) -> dict:
    """The revenue dashboard's figures, tables and chart series on the company's today."""
    today = company_today(company)
    result = billing_forecast.forecast(company, today, 12)
    cur = result["currency"]
    buckets = billing_queries.aging_buckets(today)
    dso = billing_queries.days_sales_outstanding(today)
    forecast_rows = [[m["month"], money_str(m["recurring"], cur), money_str(m["usage"], cur),
                      money_str(m["total"], cur), money_str(m["low"], cur),
                      money_str(m["high"], cur)] for m in result["months"]]
    movements = billing_mrr.mrr_movements(company, today, 12)["months"]
    movement_rows = [[m["month"], *(money_str(m[k], cur) for k in MOVES),
                      " / ".join(str(m["clients"][k]) for k in MOVES[1:5])]
                     for m in movements]
    aging_rows = [[b["bucket"], b["count"], money_str(b["balance"], cur)] for b in buckets]
    dso_rows = [[d["currency"], money_str(d["receivable"], d["currency"]),
                 money_str(d["invoiced"], d["currency"]), d["days"],
                 "" if d["dso"] is None else d["dso"]] for d in dso]
    tables = {
        "forecast": (["month", f"recurring {cur}", f"usage {cur}", f"total {cur}",
                      f"low {cur}", f"high {cur}"], forecast_rows),
        "movements": (["month", *(f"{k} {cur}" for k in MOVES),
                       "clients new / expanding / contracting / churned"], movement_rows),
        "aging": (["days past due", "invoices", f"balance {cur}"], aging_rows),
        "dso": (["currency", "receivable", "invoiced in the last 90 days", "days",
                 "days sales outstanding"], dso_rows),
    }
    months = result["months"]
    charts = {
        "forecast": ("line", f"Revenue forecast per month and its 90 % range ({cur})",
                     [m["month"] for m in months],
                     [("Expected", [m["total"] for m in months]),
                      ("Low", [m["low"] for m in months]),
                      ("High", [m["high"] for m in months])], {}),
        "movements": ("bar", f"MRR movements per month ({cur})",
                      [m["month"] for m in movements],
                      [("New", [m["new"] for m in movements]),
                       ("Expansion", [m["expansion"] for m in movements]),
                       ("Contraction", [m["contraction"] for m in movements]),
                       ("Churn", [m["churn"] for m in movements])], {}),
        "aging": ("bar", f"Open invoices by days past due ({cur})",
                  [b["bucket"] for b in buckets],
                  [("Balance", [b["balance"] for b in buckets])], {}),
    }
    return {"today": today, "currency": cur,
            "result": {"mrr": result["mrr"], "arr": result["arr"],
                       "other_currencies": result["other_currencies"]},
            "tables": tables, "charts": charts}


def draw(charts: dict) -> dict[str, SafeString]:
    """The SVG of each chart from its stored series."""
    drawn = {}
    for name, (kind, title, labels, series, options) in charts.items():
        draw_one = line_chart if kind == "line" else bar_chart
        drawn[name] = draw_one(title, labels, [(s, list(v)) for s, v in series], **options)
    return drawn


def figures(company, key: str, *, fresh: bool = False, viewed: bool = True
            ) -> snapshots.Figures:
    """A page's figures as a page shows them: stored while fresh, else computed and stored
    (``fresh``: computed now, as *Refresh now* and the scheduler do; ``viewed=False``: the
    scheduler's refresh, which does not count as someone reading the page)."""
    work = partial(compute, company, key)
    if fresh:
        return snapshots.refresh(company, key, work, viewed=viewed)
    return snapshots.current(company, key, work)


def compute(company, key: str) -> dict:
    """The figures of a stored page key: ``service:<days>`` or ``revenue``."""
    if key == "revenue":
        return revenue(company)
    kind, _, days = key.partition(":")
    if kind == "service" and days in PERIODS:
        return service(company, PERIODS[days])
    raise ValueError(f"no dashboard page {key!r}")
