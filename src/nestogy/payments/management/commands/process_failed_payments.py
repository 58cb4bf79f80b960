import json

from django.core.management.base import BaseCommand

from nestogy.payments.dunning import process_failed_payments, worker_name


class Command(BaseCommand):
    help = ("Retry failed automatic payments that are due (per the company's retry policy), "
            "reconcile charges that got no answer (same idempotency key), and start auto-pay "
            "for invoices never attempted. Safe to run in several processes at once.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="List what is due; charge nothing and change nothing")
        parser.add_argument("--json", action="store_true", help="Print a JSON summary")
        parser.add_argument("--limit", type=int, default=1000,
                            help="At most this many due attempts per company (default 1000)")

    def handle(self, *args, **options):
        quiet = options["json"] or options["verbosity"] < 1

        def progress(attempt):
            if not quiet:
                self.stdout.write(f"  {attempt.idempotency_key}: {attempt.status}"
                                  + (f" ({attempt.error_code})" if attempt.error_code else ""))

        report = process_failed_payments(dry_run=options["dry_run"],
                                         worker=f"cli:{worker_name()}",
                                         limit=options["limit"], progress=progress)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
            return
        if report.dry_run:
            self.stdout.write(f"Dry run: {len(report.due)} due, nothing charged.")
            for row in report.due:
                self.stdout.write(f"  {row['invoice']} attempt {row['attempt']}: "
                                  f"{row['action']} {row['amount']} (due {row['due_at']})")
            return
        self.stdout.write(self.style.SUCCESS(
            f"Charged {report.charged}: {report.succeeded} succeeded, {report.declined} "
            f"declined ({report.exhausted} exhausted → collections), {report.unknown} without "
            f"answer (reconciled later), {report.errors} errors; {report.auto_pay_started} "
            f"auto-pay started, {report.cancelled} no longer due, {report.skipped} taken by "
            "another worker."))
