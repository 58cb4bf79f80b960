"""Concurrency on PostgreSQL: two threads issue invoices or run the recurring job at once.

Each thread has its own database connection; numbers must stay gap-free with no duplicate,
and every contract period must be billed exactly once.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections
from django_scopes import scope

from nestogy.billing import recurring
from nestogy.billing.actions import create_invoice, issue_invoice
from nestogy.billing.models import Invoice
from nestogy.clients.actions import create_client
from tests.billing.helpers import add_usage, make_contract

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def in_threads(company_id, *targets):
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def wrap(target):
        try:
            with scope(company=company_id):
                barrier.wait()
                target()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def test_concurrent_issue_is_gap_free_without_duplicates(transactional_db, personas):
    p = personas
    with scope(company=p.company_a.pk):
        drafts = [create_invoice(p.company_a, p.client_a,
                                 {"items": [{"description": f"Job {i}", "unit_price": "10"}]})
                  for i in range(24)]

    def issuer(chunk):
        def run():
            for invoice in chunk:
                issue_invoice(invoice)
        return run

    in_threads(p.company_a.pk, issuer(drafts[0::2]), issuer(drafts[1::2]))
    with scope(company=p.company_a.pk):
        numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-{i:05d}" for i in range(1, 25)]


def test_two_recurring_runs_at_once_bill_each_period_once(transactional_db, personas):
    p = personas
    with scope(company=p.company_a.pk):
        for i in range(30):
            client = create_client(p.company_a, {"name": f"Concurrent {i}"})
            contract = make_contract(p.company_a, client, start="2025-01-01")
            add_usage(contract, [("2025-01-09 09:00", str(10 + i))])

    def runner():
        recurring.run_recurring(p.company_a, date(2025, 3, 1), batch_size=7)

    in_threads(p.company_a.pk, runner, runner)
    with scope(company=p.company_a.pk):
        rows = list(Invoice.objects.values_list("contract_id", "period_start", "number"))
    assert len(rows) == 90  # 30 contracts × Jan, Feb, Mar
    assert len({(c, s) for c, s, _ in rows}) == 90
    assert sorted(n for _, _, n in rows) == [f"INV-{i:05d}" for i in range(1, 91)]
    # and a third run as of the same date creates nothing
    with scope(company=p.company_a.pk):
        assert recurring.run_recurring(p.company_a, date(2025, 3, 1)).invoices == []
