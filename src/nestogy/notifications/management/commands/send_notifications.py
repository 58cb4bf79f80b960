"""``nestogy send_notifications``: send due deliveries now (what the per-minute job does)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.db.models import Count
from django_scopes import scopes_disabled

from nestogy.notifications import sending
from nestogy.notifications.models import Delivery


class Command(BaseCommand):
    help = "Send every due queued notification delivery now, batch by batch; print a summary."

    def add_arguments(self, parser):
        parser.add_argument("--max-batches", type=int, default=100)
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, **options):
        totals: dict[str, int] = {}
        for number in range(1, options["max_batches"] + 1):
            batch = sending.claim()
            if not batch:
                break
            for status, n in sending.send_batch(batch).items():
                totals[status] = totals.get(status, 0) + n
            if not options["json"]:
                self.stdout.write(f"batch {number}: {len(batch)} deliveries")
        with scopes_disabled():
            waiting = dict(Delivery.objects.filter(status=Delivery.Status.QUEUED)
                           .values_list("channel").annotate(n=Count("id")))
        summary = {"sent": totals.get("sent", 0), "failed": totals.get("failed", 0),
                   "retry_later": totals.get("queued", 0),
                   "queued_total_by_channel": waiting}
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(f"Sent {summary['sent']}, failed {summary['failed']}, "
                              f"{summary['retry_later']} to retry later; still queued: "
                              + (", ".join(f"{c} {n}" for c, n in sorted(waiting.items()))
                                 or "none"))
