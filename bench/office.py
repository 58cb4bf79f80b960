"""Billing pages of the staff workspace on PostgreSQL: the invoices list, an invoice and the
collections board at 60,000 invoices.

    DATABASE_URL=postgres://root@127.0.0.1:5432/nestogy_bench_office \\
        .venv/bin/python bench/office.py [--json]

Creates the database if needed, migrates, and (once) generates company "Bench Office": 1,000
clients and 60,000 invoices of three lines each over two years (paid, partially paid,
issued, overdue, void, drafts), written with COPY-sized bulk inserts, plus one invoice with
40 payments applied. Then it times whole requests through Django's test client (middleware,
session, scope, view, template), signed in as the billing clerk:

- the invoices list unfiltered, open only, overdue only, a client-name search and an
  issue-date range;
- the invoice page of the invoice with 40 payments;
- the collections board (every client's open balance by days past due) and its overdue
  view;

and prints the median and p95 server time and the queries per page, next to the lower
bound: the list's SQL alone (the totals aggregate and the first page of 50 rows, as
hand-written statements).
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from benchlib import prepare, signed_in, stats, timed

DEFAULT_URL = "postgres://root@127.0.0.1:5432/nestogy_bench_office"
URL = os.environ.get("DATABASE_URL") or DEFAULT_URL
if not URL.startswith("postgres"):
    sys.exit("bench/office.py needs PostgreSQL: set DATABASE_URL=postgres://...")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("NESTOGY_DATA_DIR", tempfile.mkdtemp(prefix="nestogy-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nestogy.settings")

NAME = "Bench Office"
CLIENTS = 1_000
INVOICES = int(os.environ.get("BENCH_INVOICES", 60_000))
RUNS = int(os.environ.get("BENCH_RUNS", 40))
TARGET_MS = 200
JSON = "--json" in sys.argv


def say(text: str) -> None:
    if not JSON:
        print(text, flush=True)




def generate() -> None:
    from django.db import transaction
    from django_scopes import scope

    from nestogy.accounts.actions import add_member
    from nestogy.billing.models import Invoice, InvoiceLine
    from nestogy.clients.models import Client
    from nestogy.ops.provisioning import provision_company
    from nestogy.payments.recording import record_invoice_payment
    from nestogy.tickets.bulk import public_ids

    started = time.monotonic()
    rng = random.Random(11)
    company = provision_company(name=NAME, owner_email="owner@bench-office.bench",
                                timezone="America/New_York", currency="USD").company
    add_member(company, email="billing@bench-office.bench", name="Bench Clerk",
               role="billing", password="bench-office")
    today = date.today()
    with scope(company=company.pk), transaction.atomic():
        clients = Client.objects.bulk_create(
            [Client(company=company, name=f"{rng.choice(['Acme', 'Blue', 'Cedar', 'Delta'])} "
                                          f"Client {i:04d}") for i in range(CLIENTS)])
        statuses = ["paid"] * 6 + ["issued", "partially_paid", "overdue", "void", "draft"]
        invoice_ids = public_ids(Invoice.public_id_prefix, INVOICES)
        invoices = []
        for n in range(INVOICES):
            issued = today - timedelta(days=rng.randint(0, 730))
            status = rng.choice(statuses)
            total = Decimal(rng.randint(50_00, 9_000_00)) / 100
            paid = total if status == "paid" else (total / 2).quantize(Decimal("0.01")) \
                if status == "partially_paid" else Decimal(0)
            invoices.append(Invoice(
                company=company, public_id=invoice_ids[n], client=clients[n % CLIENTS],
                number=None if status == "draft" else f"INV-{n + 1:06d}", status=status,
                currency="USD", issue_date=None if status == "draft" else issued,
                due_date=None if status == "draft" else issued + timedelta(days=30),
                subtotal=total, total=total, amount_paid=paid,
                balance=Decimal(0) if status in ("void", "draft") else total - paid))
        Invoice.objects.bulk_create(invoices, batch_size=5_000)
        line_ids = public_ids(InvoiceLine.public_id_prefix, INVOICES * 3)
        lines = [InvoiceLine(company=company, public_id=line_ids[3 * i + k], invoice=inv,
                             position=k, description=f"Service line {k + 1}",
                             unit_price=inv.total / 3, amount=inv.total / 3, kind="manual")
                 for i, inv in enumerate(invoices) for k in range(3)]
        InvoiceLine.objects.bulk_create(lines, batch_size=10_000)
        big = Invoice.objects.filter(status="issued").order_by("id").first()
        Invoice.objects.filter(pk=big.pk).update(total=Decimal("40000.00"),
                                                 balance=Decimal("40000.00"))
        big.refresh_from_db()
        for k in range(40):
            record_invoice_payment(big, {"amount": "100.00", "method": "bank_transfer",
                                         "reference": f"BANK-{k:04d}"})
    say(f"  generated {NAME} in {time.monotonic() - started:.1f}s")






def list_sql_floor(company_id: int) -> float:
    """The unfiltered list's SQL alone: the totals aggregate and the first page of 50."""
    from django.db import connection

    timings = []
    with connection.cursor() as cursor:
        for _ in range(RUNS):
            started = time.perf_counter()
            cursor.execute("SELECT currency, count(*), sum(total), sum(balance) "
                           "FROM billing_invoice WHERE company_id = %s GROUP BY currency",
                           [company_id])
            cursor.fetchall()
            cursor.execute("SELECT i.*, c.name FROM billing_invoice i JOIN clients_client c "
                           "ON c.id = i.client_id WHERE i.company_id = %s "
                           "ORDER BY i.id DESC LIMIT 50", [company_id])
            cursor.fetchall()
            timings.append(time.perf_counter() - started)
    return stats(timings)[1]


def main() -> None:
    company = prepare(URL, NAME, generate, say)
    from django_scopes import scope

    from nestogy.accounts.models import User
    from nestogy.billing.models import Invoice

    with scope(company=company.pk):
        total = Invoice.objects.count()
        big = Invoice.objects.filter(payment_allocations__isnull=False).distinct().first()
        start = (Invoice.objects.exclude(issue_date=None).order_by("issue_date")
                 .values_list("issue_date", flat=True).first())
    clerk = User.objects.get(email="billing@bench-office.bench")
    say(f"invoices: {total}; signed in as {clerk.email}; {RUNS} runs each")

    http = signed_in(clerk, company)

    pages = [
        ("invoices: all", "/app/invoices/", {}),
        ("invoices: open", "/app/invoices/", {"status": "open"}),
        ("invoices: overdue only", "/app/invoices/", {"overdue": "on"}),
        ("invoices: search 'Cedar'", "/app/invoices/", {"q": "Cedar"}),
        ("invoices: issued in one month", "/app/invoices/",
         {"issued_from": (start + timedelta(days=200)).isoformat(),
          "issued_to": (start + timedelta(days=230)).isoformat()}),
        ("invoice page (40 payments)", f"/app/invoices/{big.public_id}/", {}),
        ("collections board", "/app/collections/", {}),
        ("collections board, overdue only", "/app/collections/", {"overdue": "on"}),
    ]
    results = []
    for label, url, params in pages:
        timings, counts = timed(http, url, params, runs=RUNS)
        median, p95 = stats(timings)
        results.append({"page": label, "median_ms": round(median * 1000, 1),
                        "p95_ms": round(p95 * 1000, 1), "queries": sorted(counts)})
        say(f"{label:36s} median {median * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
            f"queries {sorted(counts)}")
    floor = list_sql_floor(company.pk)
    worst = max(r["p95_ms"] for r in results)
    say(f"lower bound, the list's SQL alone: p95 {floor * 1000:.1f} ms; slowest page p95 "
        f"{worst:.1f} ms = {worst / (floor * 1000):.1f}x; target < {TARGET_MS} ms: "
        f"{'met' if worst < TARGET_MS else 'NOT met'}")
    if JSON:
        print(json.dumps({"invoices": total, "pages": results,
                          "sql_floor_p95_ms": round(floor * 1000, 1)}))


if __name__ == "__main__":
    main()
