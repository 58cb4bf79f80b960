"""Dashboards for managers and owners: each chart is drawn from a table the page prints
below it, and each table downloads as CSV (``?export=<table>``).

- **Service** (``/app/reports/service/``, ``tickets.reports``), over the last 7, 30 or 90
  days, and **Revenue** (``/app/reports/revenue/``, ``revenue.view``): the figures of
  ``workspace.dashboards`` (the numbers of the API's report endpoints).
- The figures come from ``workspace.snapshots``: computed at most five minutes ago on the
  company's current date, or computed when the page opens. The page says when; *Refresh
  now* (``POST …/refresh``, same permission) computes them again at once.
- The service page lists the :data:`CLIENTS_SHOWN` clients with the most tickets; the CSV
  holds every client (a thousand-row table is a download, not a page).
"""

from __future__ import annotations

import csv
import io

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from nestogy.workspace import auth, dashboards
from nestogy.workspace.dashboards import PERIODS, REVENUE_TABLES, SERVICE_TABLES

CLIENTS_SHOWN = 50


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


def _days(request: HttpRequest) -> int:
    return PERIODS.get(request.GET.get("days", ""), 30)


@auth.staff_view("tickets.reports")
@require_GET
def service_view(request: HttpRequest) -> HttpResponse:
    days = _days(request)
    export = request.GET.get("export")
    if export and export not in SERVICE_TABLES:
        raise Http404("no such table")
    figures = dashboards.figures(request.company, f"service:{days}")
    payload = figures.payload
    if export:
        header, rows = payload["tables"][export]
        return _csv(f"service-{export}-{days}d", header, rows)
    tables = dict(payload["tables"])
    header, clients = tables["client"]
    tables["client"] = (header, clients[:CLIENTS_SHOWN])
    return render(request, "workspace/reports_service.html", {
        "days": days, "periods": list(PERIODS), "start": payload["start"],
        "end": payload["end"], "charts": dashboards.draw(payload["charts"]),
        "tables": tables, "figures": figures, "clients_total": len(clients),
        "clients_shown": min(len(clients), CLIENTS_SHOWN),
    })


@auth.staff_view("revenue.view")
@require_GET
def revenue_view(request: HttpRequest) -> HttpResponse:
    export = request.GET.get("export")
    if export and export not in REVENUE_TABLES:
        raise Http404("no such table")
    figures = dashboards.figures(request.company, "revenue")
    payload = figures.payload
    tables = payload["tables"]
    if export:
        header, rows = tables[export]
        return _csv(f"revenue-{export}", header, rows)
    return render(request, "workspace/reports_revenue.html", {
        "result": payload["result"], "currency": payload["currency"],
        "charts": dashboards.draw(payload["charts"]), "today": payload["today"],
        "tables_forecast": tables["forecast"], "tables_aging": tables["aging"],
        "tables_movements": tables["movements"], "tables_dso": tables["dso"],
        "figures": figures,
    })


@auth.staff_view("tickets.reports")
@require_POST
def service_refresh_view(request: HttpRequest) -> HttpResponse:
    days = request.POST.get("days", "")
    if days not in PERIODS:  # the form always sends one of the page's periods
        return HttpResponseBadRequest(f"days must be one of {', '.join(PERIODS)}")
    dashboards.figures(request.company, f"service:{days}", fresh=True)
    return redirect(f"/app/reports/service/?days={days}")


@auth.staff_view("revenue.view")
@require_POST
def revenue_refresh_view(request: HttpRequest) -> HttpResponse:
    dashboards.figures(request.company, "revenue", fresh=True)
    return redirect("/app/reports/revenue/")
