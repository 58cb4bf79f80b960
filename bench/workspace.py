"""Staff workspace benchmark on PostgreSQL: the queue page at 50,000 open tickets and the
ticket page with a 200-event timeline.

    DATABASE_URL=postgres://root@127.0.0.1:5432/nestogy_bench_workspace \\
        .venv/bin/python bench/workspace.py [--json]

Creates the database if needed, migrates, and (once) generates company "Bench Workspace":
200 clients, 25 technicians, 50,000 open tickets (a fifth unassigned; running, warning,
breached and paused clocks; first responses met on a third) and 25,000 closed ones, plus
one ticket with a 200-event timeline (public replies, internal notes, status, priority and
assignment changes, escalations). Then it times whole requests through Django's test client
(middleware, session, scope, view, template), signed in as a technician:

- the queue page (``/app/``) for each built-in view, a filtered view and a text search;
- the ticket page (``/app/tickets/<id>/``) of the 200-event ticket (assigned: its routing
  panel is ranked when opened, timed on its own), and of an unassigned ticket, whose page
  ranks the 25 technicians inline;

and prints the median and p95 server time and the number of queries per page (the same for
every view), next to the lower bound: the page's SQL alone (the counts of the six views and
the first page of 50 rows in urgency order, as hand-written statements).
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from benchlib import prepare, signed_in, stats, timed

DEFAULT_URL = "postgres://root@127.0.0.1:5432/nestogy_bench_workspace"
URL = os.environ.get("DATABASE_URL") or DEFAULT_URL
if not URL.startswith("postgres"):
    sys.exit("bench/workspace.py needs PostgreSQL: set DATABASE_URL=postgres://...")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("NESTOGY_DATA_DIR", tempfile.mkdtemp(prefix="nestogy-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nestogy.settings")

NAME = "Bench Workspace"
OPEN = int(os.environ.get("BENCH_OPEN", 50_000))
CLOSED = OPEN // 2
TECHS = 25
RUNS = int(os.environ.get("BENCH_RUNS", 40))
TIMELINE = 200
TARGET_MS = 100
JSON = "--json" in sys.argv


def say(text: str) -> None:
    if not JSON:
        print(text, flush=True)




def generate() -> None:
    from django.db import transaction
    from django_scopes import scope

    from nestogy.accounts.actions import add_member
    from nestogy.audit.models import AuditEntry
    from nestogy.clients.models import Client, Contact
    from nestogy.core.timeutil import now
    from nestogy.ops.provisioning import provision_company
    from nestogy.sla.models import SLAPolicy
    from nestogy.tickets.models import (
        Escalation,
        PriorityChange,
        Reply,
        StatusChange,
        Ticket,
        TicketCounter,
    )

    started = time.monotonic()
    rng = random.Random(13)
    company = provision_company(name=NAME, owner_email="owner@bench-workspace.bench",
                                timezone="America/Chicago").company
    with scope(company=company.pk), transaction.atomic():
        techs = [add_member(company, email=f"tech{i:02d}@bench-workspace.bench",
                            name=f"Technician {i:02d}", role="technician",
                            skills={"network": rng.randint(1, 5), "m365": rng.randint(1, 5)},
                            password="bench-password").user
                 for i in range(TECHS)]
        clients = Client.objects.bulk_create(
            [Client(company=company, name=f"Client {i:03d} Ltd") for i in range(200)])
        contacts = Contact.objects.bulk_create(
            [Contact(company=company, client=c, name=f"Contact of {c.name}",
                     email=f"it@client{i:03d}.bench") for i, c in enumerate(clients)])
        policy = SLAPolicy.objects.get(is_default=True)
        current = now()
        batch, total = [], OPEN + CLOSED
        for n in range(1, total + 1):
            is_open = n > CLOSED
            opened = current - timedelta(minutes=rng.randint(10, 60 * 24 * (10 if is_open
                                                                            else 365)))
            fr_due = opened + timedelta(hours=rng.choice([1, 2, 4, 8]))
            res_due = opened + timedelta(hours=rng.choice([8, 24, 40, 80]))
            status = rng.choice(["new", "open", "in_progress", "in_progress",
                                 "waiting_on_client"] if is_open else ["resolved", "closed"])
            fr_met = not is_open or rng.random() < 0.33
            if not is_open:
                fr_state = res_state = sla = "met"
            elif status == "waiting_on_client":
                fr_state = "met" if fr_met else "paused"
                res_state = sla = "paused"
            else:
                fr_state = "met" if fr_met else ("breached" if fr_due < current else "running")
                res_state = "breached" if res_due < current else "running"
                sla = "breached" if "breached" in (fr_state, res_state) else "running"
            k = n % len(clients)
            batch.append(Ticket(
                company=company, number=n, subject=f"Ticket {n}: printer and VPN trouble",
                client=clients[k], contact=contacts[k],
                priority=rng.choice(["low", "medium", "medium", "high", "critical"]),
                status=status, opened_at=opened, policy=policy,
                category=rng.choice(["", "network", "email", "hardware"]),
                assignee=None if rng.random() < 0.2 else rng.choice(techs),
                first_response_due_at=fr_due, resolution_due_at=res_due, sla_state=sla,
                first_response_state=fr_state, resolution_state=res_state,
                first_response_at=opened + timedelta(minutes=30) if fr_met else None,
                resolved_at=None if is_open else res_due - timedelta(hours=1),
                next_check_at=current + timedelta(minutes=rng.randint(5, 60 * 24))
                if is_open and status != "waiting_on_client" else None))
            if len(batch) == 5000:
                Ticket.objects.bulk_create(batch)
                batch = []
                say(f"  {n}/{total} tickets")
        Ticket.objects.bulk_create(batch)
        TicketCounter.objects.update_or_create(company=company, defaults={"last_number": total})

        # one ticket with a long history: TIMELINE events
        big = Ticket.objects.create(
            company=company, number=total + 1, subject="Long-running migration ticket",
            client=clients[0], contact=contacts[0], priority="high", status="in_progress",
            opened_at=current - timedelta(days=20), policy=policy, assignee=techs[0],
            first_response_due_at=current - timedelta(days=19, hours=20),
            resolution_due_at=current + timedelta(days=2), sla_state="running",
            first_response_state="met", resolution_state="running",
            first_response_at=current - timedelta(days=19, hours=22))
        TicketCounter.objects.filter(company=company).update(last_number=total + 1)
        at = [big.opened_at + timedelta(minutes=90 * i) for i in range(TIMELINE)]
        Reply.objects.bulk_create(
            [Reply(company=company, ticket=big, body=f"Step {i}: checked mailbox batch {i}.\n"
                   "Details follow in the next update.", public=i % 3 != 0,
                   author_user=techs[i % 5] if i % 4 else None,
                   author_contact=None if i % 4 else contacts[0], by_staff=bool(i % 4),
                   posted_at=at[i]) for i in range(0, 120)])
        StatusChange.objects.bulk_create(
            [StatusChange(company=company, ticket=big, at=at[120 + i], actor=techs[i % 5],
                          from_status="in_progress" if i % 2 else "waiting_on_client",
                          to_status="waiting_on_client" if i % 2 else "in_progress")
             for i in range(40)])
        PriorityChange.objects.bulk_create(
            [PriorityChange(company=company, ticket=big, at=at[160 + i], actor=techs[1],
                            from_priority="medium" if i % 2 else "high",
                            to_priority="high" if i % 2 else "medium") for i in range(20)])
        AuditEntry.objects.bulk_create(
            [AuditEntry(company=company, action="ticket.assigned", actor=techs[2],
                        object_type=Ticket._meta.label_lower, object_id=big.public_id,
                        object_repr=str(big), created_at=at[180 + i],
                        data={"assignee_id": techs[i % TECHS].public_id}) for i in range(16)])
        Escalation.objects.bulk_create(
            [Escalation(company=company, ticket=big, clock="resolution", level=lvl,
                        percent=25 * lvl, fired_at=at[196 + lvl - 1]) for lvl in (1, 2, 3, 4)])
    say(f"  generated {NAME} in {time.monotonic() - started:.1f}s")






def page_sql_floor(company_id: int, user_id: int) -> float:
    """The queue page's SQL alone, hand-written: six counts and the first 50 rows."""
    from django.db import connection

    counts = """
        SELECT count(*) FILTER (WHERE assignee_id = %(u)s),
               count(*) FILTER (WHERE assignee_id IS NULL),
               count(*) FILTER (WHERE sla_state NOT IN ('breached', 'paused') AND (
                   (first_response_state IN ('running', 'warning')
                    AND first_response_due_at <= now() + interval '4 hours')
                   OR (resolution_state IN ('running', 'warning')
                       AND resolution_due_at <= now() + interval '4 hours'))),
               count(*) FILTER (WHERE sla_state = 'breached'),
               count(*) FILTER (WHERE status = 'waiting_on_client'),
               count(*)
        FROM tickets_ticket WHERE company_id = %(c)s AND status NOT IN ('resolved', 'closed')"""
    rows = """
        SELECT t.id, t.number, t.subject, t.status, t.priority, t.opened_at,
               t.first_response_due_at, t.resolution_due_at, t.sla_state, c.name, k.name,
               u.name
        FROM tickets_ticket t JOIN clients_client c ON c.id = t.client_id
        LEFT JOIN clients_contact k ON k.id = t.contact_id
        LEFT JOIN accounts_user u ON u.id = t.assignee_id
        WHERE t.company_id = %(c)s AND t.status NOT IN ('resolved', 'closed')
        ORDER BY CASE WHEN t.sla_state = 'breached' THEN 0
                      WHEN t.sla_state = 'paused' THEN 2 ELSE 1 END,
                 CASE WHEN t.first_response_state IN ('running','warning','breached','paused')
                      THEN t.first_response_due_at
                      WHEN t.resolution_state IN ('running','warning','breached','paused')
                      THEN t.resolution_due_at END ASC NULLS LAST, t.opened_at, t.id
        LIMIT 50"""
    timings = []
    with connection.cursor() as cursor:
        for _ in range(RUNS):
            started = time.perf_counter()
            cursor.execute(counts, {"u": user_id, "c": company_id})
            cursor.fetchall()
            cursor.execute(rows, {"c": company_id})
            assert len(cursor.fetchall()) == 50
            timings.append(time.perf_counter() - started)
    return stats(timings)[1]


def main() -> None:
    company = prepare(URL, NAME, generate, say)
    from django_scopes import scope

    from nestogy.accounts.models import User
    from nestogy.tickets.models import Ticket

    with scope(company=company.pk):
        open_count = Ticket.objects.exclude(status__in=["resolved", "closed"]).count()
        total = Ticket.objects.count()
        big = Ticket.objects.get(subject="Long-running migration ticket")
        waiting = (Ticket.objects.filter(assignee__isnull=True, status="new")
                   .order_by("number").first())
    tech = User.objects.get(email="tech00@bench-workspace.bench")
    say(f"tickets: {total} ({open_count} open); signed in as {tech.email}; {RUNS} runs each")

    http = signed_in(tech, company)

    pages = [
        ("queue: My work", "/app/", {"view": "mine"}),
        ("queue: Unassigned", "/app/", {"view": "unassigned"}),
        ("queue: Due soon", "/app/", {"view": "due_soon"}),
        ("queue: Breached", "/app/", {"view": "breached"}),
        ("queue: Waiting on client", "/app/", {"view": "waiting"}),
        ("queue: All open", "/app/", {"view": "all"}),
        ("queue: All, priority high, hardware", "/app/",
         {"view": "all", "priority": "high", "category": "hardware"}),
        ("queue: All, text 'VPN trouble'", "/app/", {"view": "all", "q": "VPN trouble"}),
        (f"ticket page ({TIMELINE}-event timeline)", f"/app/tickets/{big.public_id}/", {}),
        ("its routing panel, opened (25 technicians)",
         f"/app/tickets/{big.public_id}/routing", {}),
        ("unassigned ticket page, routing ranked inline",
         f"/app/tickets/{waiting.public_id}/", {}),
    ]
    results = []
    for label, url, params in pages:
        timings, counts = timed(http, url, params, runs=RUNS)
        median, p95 = stats(timings)
        results.append({"page": label, "median_ms": round(median * 1000, 1),
                        "p95_ms": round(p95 * 1000, 1), "queries": sorted(counts),
                        "target_met": p95 * 1000 < TARGET_MS})
        say(f"{label:42s} median {median * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
            f"queries {sorted(counts)}  target p95 < {TARGET_MS} ms: "
            f"{'met' if p95 * 1000 < TARGET_MS else 'NOT met'}")
    floor = page_sql_floor(company.pk, tech.pk)
    queue_p95 = max(r["p95_ms"] for r in results if r["page"].startswith("queue"))
    query_counts = {tuple(r["queries"]) for r in results if r["page"].startswith("queue")}
    say(f"lower bound: the queue's SQL alone (six counts + first 50 rows in urgency order), "
        f"p95 {floor * 1000:.1f} ms; slowest queue view p95 / SQL floor: "
        f"{queue_p95 / (floor * 1000):.1f}x")
    say(f"queue query counts {sorted(query_counts)}: "
        f"{'constant' if len(query_counts) == 1 else 'NOT constant'} across views")
    if JSON:
        print(json.dumps({"open_tickets": open_count, "tickets": total, "runs": RUNS,
                          "pages": results, "sql_floor_p95_ms": round(floor * 1000, 1)},
                         indent=2))


if __name__ == "__main__":
    main()
