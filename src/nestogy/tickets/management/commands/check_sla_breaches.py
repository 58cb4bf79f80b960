"""nestogy check_sla_breaches [--dry-run] [--json]"""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand

from nestogy.tickets.escalation import check_all


class Command(BaseCommand):
    help = "Fire due SLA warnings, breaches and escalations (every company)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="report what would happen and change nothing")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, dry_run=False, json=False, **options):
        started = time.monotonic()
        progress = None if json else (lambda line: self.stdout.write("  " + line))
        report = check_all(dry_run=dry_run, progress=progress)
        if json:
            self.stdout.write(_dumps(report.as_dict()))
            return
        for f in report.findings:
            self.stdout.write(f"  #{f.number} {f.clock} level {f.level} ({f.percent}%): "
                              f"{f.event}" + (f" {f.actions}" if len(f.actions) > 1 else ""))
        prefix = "Would fire" if dry_run else "Fired"
        self.stdout.write(self.style.SUCCESS(
            f"{prefix}: {report.warnings} warnings, {report.breaches} breaches, "
            f"{report.escalations} escalations; {report.checked} tickets checked in "
            f"{time.monotonic() - started:.2f}s"))


def _dumps(data) -> str:
    return json.dumps(data, default=str, indent=2)
