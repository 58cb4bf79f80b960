"""Fan one event out to N recipients and report the time and query count of creating the
deliveries (the outbox rows), for N = 1,000 and 10,000.

    DATABASE_URL=postgres://root@127.0.0.1:5432/nestogy .venv/bin/python bench/notifications.py
    .venv/bin/python bench/notifications.py            # a throw-away SQLite database

Everything runs inside a transaction that is rolled back at the end, so the database is left
as it was (and, the transaction never committing, nothing is sent). The query count must not
grow with the number of recipients apart from one INSERT per 1,000 deliveries.
"""

from __future__ import annotations

import os
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

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_scopes import scope, scopes_disabled  # noqa: E402

from nestogy.accounts.models import Membership, User  # noqa: E402
from nestogy.core import events  # noqa: E402
from nestogy.notifications.models import Delivery  # noqa: E402
from nestogy.tenancy.models import Company  # noqa: E402

SIZES = (1_000, 10_000)


class Rollback(Exception):
    pass


def recipients(event: events.Event) -> list[events.Recipient]:
    return [events.Recipient(user_id=uid) for uid in event.data["user_ids"]]


def run(n: int) -> tuple[float, int, int]:
    try:
        with transaction.atomic(), scopes_disabled():
            company = Company.objects.create(name=f"Bench {n}", slug=f"bench-{n}-{time.time_ns()}")
            tag = time.time_ns()
            users = User.objects.bulk_create(
                [User(email=f"bench{i}-{tag}@bench.test", name=f"Tech {i}") for i in range(n)],
                batch_size=2000)
            Membership.objects.bulk_create(
                [Membership(company=company, user=u, role="technician") for u in users],
                batch_size=2000)
            user_ids = [u.pk for u in users]
            with scope(company=company.pk), CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                events.emit("bench.fanout", company_id=company.pk,
                            data={"user_ids": user_ids, "subject": "Bench"})
                elapsed = time.perf_counter() - started
            created = Delivery.objects.filter(company=company).count()
            inserts = sum(1 for q in queries.captured_queries
                          if q["sql"].startswith('INSERT INTO "notifications_delivery"'))
            raise Rollback((elapsed, len(queries), inserts, created))
    except Rollback as done:
        return done.args[0]


def main() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    events.register("bench.fanout", description="Benchmark event", recipients=recipients,
                     default_channels={"technician": ("email", "inapp")})
    print(f"database: {connection.vendor}")
    print(f"{'recipients':>10} {'deliveries':>10} {'seconds':>8} {'queries':>7} "
          f"{'of which delivery INSERT batches':>32}")
    fixed = []
    for n in SIZES:
        cache.clear()  # measure the cold path: preferences read from the database
        elapsed, queries, inserts, created = run(n)
        fixed.append(queries - inserts)
        print(f"{n:>10,} {created:>10,} {elapsed:>8.2f} {queries:>7} {inserts:>32}")
    print(f"queries besides the INSERT batches: {fixed} (must not grow with recipients)")
    if len(set(fixed)) != 1:
        sys.exit("query count grows with the number of recipients")


if __name__ == "__main__":
    main()
