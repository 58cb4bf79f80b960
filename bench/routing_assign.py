"""Auto-assign 1,000 open tickets across 50 technicians in one batch and report the time,
the query count, and the batch's total score against the greedy arrival-order baseline.

    DATABASE_URL=postgres://root@127.0.0.1:5432/nestogy .venv/bin/python bench/routing_assign.py
    .venv/bin/python bench/routing_assign.py           # a throw-away SQLite database

Lower bound for comparison: one hand-written ``UPDATE tickets SET assignee_id = CASE ...``
for the same 1,000 rows (the write alone, without deciding anything). Everything runs in a
transaction that is rolled back at the end.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
if not os.environ.get("DATABASE_URL"):
    os.environ.setdefault("NESTOGY_DATA_DIR", tempfile.mkdtemp(prefix="nestogy-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nestogy.settings")
os.environ.setdefault("NESTOGY_LOG_LEVEL", "WARNING")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_scopes import scope  # noqa: E402

TICKETS, TECHS, CLIENTS = 1_000, 50, 40
SKILLS = ["networking", "windows", "m365", "security", "backup", "printers"]


class Rollback(Exception):
    pass


def main() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    from nestogy.accounts.actions import add_member
    from nestogy.clients.actions import create_client
    from nestogy.ops.provisioning import provision_company
    from nestogy.routing.actions import set_category_skills
    from nestogy.tickets.models import Ticket
    from nestogy.tickets.routing import auto_assign

    rng = random.Random(5)
    try:
        with transaction.atomic():
            prov = provision_company(name=f"Bench routing {time.time_ns()}",
                                     owner_email=f"owner{time.time_ns()}@bench.test")
            company = prov.company
            with scope(company=company.pk):
                for i in range(TECHS):
                    own = rng.sample(SKILLS, 3)
                    add_member(company, email=f"tech{i}-{time.time_ns()}@bench.test",
                               role="technician", max_open_tickets=30,
                               skills={s: rng.randint(1, 5) for s in own})
                for skill in SKILLS:
                    set_category_skills(company, skill, {skill: 2})
                clients = [create_client(company, {"name": f"Client {i}"})
                           for i in range(CLIENTS)]
                from nestogy.tickets.actions import select_policy

                policies = {c.pk: select_policy(c) for c in clients}
                tickets = Ticket.objects.bulk_create([
                    Ticket(company=company, number=n + 1, subject=f"Bench {n}",
                           client=(c := rng.choice(clients)), policy=policies[c.pk],
                           category=rng.choice(SKILLS), opened_at=django.utils.timezone.now(),
                           priority=rng.choice(["low", "medium", "medium", "high",
                                                "critical"]))
                    for n in range(TICKETS)])
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as queries:
                    outcome = auto_assign(tickets)
                elapsed = time.perf_counter() - started
                batch = outcome.batch
                ids = [t.pk for t in tickets]
                table = Ticket._meta.db_table
                started = time.perf_counter()
                with connection.cursor() as cursor:
                    cases = " ".join(f"WHEN {pk} THEN {pk % 7 + 1}" for pk in ids)
                    cursor.execute(f"UPDATE {table} SET number = number + 0 * CASE id {cases} "
                                   f"END WHERE id IN ({','.join(map(str, ids))})")
                floor = time.perf_counter() - started
            raise Rollback((elapsed, len(queries), len(outcome.assigned),
                            len(outcome.unassigned), batch, floor))
    except Rollback as done:
        elapsed, nqueries, assigned, unassigned, batch, floor = done.args[0]
    print(f"database: {connection.vendor}")
    print(f"auto-assigned {assigned:,} of {TICKETS:,} tickets across {TECHS} technicians "
          f"({unassigned} left for dispatchers)")
    print(f"time: {elapsed:.2f} s, {nqueries} queries "
          f"(gathering 6, writes in batches of 500, one notification fan-out)")
    print(f"lower bound (one hand-written UPDATE of the same rows): {floor * 1000:.1f} ms "
          f"→ ratio {elapsed / max(floor, 1e-6):,.0f}x (the rest is deciding)")
    print(f"batch total score {batch.total_score} vs greedy {batch.greedy_total_score} "
          f"(assigned {len(batch.assignments)} vs {len(batch.greedy_assignments)})")


if __name__ == "__main__":
    main()
