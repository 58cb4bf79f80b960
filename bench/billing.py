"""Benchmark: one recurring billing run over 5,000 contracts on PostgreSQL.

Each contract has 3 fixed items and 1 metered item (graduated tiers); 100,000 usage records
fall in the first month. One run as of the second month's first day bills two periods per
contract (10,000 invoices: the first month in advance, the second with the first month's
usage in arrears). Printed: invoices per second, the run's query count (it grows with
batches, not with contracts), and the ratio of the run's time to a bare bulk INSERT of the
same invoice and line rows. It first times the billing run page's preview of the same run.

    DATABASE_URL=postgres://... python bench/billing.py [--contracts 5000] [--usage 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nestogy.settings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=5000)
    parser.add_argument("--usage", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=250)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("bench/billing.py: skipped (set DATABASE_URL=postgres://... to run)")
        return 0

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django_scopes import scope

    from nestogy.billing import recurring
    from nestogy.billing.models import Invoice, InvoiceLine
    from nestogy.clients.models import Client
    from nestogy.contracts.models import (
        Contract,
        ContractItem,
        ContractItemQuantity,
        UsageRecord,
    )
    from nestogy.core.ids import new_public_id
    from nestogy.ops.provisioning import provision_company

    call_command("migrate", verbosity=0)
    stamp = int(time.time())
    company = provision_company(name=f"Bench billing {stamp}",
                                owner_email=f"bench{stamp}@bench.test", timezone="UTC",
                                currency="USD").company
    n = args.contracts
    start = date(2025, 1, 1)
    pricing = {"mode": "graduated", "tiers": [
        {"up_to": "100", "unit_price": "0.10", "flat_fee": "5"},
        {"up_to": "1000", "unit_price": "0.05", "flat_fee": "0"},
        {"up_to": None, "unit_price": "0.02", "flat_fee": "0"}]}
    t0 = time.perf_counter()
    with scope(company=company.pk), transaction.atomic():
        clients = Client.objects.bulk_create(
            [Client(company=company, public_id=new_public_id("cli"), name=f"Client {i:05d}")
             for i in range(n)], batch_size=2000)
        contracts = Contract.objects.bulk_create(
            [Contract(company=company, public_id=new_public_id("ctr"), client=c,
                      name=f"MSA {i}", start_date=start, billing_cycle="monthly",
                      billing_anchor_day=1, currency="USD", tax_rate_percent=Decimal("8.25"))
             for i, c in enumerate(clients)], batch_size=2000)
        items = []
        for c in contracts:
            for pos, (desc, qty, price) in enumerate([("Seats", 12, "35.00"),
                                                      ("Firewall", 1, "89.00"),
                                                      ("Microsoft 365", 12, "12.50")]):
                items.append(ContractItem(company=company, public_id=new_public_id("cti"),
                                          contract=c, kind="fixed", description=desc,
                                          position=pos, quantity=Decimal(qty),
                                          unit_price=Decimal(price)))
            items.append(ContractItem(company=company, public_id=new_public_id("cti"),
                                      contract=c, kind="metered", description="Backup",
                                      position=3, metric="GB", quantity=Decimal(0),
                                      pricing=pricing))
        items = ContractItem.objects.bulk_create(items, batch_size=5000)
        ContractItemQuantity.objects.bulk_create(
            [ContractItemQuantity(company=company, public_id=new_public_id("ciq"), item=i,
                                  effective_from=start, quantity=i.quantity)
             for i in items if i.kind == "fixed"], batch_size=5000)
        metered = [i for i in items if i.kind == "metered"]
        base = datetime(2025, 1, 1, tzinfo=UTC)
        usage = [UsageRecord(company=company, public_id=new_public_id("use"),
                             item=metered[k % len(metered)],
                             quantity=Decimal(k % 97) + Decimal("0.5"),
                             occurred_at=base + timedelta(minutes=(k * 13) % (30 * 24 * 60)),
                             idempotency_key=f"bench-{k}")
                 for k in range(args.usage)]
        UsageRecord.objects.bulk_create(usage, batch_size=5000)
    print(f"setup: {n} contracts, {len(items)} items, {args.usage} usage records "
          f"in {time.perf_counter() - t0:.1f}s")

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    # The billing run page's preview (``billing.runs.preview``: the run computed, nothing
    # written, laid out per client with the change against the previous period).
    from nestogy.billing import runs

    with scope(company=company.pk), connection.execute_wrapper(count):
        t1 = time.perf_counter()
        shown = runs.preview(company, date(2025, 2, 1))
        preview_seconds = time.perf_counter() - t1
    print(f"preview (the billing run page): {shown.invoices} invoices of {shown.contracts} "
          f"contracts for {len(shown.clients)} clients in {preview_seconds:.2f}s, "
          f"{queries} queries")
    queries = 0

    with scope(company=company.pk), connection.execute_wrapper(count):
        t1 = time.perf_counter()
        result = recurring.run_recurring(company, date(2025, 2, 1), batch_size=args.batch_size)
        run_seconds = time.perf_counter() - t1
    invoices = len(result.invoices)
    print(f"run: {invoices} invoices in {run_seconds:.2f}s = {invoices / run_seconds:.0f} "
          f"invoices/s; {queries} queries in {result.batches} batches "
          f"({queries / max(result.batches, 1):.1f} per batch, "
          f"{queries / max(invoices, 1):.4f} per invoice)")

    # The same rows through a bare bulk INSERT (deleted first, rolled back after).
    with scope(company=company.pk):
        inv_rows = list(Invoice.objects.filter(company=company))
        line_rows = list(InvoiceLine.objects.filter(company=company))

        class Rollback(Exception):
            pass

        try:
            with transaction.atomic():
                InvoiceLine.objects.filter(company=company).delete()
                Invoice.objects.filter(company=company).delete()
                t2 = time.perf_counter()
                Invoice.objects.bulk_create(inv_rows, batch_size=500)
                InvoiceLine.objects.bulk_create(line_rows, batch_size=1000)
                insert_seconds = time.perf_counter() - t2
                raise Rollback
        except Rollback:
            pass
    print(f"bulk INSERT of the same {len(inv_rows)} invoices + {len(line_rows)} lines: "
          f"{insert_seconds:.2f}s; run / insert = {run_seconds / insert_seconds:.1f}x")
    target = 500
    verdict = "OK" if invoices / run_seconds >= target else "BELOW TARGET"
    print(f"target >= {target} invoices/s: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
