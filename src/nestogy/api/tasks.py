"""Housekeeping of the HTTP API."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from nestogy.api.models import IdempotencyRecord
from nestogy.core.tasks import system_task

IDEMPOTENCY_RETENTION = timedelta(hours=24)


@system_task(queue_name="default")
def prune_idempotency_records() -> int:
    """Daily: forget ``Idempotency-Key`` responses older than 24 hours."""
    cutoff = timezone.now() - IDEMPOTENCY_RETENTION
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
