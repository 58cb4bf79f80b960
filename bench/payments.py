"""Benchmark: one company's dunning run (``run_dunning``) over N due retries.

Creates a company with N clients, each with an auto-pay card on file at the local Stripe
stand-in and an issued invoice (issuing starts auto-pay: the attempt is created by the
``invoice.issued`` reaction and sent here) whose first automatic charge was declined and whose
retry is due; then times one run for that company (every retry succeeds), which is what the
hourly task hands to a worker per company. Printed: retries per second, queries per retry.
Everything goes through the official ``stripe`` client over HTTP to 127.0.0.1.

    DATABASE_URL=postgres://... python bench/payments.py [--due 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nestogy.settings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=300)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("bench/payments.py: skipped (set DATABASE_URL=postgres://... to run)")
        return 0

    import django

    django.setup()
    import logging

    logging.getLogger("stripe").setLevel(logging.WARNING)
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from django_scopes import scope

    from nestogy.billing.actions import create_invoice, issue_invoice
    from nestogy.clients.actions import create_client
    from nestogy.ops.provisioning import provision_company
    from nestogy.payments import charging, dunning, gateways, methods
    from nestogy.payments.models import PaymentAttempt
    from tests.payments.stripe_standin import StripeStandIn

    call_command("migrate", verbosity=0)
    standin = StripeStandIn().start()
    gateways.configure("stripe", **standin.client_options(), timeout=10)
    stamp = int(time.time())
    company = provision_company(name=f"Bench payments {stamp}",
                                owner_email=f"bench{stamp}@bench.test", timezone="UTC",
                                currency="USD").company
    with scope(company=company.pk):
        standin.decline_next(args.due)
        for i in range(args.due):
            client = create_client(company, {"name": f"Client {i:05d}"})
            methods.add_payment_method(client, {"payment_method_reference": standin.add_card(),
                                                "auto_pay": True})
            invoice = issue_invoice(create_invoice(company, client, {
                "items": [{"description": "Services", "unit_price": "100"}]}))
            charging.run_attempt(PaymentAttempt.objects.get(invoice=invoice).pk)
        PaymentAttempt.objects.filter(next_retry_at__isnull=False).update(
            next_retry_at=timezone.now() - timedelta(minutes=1))
    started = time.perf_counter()
    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        report = dunning.run_dunning(company)
    elapsed = time.perf_counter() - started
    standin.stop()
    if report.succeeded != args.due:
        print(f"bench/payments.py: {report.succeeded} of {args.due} retries succeeded")
        return 1
    print(f"{report.succeeded} retries succeeded in {elapsed:.2f} s "
          f"({report.succeeded / elapsed:.0f} retries/s); "
          f"{count[0] / max(report.charged, 1):.1f} queries per retry; "
          f"charges at the gateway: {len(standin.succeeded_charges())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
