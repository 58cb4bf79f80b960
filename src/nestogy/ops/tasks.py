"""Housekeeping tasks of the platform itself."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from nestogy.core.tasks import system_task

TASK_RESULT_RETENTION_DAYS = 14


@system_task(queue_name="default")
def prune_task_results() -> int:
    """Delete finished task results older than the retention period; return how many."""
    cutoff = timezone.now() - timedelta(days=TASK_RESULT_RETENTION_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted
