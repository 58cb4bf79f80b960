"""``process_failed_payments`` in two processes at once charges each due invoice once.

Runs the real command in two OS processes against the test database (PostgreSQL only: the
SQLite test database lives in memory / serialises writers) and the Stripe stand-in, whose
ledger shows every charge made.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scope

from nestogy.billing.models import Invoice
from nestogy.payments import charging, gateways
from nestogy.payments.models import Payment, PaymentAttempt
from tests.payments.conftest import card_on_file, issued_invoice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

INVOICES = 12


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def test_two_processes_charge_each_due_invoice_once(postgres_only, personas, standin):
    gateways.configure("stripe", **standin.client_options(), timeout=10)
    try:
        with scope(company=personas.company_a.pk):
            card_on_file(personas.client_a, standin)
            standin.decline_next(INVOICES)
            invoices = [issued_invoice(personas.client_a, f"{10 + n}.00")
                        for n in range(INVOICES)]
            for invoice in invoices:
                attempt = charging.run_attempt(charging.start_charge(invoice).pk)
                assert attempt.status == "declined"
            PaymentAttempt.objects.update(next_retry_at=timezone.now() - timedelta(minutes=1))
    finally:
        gateways.reset_configuration("stripe")
    assert standin.succeeded_charges() == []
    standin.latency = 0.15

    db = connection.settings_dict
    url = (f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
           f"{db['PORT'] or 5432}/{db['NAME']}")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "nestogy.settings",
           "NESTOGY_DATA_DIR": tempfile.mkdtemp(), "NESTOGY_STRIPE_API_KEY": standin.api_key,
           "NESTOGY_STRIPE_API_BASE": standin.url, "NESTOGY_STRIPE_TIMEOUT": "10",
           "EMAIL_URL": "dummy://"}
    nestogy = str(Path(sys.executable).with_name("nestogy"))
    procs = [subprocess.Popen([nestogy, "process_failed_payments", "--json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))

    charges = Counter(c.metadata["nestogy_invoice"] for c in standin.succeeded_charges())
    assert len(charges) == INVOICES and set(charges.values()) == {1}, charges
    assert sum(r["charged"] for r in reports) == INVOICES
    assert sum(r["charged"] + r["skipped"] for r in reports) >= INVOICES
    with scope(company=personas.company_a.pk):
        assert set(Invoice.objects.filter(pk__in=[i.pk for i in invoices])
                   .values_list("status", flat=True)) == {"paid"}
        assert Payment.objects.count() == INVOICES
        per_invoice = Counter(PaymentAttempt.objects.values_list("invoice_id", flat=True))
        assert set(per_invoice.values()) == {2}, "one retry attempt per invoice, no more"
        claimed_by = set(PaymentAttempt.objects.filter(attempt_number=2)
                         .values_list("claimed_by", flat=True))
    print("charged per process:", [r["charged"] for r in reports], "workers:", claimed_by)
