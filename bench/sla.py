"""SLA benchmark on PostgreSQL: the breach checker and the ticket list at 200,000 tickets.

    DATABASE_URL=postgres://root@127.0.0.1:5432/nestogy_bench_sla .venv/bin/python bench/sla.py

Creates the database if needed, migrates, and (once) generates company "Bench SLA" with
200,000 tickets of which 50,000 are open, plus a small company "Bench SLA small" with 2,000
open tickets, and prints:

- ROUTINE: one checker run (``check_company``) over 1,000 due tickets, and BURST: one run with
  every open ticket not waiting on the client armed at once (about 33,000 of the 50,000 are
  then due: the others were opened too recently to have passed a threshold), each with its
  time, query count and rows written (fired levels, priority
  raises, audit entries, stored events, deliveries, ticket rows updated), and its ratio to a
  PostgreSQL COPY of the same rows into scratch tables (the floor for writing them);
- the same for the small company (routine 1,000 due, burst about 1,300): the query count
  does not depend on how many tickets are due or open;
- one hand-written SQL query selecting the due rows;
- the median and p95 latency and query count of a filtered, sorted ticket list page.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from benchlib import ensure_database

DEFAULT_URL = "postgres://root@127.0.0.1:5432/nestogy_bench_sla"
URL = os.environ.get("DATABASE_URL") or DEFAULT_URL
if not URL.startswith("postgres"):
    sys.exit("bench/sla.py needs PostgreSQL: set DATABASE_URL=postgres://...")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("NESTOGY_DATA_DIR", tempfile.mkdtemp(prefix="nestogy-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nestogy.settings")

TOTAL = int(os.environ.get("BENCH_TICKETS", 200_000))
OPEN = int(os.environ.get("BENCH_OPEN", 50_000))
SMALL_OPEN = 2_000
DUE = 1_000
LIST_RUNS = 60




def generate(name: str, total: int, open_count: int) -> None:
    from django.db import transaction
    from django_scopes import scope

    from nestogy.clients.models import Client
    from nestogy.core.timeutil import now
    from nestogy.ops.provisioning import provision_company
    from nestogy.tickets.models import Ticket, TicketCounter

    started = time.monotonic()
    rng = random.Random(7)
    provisioned = provision_company(name=name, owner_email=f"owner@{name.replace(' ', '-')}"
                                    ".bench".lower(), timezone="America/New_York")
    company = provisioned.company
    with scope(company=company.pk), transaction.atomic():
        clients = Client.objects.bulk_create(
            [Client(company=company, name=f"Client {i:04d}") for i in range(200)])
        from nestogy.sla.models import SLAPolicy

        policy = SLAPolicy.objects.get(is_default=True)
        current = now()
        statuses_closed = ["resolved", "closed"]
        statuses_open = ["new", "open", "in_progress", "waiting_on_client"]
        batch = []
        for n in range(1, total + 1):
            is_open = n > total - open_count
            opened = current - timedelta(minutes=rng.randint(10, 60 * 24 * 365))
            if is_open:
                opened = current - timedelta(minutes=rng.randint(10, 60 * 24 * 10))
            fr_due = opened + timedelta(hours=rng.choice([1, 2, 4, 8]))
            res_due = opened + timedelta(hours=rng.choice([4, 8, 24, 40]))
            status = rng.choice(statuses_open if is_open else statuses_closed)
            batch.append(Ticket(
                company=company, number=n, subject=f"Ticket {n} about printers and VPN",
                client=clients[n % len(clients)], priority=rng.choice(
                    ["low", "medium", "high", "critical"]), status=status, opened_at=opened,
                policy=policy, first_response_due_at=fr_due, resolution_due_at=res_due,
                sla_state="running" if is_open else "met",
                first_response_state="running" if is_open else "met",
                resolution_state="running" if is_open else "met",
                resolved_at=None if is_open else res_due - timedelta(hours=1),
                first_response_seconds=None if is_open else rng.randint(60, 7200),
                resolution_seconds=None if is_open else rng.randint(600, 80000),
                next_check_at=(current + timedelta(minutes=rng.randint(20, 60 * 24 * 3)))
                if is_open and status != "waiting_on_client" else None))
            if len(batch) == 5000:
                Ticket.objects.bulk_create(batch)
                batch = []
                print(f"  {name}: {n}/{total} tickets", flush=True)
        if batch:
            Ticket.objects.bulk_create(batch)
        TicketCounter.objects.update_or_create(company=company, defaults={"last_number": total})
    print(f"  generated {name} in {time.monotonic() - started:.1f}s", flush=True)


def rearm(company, due: int | None = DUE) -> int:
    """Arm ``due`` open tickets (all open ones not waiting on the client when ``None``) at
    high priority, with no escalation fired yet and the previous run's rows gone:
    their clocks are recomputed (as any ticket action does), so each has its thresholds
    stored, and all but the few opened minutes ago are due now. Returns how many are due."""
    from django.db import transaction
    from django_scopes import scope

    from nestogy.audit.models import AuditEntry
    from nestogy.core.timeutil import now
    from nestogy.notifications.models import StoredEvent
    from nestogy.tickets.models import Escalation, PriorityChange, Ticket

    with scope(company=company.pk), transaction.atomic():
        Escalation.objects.all().delete()
        PriorityChange.objects.all().delete()
        AuditEntry.objects.filter(action="sla.levels_fired").delete()
        StoredEvent.objects.all().delete()  # and their deliveries
        current = now()
        Ticket.objects.filter(next_check_at__lte=current).update(
            next_check_at=current + timedelta(days=2))
        candidates = (Ticket.objects.exclude(status__in=["resolved", "closed"])
                      .exclude(status="waiting_on_client"))
        if due is not None:  # opened four days ago or more: past a threshold, so due now
            candidates = candidates.filter(opened_at__lte=current - timedelta(days=4)) \
                .order_by("?")[:due]
        open_ids = list(candidates.values_list("pk", flat=True))
        Ticket.objects.filter(pk__in=open_ids).update(priority="high")
        # Their clocks (and the plans the checker advances) computed as a ticket action
        # would: every level already reached, so each ticket is due now.
        from django.db.models import Q

        from nestogy.tickets.sla import recompute_where

        recompute_where(Q(pk__in=open_ids), batch_size=5_000)
        # Tickets opened minutes ago have reached no threshold yet: not due.
        due_now = Ticket.objects.filter(next_check_at__lte=now()).count()
    with connection_cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_ticket")
    from django.core.cache import cache

    cache.clear()  # every run starts cold (cached notification preferences)
    return due_now


def connection_cursor():
    from django.db import connection

    return connection.cursor()


# What one run writes: table, and the condition selecting the run's rows (company, start).
WRITTEN = [
    ("tickets_escalation", "company_id = %s AND fired_at >= %s"),
    ("tickets_prioritychange", "company_id = %s AND created_at >= %s"),
    ("audit_auditentry", "company_id = %s AND created_at >= %s "
                         "AND action = 'sla.levels_fired'"),
    ("notifications_storedevent", "company_id = %s AND created_at >= %s"),
    ("notifications_delivery", "company_id = %s AND created_at >= %s"),
    ("tickets_ticket", "company_id = %s AND sla_computed_at >= %s"),
]


def copy_baseline(company, since) -> tuple[dict[str, int], float]:
    """The rows the run wrote, per table, and the time PostgreSQL takes to COPY the same
    rows (binary) into scratch tables of the same shape: the floor for writing them."""
    from django.db import connection

    raw = connection.connection
    counts, payloads = {}, []
    with raw.cursor() as cursor:
        for table, condition in WRITTEN:
            query = cursor.mogrify(f"SELECT * FROM {table} WHERE {condition}",
                                   [company.pk, since])
            with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as copy:
                data = b"".join(bytes(chunk) for chunk in copy)
            cursor.execute(f"SELECT count(*) FROM {table} WHERE {condition}",
                           [company.pk, since])
            counts[table] = cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE IF EXISTS scratch_{table}")
            cursor.execute(f"CREATE UNLOGGED TABLE scratch_{table} (LIKE {table})")
            payloads.append((table, data))
        raw.commit()
        started = time.perf_counter()
        for table, data in payloads:
            with cursor.copy(f"COPY scratch_{table} FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(data)
        raw.commit()
        elapsed = time.perf_counter() - started
        for table, _ in payloads:
            cursor.execute(f"DROP TABLE scratch_{table}")
        raw.commit()
    return counts, elapsed


def measure_check(company, due: int | None = DUE):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from nestogy.core.timeutil import now
    from nestogy.tickets.escalation import check_company

    armed = rearm(company, due)
    since = now()
    profiler = None
    if os.environ.get("BENCH_PROFILE") and due is None:
        import cProfile

        profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        report = check_company(company)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
    if profiler:
        import pstats

        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        slow = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:8]
        for q in slow:
            print(f"  {q['time']} s  {q['sql'][:160]}")
    counts, copy_seconds = copy_baseline(company, since)
    return {"due": armed, "seconds": elapsed, "queries": len(queries), "report": report,
            "rows": counts, "copy_seconds": copy_seconds}


def show(label: str, m: dict) -> None:
    r = m["report"]
    rows = sum(m["rows"].values())
    print(f"{label}: {m['due']} due, {m['seconds'] * 1000:.0f} ms, {m['queries']} queries; "
          f"fired {r.warnings} warnings, {r.breaches} breaches, {r.escalations} escalations; "
          f"{rows} rows written ({', '.join(f'{t} {n}' for t, n in m['rows'].items())}); "
          f"COPY of the same rows {m['copy_seconds'] * 1000:.0f} ms, ratio "
          f"{m['seconds'] / m['copy_seconds']:.1f}x", flush=True)


def hand_written_sql(company) -> float:
    from django.db import connection

    from nestogy.core.timeutil import now

    due = rearm(company)
    timings = []
    with connection.cursor() as cursor:
        for _ in range(5):
            started = time.perf_counter()
            cursor.execute("SELECT id FROM tickets_ticket WHERE company_id = %s "
                           "AND next_check_at <= %s ORDER BY id", [company.pk, now()])
            rows = cursor.fetchall()
            timings.append(time.perf_counter() - started)
    assert len(rows) == due, (len(rows), due)
    return statistics.median(timings)


def measure_list(company):
    from django.conf import settings
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scope

    from nestogy.accounts.actions import issue_api_token
    from nestogy.accounts.models import Membership

    settings.ALLOWED_HOSTS = ["*"]
    with scope(company=company.pk):
        owner = Membership.objects.filter(role="owner").first()
        _, token = issue_api_token(owner, name="bench")
    http = HttpClient()
    headers = {"Authorization": f"Bearer {token}"}
    url = "/api/v1/tickets"
    params = {"status": "open,in_progress", "priority": "high,critical",
              "sort": "-resolution_due_at", "limit": 50}
    http.get(url, params, headers=headers)  # warm up
    timings, counts = [], set()
    cursor = None
    for i in range(LIST_RUNS):
        page = dict(params)
        if cursor and i % 3:
            page["cursor"] = cursor
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = http.get(url, page, headers=headers)
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        assert len(body["items"]) == 50
        cursor = body["next_cursor"]
        counts.add(len(queries))
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], counts


def main() -> None:
    ensure_database(URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from nestogy.tenancy.models import Company

    print(f"database: {connection.settings_dict['NAME']}", flush=True)
    call_command("migrate", verbosity=0)
    big = Company.objects.filter(name="Bench SLA").first()
    if big is None:
        generate("Bench SLA", TOTAL, OPEN)
        big = Company.objects.get(name="Bench SLA")
    small = Company.objects.filter(name="Bench SLA small").first()
    if small is None:
        generate("Bench SLA small", SMALL_OPEN + 500, SMALL_OPEN)
        small = Company.objects.get(name="Bench SLA small")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")

    from django_scopes import scope

    from nestogy.tickets.models import Ticket

    with scope(company=big.pk):
        total = Ticket.objects.count()
        open_count = Ticket.objects.exclude(status__in=["resolved", "closed"]).count()
    print(f"tickets: {total} ({open_count} open) in the big company; "
          f"{SMALL_OPEN} open in the small one; {DUE} due checks each run", flush=True)

    routine = measure_check(big)
    show("ROUTINE (big)", routine)
    burst = measure_check(big, None)
    show("BURST   (big)", burst)
    small_routine = measure_check(small)
    show("ROUTINE (small)", small_routine)
    small_burst = measure_check(small, None)
    show("BURST   (small)", small_burst)
    counts = {m["queries"] for m in (routine, burst, small_routine, small_burst)}
    print(f"query counts {sorted(counts)}: independent of due and open tickets: "
          f"{'yes' if len(counts) == 1 else 'NO'}")
    if os.environ.get("BENCH_ONLY_CHECK"):
        return
    sql = hand_written_sql(big)
    print(f"hand-written due-row SQL:   {sql * 1000:.2f} ms; routine checker / SQL ratio: "
          f"{routine['seconds'] / sql:.0f}x (the checker also evaluates clocks and writes "
          f"results)")
    median, p95, counts = measure_list(big)
    print(f"ticket list page (status+priority filter, sorted by resolution due, 50 rows): "
          f"median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, queries per page "
          f"{sorted(counts)}; target p95 < 50 ms: {'met' if p95 < 0.05 else 'NOT met'}")


if __name__ == "__main__":
    main()
