"""The dashboards (Django test client): their tables hold the API's report numbers on the
same data (SLA report, revenue forecast, overdue aging); the weekly trend equals the SLA
report of each week; the daily flow and the first-response buckets count what a person
would count; CSV downloads that a spreadsheet cannot run; every view for every role,
another company's tickets, bad input, a bounded number of queries."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.billing.models import Invoice
from nestogy.clients.actions import create_client
from nestogy.tenancy.queries import company_today
from nestogy.tickets import reports
from nestogy.tickets.models import Ticket
from nestogy.workspace.models import DashboardSnapshot
from tests.billing.helpers import make_contract
from tests.portal.helpers import invoice
from tests.workspace.helpers import check_role_matrix, signed_in, ticket

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
HOUR = 3600


def local_midnight(company, days_ago: int) -> datetime:
    zone = ZoneInfo(company.timezone)
    return datetime.combine(company_today(company) - timedelta(days=days_ago), time(), zone)


def made(p, subject, *, days_ago, priority="high", client=None, assignee=None,
         first=None, first_late=False, resolved=None, resolved_late=False, company=None):
    """A ticket opened ``days_ago`` days ago at 10:00 local with the given SLA outcome."""
    company = company or p.company_a
    client = client or p.client_a
    t = ticket(company, client, subject, priority=priority, assignee=assignee)
    opened = local_midnight(company, days_ago) + timedelta(hours=10)
    changes = {"opened_at": opened, "first_response_seconds": first,
               "first_response_breached": first_late,
               "first_response_breached_by": 1800 if first_late else 0}
    if resolved is not None:
        changes.update(resolution_seconds=resolved, resolution_breached=resolved_late,
                       resolution_breached_by=7200 if resolved_late else 0,
                       resolved_at=opened + timedelta(seconds=resolved), status="resolved")
    with scopes_disabled():
        Ticket.objects.filter(pk=t.pk).update(**changes)
    return t


@pytest.fixture
def desk(personas):
    p = personas
    tech, tech2 = p.tech_a.user, p.tech2_a.user
    made(p, "Email down", days_ago=2, priority="critical", assignee=tech, first=600,
         resolved=2 * HOUR)
    made(p, "VPN slow", days_ago=3, priority="high", assignee=tech, first=5 * HOUR,
         first_late=True, resolved=30 * HOUR, resolved_late=True)
    made(p, "Printer", days_ago=5, priority="low", assignee=tech2, first=2 * HOUR,
         client=p.client_a2)
    made(p, "New laptop", days_ago=12, priority="medium", assignee=tech2, first=40 * 60,
         resolved=9 * HOUR, client=p.client_a2)
    made(p, "Old one", days_ago=60, priority="high", first=HOUR, resolved=3 * HOUR)
    made(p, "Bravo ticket", days_ago=2, client=p.client_b, company=p.company_b, first=60)
    return p


def table(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode())))


def test_the_sla_tables_hold_the_api_report(desk):
    p = desk
    client = signed_in("manager@alpha.test")
    start = local_midnight(p.company_a, 29)
    end = local_midnight(p.company_a, -1)
    for name, group in (("priority", "priority"), ("client", "client"),
                        ("technician", "assignee")):
        rows = table(client.get("/app/reports/service/", {"export": name}).content)
        api = p.owner_a.api.get("/tickets/sla-report", group_by=group,
                                **{"from": start.isoformat(), "to": end.isoformat()}).data
        assert len(rows) - 1 == len(api["groups"])
        by_label = {row[0]: row for row in rows[1:]}
        for g in api["groups"]:
            row = by_label[g["label"].title() if group == "priority" else g["label"]]
            assert int(row[1]) == g["tickets"] and int(row[2]) == g["breaches"]
            for offset, clock in ((3, "first_response"), (9, "resolution")):
                c = g[clock]
                assert int(row[offset]) == c["on_time"]
                assert int(row[offset + 1]) == c["breached"]
                assert int(row[offset + 2]) == c["near_miss"]
                assert (row[offset + 3] or None) == (None if c["compliance_percent"] is None
                                                     else str(c["compliance_percent"]))
    assert "Old one" not in client.get("/app/reports/service/").content.decode()
    # 60 days ago falls in the 90-day view
    rows = table(client.get("/app/reports/service/", {"export": "priority",
                                                      "days": "90"}).content)
    assert sum(int(r[1]) for r in rows[1:]) == 5


def test_the_weekly_trend_equals_the_report_of_each_week(desk):
    p = desk
    with scope(company=p.company_a.pk):
        start, end = local_midnight(p.company_a, 89), local_midnight(p.company_a, -1)
        trend = reports.sla_trend(start=start, end=end, tz=p.company_a.timezone)
        assert trend
        for row in trend:
            week = row["week"]
            one = reports.sla_report(group_by="priority", start=max(week, start),
                                     end=min(week + timedelta(days=7), end))
            group = next(g for g in one["groups"] if g["key"] == row["key"])
            assert group["tickets"] == row["tickets"]
            for clock in ("first_response", "resolution"):
                assert group[clock]["on_time"] == row[clock]["on_time"]
                assert group[clock]["breached"] == row[clock]["breached"]
                assert group[clock]["near_miss"] == row[clock]["near_miss"]


def test_near_misses_are_clocks_met_after_the_warning_threshold(desk):
    """On time, but at or after the policy's warning percent of the target: a near miss; a
    second earlier: not; a breach is never a near miss."""
    import math

    p = desk
    with scope(company=p.company_a.pk):
        policy = Ticket.objects.filter(subject="VPN slow").get().policy
    target = policy.targets["high"]["resolution_minutes"] * 60
    threshold = math.ceil(target * policy.warning_percent / 100)
    made(p, "Close call", days_ago=4, first=60, resolved=threshold)
    made(p, "Comfortable", days_ago=4, first=60, resolved=threshold - 1)
    made(p, "Just made it", days_ago=4, first=60, resolved=target)
    client = signed_in("manager@alpha.test")
    rows = table(client.get("/app/reports/service/", {"export": "misses"}).content)
    assert rows[0] == ["week", "first response breached", "first response near misses",
                       "resolution breached", "resolution near misses"]
    assert sum(int(r[4]) for r in rows[1:]) == 2  # Close call and Just made it
    assert sum(int(r[3]) for r in rows[1:]) == 1  # VPN slow
    api = p.owner_a.api.get("/tickets/sla-report", group_by="priority").data
    high = next(g for g in api["groups"] if g["key"] == "high")
    assert high["resolution"]["near_miss"] == 2
    page = client.get("/app/reports/service/").content.decode()
    assert "Breaches and near misses" in page and 'aria-labelledby="misses-title"' in page


def test_flow_first_response_and_technician_tables_count_what_happened(desk):
    p = desk
    client = signed_in("owner@alpha.test")
    flow = {r[0]: r for r in table(client.get("/app/reports/service/",
                                              {"export": "flow"}).content)[1:]}
    two_days = (company_today(p.company_a) - timedelta(days=2)).isoformat()
    assert flow[two_days][1] == "1"  # Email down opened that day...
    # ...and resolved two hours later, like VPN slow, opened the day before at 10:00 and
    # resolved 30 hours later
    assert flow[two_days][2] == "2"
    today = company_today(p.company_a).isoformat()
    with scopes_disabled():
        still_open = Ticket.objects.filter(company=p.company_a, resolved_at__isnull=True
                                           ).count()
    assert int(flow[today][3]) == still_open
    buckets = dict(table(client.get("/app/reports/service/",
                                    {"export": "first_response"}).content)[1:])
    assert buckets == {"under 15 min": "1", "15-60 min": "1", "1-4 h": "1", "4-8 h": "1",
                       "8-24 h": "0", "over 24 h": "0"}
    load = {r[0]: r for r in table(client.get("/app/reports/service/",
                                              {"export": "load"}).content)[1:]}
    tech1 = load[p.tech_a.user.name or p.tech_a.user.email]
    assert tech1[1:4] == ["0", "2", "1"]  # none open, two resolved, one breached


def test_the_revenue_dashboard_holds_the_api_forecast_and_aging(personas):
    p = personas
    with scope(company=p.company_a.pk):
        start = company_today(p.company_a).replace(day=1) - timedelta(days=60)
        make_contract(p.company_a, p.client_a, start=start.replace(day=1).isoformat(),
                      seats="10", price="45.00", metered=False)
        invoice(p.client_a, "300.00")
        late = invoice(p.client_a2, "120.00")
        Invoice.objects.filter(pk=late.pk).update(
            due_date=company_today(p.company_a) - timedelta(days=45))
    client = signed_in("billing@alpha.test")
    body = client.get("/app/reports/revenue/").content.decode()
    api = p.owner_a.api.get("/revenue/forecast").data
    assert f"{api['mrr']}" in body.replace(",", "")
    assert api["mrr"] == "450.00" and api["arr"] == "5400.00"
    rows = table(client.get("/app/reports/revenue/", {"export": "forecast"}).content)
    assert [r[0] for r in rows[1:]] == [m["month"] for m in api["months"]]
    assert [r[3] for r in rows[1:]] == [m["total"] for m in api["months"]]
    assert [(r[4], r[5]) for r in rows[1:]] == [(m["low"], m["high"]) for m in api["months"]]
    moves = table(client.get("/app/reports/revenue/", {"export": "movements"}).content)
    api_moves = p.owner_a.api.get("/revenue/mrr-movements").data["months"]
    assert moves[0][:7] == ["month", "opening USD", "new USD", "expansion USD",
                            "contraction USD", "churn USD", "closing USD"]
    assert [r[:7] for r in moves[1:]] == [
        [m["month"], m["opening"], m["new"], m["expansion"], m["contraction"], m["churn"],
         m["closing"]] for m in api_moves]
    assert moves[-1][6] == "450.00" and "450.00" in [r[2] for r in moves[1:]]  # new client
    aging = table(client.get("/app/reports/revenue/", {"export": "aging"}).content)
    overdue = p.owner_a.api.get("/invoices/overdue").data
    assert [(r[0], r[1], r[2]) for r in aging[1:]] == [
        (b["bucket"], str(b["count"]), b["balance"]) for b in overdue["buckets"]]
    dso = table(client.get("/app/reports/revenue/", {"export": "dso"}).content)
    assert [r[1] for r in aging[1:]] == ["1", "0", "1", "0", "0"]
    assert dso[1][0] == "USD" and dso[1][1] == "420.00"
    assert "<svg" in body and 'role="img"' in body


def test_csv_cells_never_run_as_formulas(personas):
    p = personas
    with scope(company=p.company_a.pk):
        evil = create_client(p.company_a, {"name": "=HYPERLINK(\"http://x.test\")"})
    made(p, "Hello", days_ago=1, client=evil, first=60)
    rows = table(signed_in("manager@alpha.test").get(
        "/app/reports/service/", {"export": "client"}).content)
    assert rows[1][0] == "'=HYPERLINK(\"http://x.test\")"


def test_bad_input_falls_back_or_is_not_found(desk):
    client = signed_in("manager@alpha.test")
    body = client.get("/app/reports/service/", {"days": "abc"}).content.decode()
    assert "Last 30 days" in body and 'aria-current="page">Last 30 days' in body
    assert client.get("/app/reports/service/", {"export": "passwords"}).status_code == 404
    assert signed_in("owner@alpha.test").get(
        "/app/reports/revenue/", {"export": "nope"}).status_code == 404


def test_another_companys_tickets_are_not_counted(desk):
    body = signed_in("manager@alpha.test").get("/app/reports/service/",
                                               {"export": "client"}).content.decode()
    assert "Bravo" not in body
    rows = table(signed_in("owner@bravo.test").get("/app/reports/service/",
                                                   {"export": "priority"}).content)
    assert sum(int(r[1]) for r in rows[1:]) == 1


@pytest.mark.parametrize("role", ROLES)
def test_every_dashboard_asks_the_role_matrix(personas, role):
    persona = getattr(personas, role)
    client = signed_in(persona.email)
    check_role_matrix(client, persona.role, [
        ("get", "/app/reports/service/", {}, "tickets.reports"),
        ("get", "/app/reports/service/", {"export": "priority"}, "tickets.reports"),
        ("get", "/app/reports/revenue/", {}, "revenue.view"),
        ("get", "/app/reports/revenue/", {"export": "forecast"}, "revenue.view"),
        ("post", "/app/reports/service/refresh", {"days": "7"}, "tickets.reports"),
        ("post", "/app/reports/revenue/refresh", {}, "revenue.view"),
    ])
    nav = client.get("/app/").content.decode() if allowed(persona.role, "tickets.view") \
        else ""
    if nav:
        assert ('href="/app/reports/service/"' in nav) == allowed(persona.role,
                                                                   "tickets.reports")


def test_the_service_dashboard_asks_a_bounded_number_of_queries(desk):
    p = desk
    client = signed_in("manager@alpha.test")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/app/reports/service/", {"days": "90"}).status_code == 200
        return len(ctx.captured_queries)

    few = count()  # computed now: the aggregate queries
    stored = count()  # the figures stored a moment ago: one read
    assert stored < few
    for i in range(20):
        made(p, f"More {i}", days_ago=i % 30, priority=("low", "high")[i % 2],
             assignee=p.tech2_a.user, first=(i + 1) * 600, resolved=(i + 2) * 3000)
    with scopes_disabled():
        DashboardSnapshot.objects.all().delete()
    assert count() == few  # computing again asks the same queries with more tickets


def test_the_page_lists_the_busiest_clients_and_the_csv_all_of_them(desk, monkeypatch):
    """Past ``CLIENTS_SHOWN`` clients the page shows the busiest and says the CSV has all."""
    from nestogy.workspace import views_reports

    client = signed_in("manager@alpha.test")
    page = client.get("/app/reports/service/").content.decode()
    assert "data-clients-shown" not in page  # two clients: both shown
    monkeypatch.setattr(views_reports, "CLIENTS_SHOWN", 1)
    page = client.get("/app/reports/service/").content.decode()
    assert "The 1 client with the most tickets of 2" in page
    shown = page.split('data-table="client"')[1].split("</table>")[0]
    # both clients have two tickets in the last 30 days: the page keeps the CSV's order
    # (tickets, then name), so the first row is shown and the second is not
    rows = table(client.get("/app/reports/service/", {"export": "client"}).content)
    assert len(rows) == 3
    assert rows[1][0] in shown and rows[2][0] not in shown
