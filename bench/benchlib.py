"""What the benchmarks share: creating their database, timing pages through Django's test
client, and the median/p95 of a series."""

from __future__ import annotations

import statistics
import time
from urllib.parse import urlparse


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist."""
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def timed(http, url: str, params: dict | None = None, *,
          runs: int) -> tuple[list[float], set[int]]:
    """``runs`` GETs of a page after one to warm up: their times and query counts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    http.get(url, params or {})  # warm up
    timings, counts = [], set()
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = http.get(url, params or {})
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        counts.add(len(queries))
    return timings, counts


def stats(timings: list[float]) -> tuple[float, float]:
    """Median and 95th percentile."""
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def prepare(url: str, company_name: str, generate, say=print):
    """Create and migrate the database, generate the company once, analyse: the company."""
    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from nestogy.tenancy.models import Company

    say(f"database: {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    company = Company.objects.filter(name=company_name).first()
    if company is None:
        generate()
        company = Company.objects.get(name=company_name)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return company


def signed_in(user, company):
    """A Django test client signed in as ``user`` with ``company`` chosen (any host)."""
    from django.conf import settings
    from django.test import Client

    from nestogy.accounts.middleware import SESSION_COMPANY_KEY

    settings.ALLOWED_HOSTS = ["*"]
    http = Client()
    http.force_login(user)
    session = http.session
    session[SESSION_COMPANY_KEY] = company.public_id
    session.save()
    return http
