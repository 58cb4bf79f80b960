"""Dashboards benchmark on PostgreSQL: the service and revenue dashboards at 200,000
tickets and 5,000 contracts.

    DATABASE_URL=postgres://root@127.0.0.1:5432/nestogy_bench_dashboards \\
        .venv/bin/python bench/dashboards.py [--json]

Creates the database if needed, migrates, and (once) generates company "Bench Dashboards":
1,000 clients, 25 technicians, 200,000 tickets opened over the last 120 days (each with
its SLA outcome: first response and resolution times in business seconds, breaches, a
tenth still open), 40,000 time entries, 5,000 contracts (three fixed items and one
metered item each, monthly, quarterly and annual) and 20,000 open invoices with due dates
spread over four months. Then it times whole requests through Django's test client,
signed in as the owner: the service dashboard over 7, 30 and 90 days and the revenue
dashboard. Each page opens from its stored figures (``workspace.snapshots``); the bench prints
the median and p95 server time and the queries per page, next to a lower bound (reading
the stored row by hand), then the same page when its figures must be computed on opening,
next to the service dashboard's SQL alone (its aggregate statements, run by hand), and the
scheduler's refresh of all four pages.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nestogy.settings")

import benchlib

NAME = "Bench Dashboards"
TICKETS = 200_000
CONTRACTS = 5_000
INVOICES = 20_000
RUNS = 15
JSON = "--json" in sys.argv


def say(text: str) -> None:
    if not JSON:
        print(text, flush=True)


def generate() -> None:
    from django.db import transaction

    from nestogy.ops.provisioning import provision_company

    started = time.monotonic()
    rng = random.Random(7)
    with transaction.atomic():  # all or nothing: a failed generation leaves no company
        company = provision_company(name=NAME, owner_email="owner@bench-dashboards.bench",
                                    timezone="America/Chicago",
                                    owner_password="bench-password").company
        _fill(company, rng, started)


def _fill(company, rng, started) -> None:
    from django_scopes import scope

    from nestogy.accounts.actions import add_member
    from nestogy.billing.models import Invoice
    from nestogy.clients.models import Client
    from nestogy.contracts.models import Contract, ContractItem, ContractItemQuantity
    from nestogy.core.timeutil import now
    from nestogy.sla.models import SLAPolicy
    from nestogy.tenancy.queries import company_today
    from nestogy.tickets.models import Ticket, TicketCounter
    from nestogy.timesheets.models import TimeEntry

    with scope(company=company.pk):
        techs = [add_member(company, email=f"tech{i:02d}@bench-dashboards.bench",
                            name=f"Technician {i:02d}", role="technician",
                            password="bench-password").user for i in range(25)]
        clients = Client.objects.bulk_create(
            [Client(company=company, name=f"Client {i:04d} Ltd") for i in range(1000)])
        policy = SLAPolicy.objects.get(is_default=True)
        current = now()
        batch = []
        for n in range(1, TICKETS + 1):
            opened = current - timedelta(minutes=rng.randint(5, 60 * 24 * 120))
            is_open = rng.random() < 0.1
            first = rng.randint(60, 30 * 3600) if not is_open or rng.random() < 0.5 else None
            resolution = None if is_open else rng.randint(1800, 120 * 3600)
            first_late = first is not None and first > 4 * 3600
            res_late = resolution is not None and resolution > 40 * 3600
            batch.append(Ticket(
                company=company, number=n, subject=f"Ticket {n}", client=clients[n % 1000],
                priority=rng.choice(["low", "medium", "medium", "high", "critical"]),
                status="in_progress" if is_open else "resolved", opened_at=opened,
                policy=policy, assignee=None if rng.random() < 0.1 else rng.choice(techs),
                first_response_seconds=first, first_response_breached=first_late,
                first_response_breached_by=max(0, (first or 0) - 4 * 3600),
                resolution_seconds=resolution, resolution_breached=res_late,
                resolution_breached_by=max(0, (resolution or 0) - 40 * 3600),
                first_response_at=opened + timedelta(seconds=first) if first else None,
                resolved_at=opened + timedelta(seconds=resolution * 2) if resolution else None,
                sla_state="met" if not is_open else "running",
                first_response_state="met" if first else "running",
                resolution_state="met" if resolution else "running"))
            if len(batch) == 10_000:
                Ticket.objects.bulk_create(batch)
                batch = []
                say(f"  {n}/{TICKETS} tickets")
        Ticket.objects.bulk_create(batch)
        TicketCounter.objects.update_or_create(company=company,
                                               defaults={"last_number": TICKETS})
        TimeEntry.objects.bulk_create(
            [TimeEntry(company=company, client=clients[i % 1000], user=techs[i % 25],
                       started_at=current - timedelta(minutes=rng.randint(60, 60 * 24 * 100)),
                       duration_seconds=rng.randint(5, 240) * 60, billable=rng.random() < 0.7)
             for i in range(40_000)], batch_size=5000)
        say("  time entries")
        today = company_today(company)
        cycles = ["monthly", "monthly", "monthly", "quarterly", "annual"]
        starts = [today - timedelta(days=rng.randint(30, 700)) for _ in range(CONTRACTS)]
        contracts = Contract.objects.bulk_create(
            [Contract(company=company, client=clients[i % 1000], name=f"MSA {i}",
                      start_date=starts[i], billing_anchor_day=min(starts[i].day, 28),
                      billing_cycle=cycles[i % 5], currency="USD", auto_renew=i % 3 == 0,
                      end_date=None if i % 4 else today + timedelta(days=rng.randint(10, 400)))
             for i in range(CONTRACTS)], batch_size=2000)
        items = []
        for c in contracts:
            for k, (desc, price) in enumerate([("Workstations", "45.00"), ("Servers", "150.00"),
                                               ("M365 seats", "12.50")]):
                items.append(ContractItem(company=company, contract=c, kind="fixed",
                                          description=desc, position=k,
                                          quantity=Decimal(rng.randint(1, 40)),
                                          unit_price=Decimal(price)))
            items.append(ContractItem(company=company, contract=c, kind="metered",
                                      description="Backup", metric="GB", position=3,
                                      pricing={"mode": "graduated", "tiers": [
                                          {"up_to": "100", "unit_price": "0.10"},
                                          {"up_to": None, "unit_price": "0.05"}]}))
        items = ContractItem.objects.bulk_create(items, batch_size=5000)
        ContractItemQuantity.objects.bulk_create(
            [ContractItemQuantity(company=company, item=i,
                                  effective_from=i.contract.start_date, quantity=i.quantity)
             for i in items if i.kind == "fixed"], batch_size=5000)
        say("  contracts")
        invoices = []
        for n in range(INVOICES):
            total = Decimal(rng.randint(100, 5000))
            issued = today - timedelta(days=rng.randint(0, 150))
            invoices.append(Invoice(
                company=company, client=clients[n % 1000], kind="invoice",
                number=f"B-{n:06d}", status="issued", currency="USD", issue_date=issued,
                due_date=issued + timedelta(days=30), subtotal=total, tax=Decimal(0),
                total=total, balance=total if n % 3 else total / 2))
        Invoice.objects.bulk_create(invoices, batch_size=5000)
    say(f"  generated {NAME} in {time.monotonic() - started:.1f}s")


def sql_floor(company) -> float:
    """The service dashboard's aggregate SQL (90 days), by hand: the three SLA GROUP BYs,
    the weekly GROUP BY, the flow (before the period, opened and resolved per day), the
    load and the time."""
    from django.db import connection

    tz = company.timezone
    where = ("company_id = %s AND opened_at >= now() - interval '90 days'")
    statements = [
        *[f"SELECT {key}, count(*), count(first_response_seconds), "
          "count(*) FILTER (WHERE first_response_breached), avg(first_response_seconds), "
          "percentile_cont(0.9) WITHIN GROUP (ORDER BY first_response_seconds), "
          "count(resolution_seconds), count(*) FILTER (WHERE resolution_breached), "
          "avg(resolution_seconds), "
          "percentile_cont(0.9) WITHIN GROUP (ORDER BY resolution_seconds) "
          f"FROM tickets_ticket WHERE {where} GROUP BY {key}"
          for key in ("priority", "client_id", "assignee_id")],
        f"SELECT date_trunc('week', opened_at AT TIME ZONE '{tz}'), priority, count(*), "
        "count(*) FILTER (WHERE resolution_breached) FROM tickets_ticket "
        f"WHERE {where} GROUP BY 1, 2",
        "SELECT count(*) FILTER (WHERE opened_at < now() - interval '90 days'), "
        "count(*) FILTER (WHERE resolved_at < now() - interval '90 days') "
        "FROM tickets_ticket WHERE company_id = %s",
        f"SELECT (opened_at AT TIME ZONE '{tz}')::date, count(*) FROM tickets_ticket "
        f"WHERE {where} GROUP BY 1",
        f"SELECT (resolved_at AT TIME ZONE '{tz}')::date, count(*) FROM tickets_ticket "
        "WHERE company_id = %s AND resolved_at >= now() - interval '90 days' GROUP BY 1",
        "SELECT assignee_id, count(*) FILTER (WHERE status NOT IN ('resolved', 'closed')) "
        "FROM tickets_ticket WHERE company_id = %s AND assignee_id IS NOT NULL GROUP BY 1",
        "SELECT user_id, sum(duration_seconds) FROM timesheets_timeentry WHERE company_id = %s "
        "AND started_at >= now() - interval '90 days' GROUP BY 1",
    ]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, [company.pk])
            cursor.fetchall()
    return time.perf_counter() - started


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("bench/dashboards.py: skipped (set DATABASE_URL=postgres://... to run)")
        return
    company = benchlib.prepare(url, NAME, generate, say)
    from nestogy.accounts.models import User

    owner = User.objects.get(email="owner@bench-dashboards.bench")
    http = benchlib.signed_in(owner, company)
    pages = [("service dashboard, 7 days", "/app/reports/service/", {"days": "7"},
              "service:7"),
             ("service dashboard, 30 days", "/app/reports/service/", {"days": "30"},
              "service:30"),
             ("service dashboard, 90 days", "/app/reports/service/", {"days": "90"},
              "service:90"),
             ("revenue dashboard", "/app/reports/revenue/", {}, "revenue")]
    results = []
    for label, path, params, key in pages:
        timings, counts = benchlib.timed(http, path, params, runs=RUNS)
        median, p95 = benchlib.stats(timings)
        cold = cold_runs(http, company, path, params, key)
        results.append({"page": label, "median_ms": round(median * 1000, 1),
                        "p95_ms": round(p95 * 1000, 1), "queries": sorted(counts),
                        "computed_median_ms": round(statistics.median(cold) * 1000, 1)})
    refresh = refresh_all(company)
    floor = min(sql_floor(company) for _ in range(5))
    read_floor = min(snapshot_read(company) for _ in range(20))
    if JSON:
        print(json.dumps({"pages": results, "service_sql_floor_ms": round(floor * 1000, 1),
                          "snapshot_read_ms": round(read_floor * 1000, 2),
                          "refresh_company_s": round(refresh, 2)}))
        return
    say(f"{'page (stored figures)':<30} {'median':>9} {'p95':>9}  queries  "
        "computed on opening (median)")
    for r in results:
        say(f"{r['page']:<30} {r['median_ms']:>7.1f}ms {r['p95_ms']:>7.1f}ms  "
            f"{','.join(map(str, r['queries'])):<7}  {r['computed_median_ms']:>7.1f}ms")
    say(f"lower bound of a stored page: reading its row by hand, {read_floor * 1000:.2f} ms; "
        f"service 90 days page / read = "
        f"{results[2]['median_ms'] / (read_floor * 1000):.0f}x")
    say(f"service dashboard SQL alone (90 days, by hand): {floor * 1000:.1f} ms; "
        f"computed page / SQL = {results[2]['computed_median_ms'] / (floor * 1000):.1f}x")
    say(f"the scheduler's refresh of the company's four pages: {refresh:.2f} s "
        "(every five minutes while people read them)")
    slow = [r["page"] for r in results if r["p95_ms"] >= 200]
    say("target p95 < 200 ms: " + ("OK" if not slow else f"NOT MET for {', '.join(slow)}"))


def cold_runs(http, company, path, params, key, runs: int = 3) -> list[float]:
    """The page when its figures must be computed (none stored): each run forgets them."""
    from django_scopes import scopes_disabled

    from nestogy.workspace.models import DashboardSnapshot

    timings = []
    for _ in range(runs):
        with scopes_disabled():
            DashboardSnapshot.objects.filter(company=company, key=key).delete()
        started = time.perf_counter()
        http.get(path, params)
        timings.append(time.perf_counter() - started)
    return timings


def refresh_all(company) -> float:
    """The scheduler's per-company task over the four pages, made due."""
    from datetime import timedelta

    from django_scopes import scope

    from nestogy.workspace.models import DashboardSnapshot
    from nestogy.workspace.tasks import refresh_company_dashboards

    with scope(company=company.pk):
        rows = DashboardSnapshot.objects.filter(company=company)
        for row in rows:
            DashboardSnapshot.objects.filter(pk=row.pk).update(
                computed_at=row.computed_at - timedelta(minutes=10))
    started = time.perf_counter()
    done = refresh_company_dashboards.call(company.pk)
    elapsed = time.perf_counter() - started
    assert len(done["refreshed"]) == 4, done
    return elapsed


def snapshot_read(company) -> float:
    """The one statement a stored page needs: its row, by hand."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload, computed_at FROM workspace_dashboardsnapshot "
                       "WHERE company_id = %s AND key = 'service:90'", [company.pk])
        cursor.fetchall()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
