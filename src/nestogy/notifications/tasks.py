"""Tasks of the notifications app (thin: ids in, one call)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from nestogy.core.tasks import system_task, tenant_task
from nestogy.notifications import sending


@tenant_task(queue_name="notifications")
def send_event_deliveries(company_id: int, event_id: int | None = None) -> dict[str, int]:
    """Send one event's deliveries (or all the company's due ones, for a batch of events)
    right after the emitting transaction committed."""
    return sending.send_due(company_id=company_id, event_id=event_id)


@system_task(queue_name="notifications")
def send_due_deliveries() -> dict[str, int]:
    """Every minute: send deliveries whose retry time has come (any company)."""
    return sending.send_due()


@system_task(queue_name="default")
def prune_delivery_log() -> int:
    """Daily: delete events older than the retention period whose deliveries are all done.

    Their deliveries and attempts go with them; in-app inbox entries stay (their link to the
    delivery is cleared). Returns how many events were deleted.
    """
    from nestogy.notifications.models import Delivery, StoredEvent

    days = int(getattr(settings, "NESTOGY_NOTIFY_LOG_RETENTION_DAYS", 90))
    cutoff = timezone.now() - timedelta(days=days)
    pending = Delivery.objects.filter(status=Delivery.Status.QUEUED).values("event_id")
    old = StoredEvent.objects.filter(occurred_at__lt=cutoff).exclude(pk__in=pending)
    deleted = 0
    while ids := list(old.values_list("pk", flat=True)[:1000]):
        StoredEvent.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    return deleted
