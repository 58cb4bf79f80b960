"""Dashboards for managers and owners: each chart is drawn from a table the page prints
below it, and each table downloads as CSV (``?export=<table>``).

- **Service** (``/app/reports/service/``, ``tickets.reports``), over the last 7, 30 or 90
  days (tickets opened in the period, local days of the company): SLA compliance per week
  and priority, breaches and near misses per week (``tickets.reports.sla_trend``);
  compliance, breaches, near misses, mean and p90 per
  priority, client and technician (``tickets.reports.sla_report``, the numbers of
  ``GET /api/v1/tickets/sla-report``); tickets opened and resolved per day with the
  backlog; how long first responses took; each technician's open tickets, resolved
  tickets, breaches, hours logged and billable share (``timesheets.queries``).
- **Revenue** (``/app/reports/revenue/``, ``revenue.view``): MRR and ARR, the last twelve
  months' MRR movements (``billing.mrr``, ``GET /api/v1/revenue/mrr-movements``) and the next
  twelve months' forecast with its 90 % range (``billing.forecast``, the numbers of
  ``GET /api/v1/revenue/forecast``); receivables by days past due
  (``billing.queries.aging_buckets``, the buckets of ``GET /api/v1/invoices/overdue``) and
  days sales outstanding over 90 days.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from nestogy.billing import forecast as billing_forecast
from nestogy.billing import mrr as billing_mrr
from nestogy.billing import queries as billing_queries
from nestogy.core.money import money_str
from nestogy.tenancy.queries import company_today
from nestogy.tickets import reports
from nestogy.tickets.models import Priority
from nestogy.timesheets.queries import logged_by_user
from nestogy.workspace import auth
from nestogy.workspace.charts import bar_chart, line_chart

PERIODS = {"7": 7, "30": 30, "90": 90}
PRIORITY_ORDER = [p for p, _ in reversed(Priority.choices)]  # the most urgent first
CLOCKS = (("first_response", "First response"), ("resolution", "Resolution"))


def _csv(name: str, header: list[str], rows: list[list]) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        # a cell a spreadsheet would run as a formula is written as text
        writer.writerow([f"'{v}" if isinstance(v, str) and v[:1] in ("=", "+", "-", "@")
                         and not _is_number(v) else v for v in row])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.csv")
    return response


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _hours(seconds) -> str:
    return "" if seconds is None else f"{float(seconds) / 3600:.2f}"


def _period(request: HttpRequest) -> tuple[int, datetime, datetime, list]:
    days = PERIODS.get(request.GET.get("days", ""), 30)
    zone = ZoneInfo(request.company.timezone or "UTC")
    today = company_today(request.company)
    first = today - timedelta(days=days - 1)
    bounds = [(datetime.combine(first + timedelta(days=i), time(), zone),
               datetime.combine(first + timedelta(days=i + 1), time(), zone))
              for i in range(days)]
    return days, bounds[0][0], bounds[-1][1], bounds


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


SLA_HEADER = ["group", "tickets", "tickets breached",
              "first response on time", "first response breached",
              "first response near misses",
              "first response compliance %", "first response mean h", "first response p90 h",
              "resolution on time", "resolution breached", "resolution near misses",
              "resolution compliance %", "resolution mean h", "resolution p90 h"]


MOVES = ("opening", "new", "expansion", "contraction", "churn", "closing")


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


@auth.staff_view("tickets.reports")
@require_GET
def service_view(request: HttpRequest) -> HttpResponse:
    days, start, end, bounds = _period(request)
    tz = request.company.timezone or "UTC"
    by = {group: reports.sla_report(group_by=group, start=start, end=end)
          for group in ("priority", "client", "assignee")}
    rank = {p: i for i, p in enumerate(PRIORITY_ORDER)}
    by["priority"]["groups"].sort(key=lambda g: rank.get(g["key"], 99))
    for g in by["priority"]["groups"]:
        g["label"] = dict(Priority.choices).get(g["key"], g["label"])
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

    labels = dict(Priority.choices)
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
    export = request.GET.get("export")
    if export:
        if export not in tables:
            raise Http404("no such table")
        header, rows = tables[export]
        return _csv(f"service-{export}-{days}d", header, rows)

    trend_series = []
    for p in PRIORITY_ORDER:
        values = {row["week"]: row["resolution"]["compliance_percent"]
                  for row in trend if row["key"] == p}
        if values:
            trend_series.append((labels[p], [values.get(w) for w in weeks]))
    charts = {
        "trend": line_chart("Resolution SLA compliance per week, by priority (%)",
                            [w.strftime("%-d %b") for w in weeks], trend_series,
                            unit="%", max_value=100),
        "priority": bar_chart(
            "SLA compliance by priority (%)",
            [labels.get(g["key"], g["label"]) for g in by["priority"]["groups"]],
            [(name, [g[clock]["compliance_percent"] for g in by["priority"]["groups"]])
             for clock, name in CLOCKS], unit="%", max_value=100),
        "misses": bar_chart("Breaches and near misses per week (both clocks)",
                            [w.strftime("%-d %b") for w in weeks],
                            [("Breached", [r[1] + r[3] for r in miss_rows]),
                             ("Near misses", [r[2] + r[4] for r in miss_rows])]),
        "flow": line_chart("Tickets opened and resolved per day, and the backlog",
                           [f["start"].strftime("%-d %b") for f in flow],
                           [("Opened", [f["opened"] for f in flow]),
                            ("Resolved", [f["resolved"] for f in flow]),
                            ("Backlog", [f["backlog"] for f in flow])]),
        "first_response": bar_chart("How long the first response took (business time)",
                                    [b["bucket"] for b in first],
                                    [("Tickets", [b["tickets"] for b in first])]),
        "load": bar_chart("Open and resolved tickets per technician",
                          [r["label"] for r in load],
                          [("Open now", [r["open"] for r in load]),
                           ("Resolved in period", [r["resolved"] for r in load])]),
    }
    return render(request, "workspace/reports_service.html", {
        "days": days, "periods": list(PERIODS), "start": start, "end": end - timedelta(days=1),
        "by": by, "labels": labels, "clocks": CLOCKS, "charts": charts, "trend": trend,
        "flow": flow, "first": first, "load": load, "tables": tables,
    })


@auth.staff_view("revenue.view")
@require_GET
def revenue_view(request: HttpRequest) -> HttpResponse:
    company = request.company
    today = company_today(company)
    result = billing_forecast.forecast(company, today, 12)
    cur = result["currency"]
    aging = {"buckets": billing_queries.aging_buckets(today)}
    dso = billing_queries.days_sales_outstanding(today)
    forecast_rows = [[m["month"], money_str(m["recurring"], cur), money_str(m["usage"], cur),
                      money_str(m["total"], cur), money_str(m["low"], cur),
                      money_str(m["high"], cur)] for m in result["months"]]
    movements = billing_mrr.mrr_movements(company, today, 12)["months"]
    movement_rows = [[m["month"], *(money_str(m[k], cur) for k in MOVES),
                      " / ".join(str(m["clients"][k]) for k in MOVES[1:5])]
                     for m in movements]
    aging_rows = [[b["bucket"], b["count"], money_str(b["balance"], cur)]
                  for b in aging["buckets"]]
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
    export = request.GET.get("export")
    if export:
        if export not in tables:
            raise Http404("no such table")
        header, rows = tables[export]
        return _csv(f"revenue-{export}", header, rows)
    charts = {
        "forecast": line_chart(f"Revenue forecast per month and its 90 % range ({cur})",
                               [m["month"] for m in result["months"]],
                               [("Expected", [m["total"] for m in result["months"]]),
                                ("Low", [m["low"] for m in result["months"]]),
                                ("High", [m["high"] for m in result["months"]])]),
        "movements": bar_chart(f"MRR movements per month ({cur})",
                               [m["month"] for m in movements],
                               [("New", [m["new"] for m in movements]),
                                ("Expansion", [m["expansion"] for m in movements]),
                                ("Contraction", [m["contraction"] for m in movements]),
                                ("Churn", [m["churn"] for m in movements])]),
        "aging": bar_chart(f"Open invoices by days past due ({cur})",
                           [b["bucket"] for b in aging["buckets"]],
                           [("Balance", [b["balance"] for b in aging["buckets"]])]),
    }
    return render(request, "workspace/reports_revenue.html", {
        "result": result, "currency": cur, "charts": charts, "today": today,
        "tables_forecast": tables["forecast"], "tables_aging": tables["aging"],
        "tables_movements": tables["movements"],
        "tables_dso": tables["dso"],
    })
