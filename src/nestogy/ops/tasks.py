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


@system_task(queue_name="default")
def prune_throttle_hits() -> int:
    """Hourly: forget counted sign-in failures and reset requests older than a day."""
    from nestogy.core import throttle

    return throttle.prune()


class WorkerLost(Exception):
    """Recorded on a task whose worker died while running it, once it ran out of tries."""


@system_task(queue_name="default")
def reap_stale_tasks() -> dict[str, int]:
    """Re-queue tasks left RUNNING by a dead worker; fail those that already had their tries.

    django-tasks-db marks a task RUNNING when a worker claims it and appends the worker's id
    to ``worker_ids``; a worker that is killed (OOM, host lost) never finishes it. A task
    RUNNING for longer than ``NESTOGY_TASK_STALE_AFTER_SECONDS`` is taken as abandoned: it goes
    back to READY (another worker runs it again), unless it was already claimed
    ``NESTOGY_TASK_MAX_TRIES`` times, in which case it is marked FAILED with ``WorkerLost``.
    Rows are claimed with ``select_for_update(skip_locked=True)`` so two reapers never both
    act on one. Tasks must therefore be idempotent (ours claim their rows atomically).
    """
    from django.conf import settings
    from django.db import transaction
    from django_tasks_db.compat import TaskResultStatus

    now = timezone.now()
    stale_after = timedelta(seconds=settings.NESTOGY_TASK_STALE_AFTER_SECONDS)
    max_tries = settings.NESTOGY_TASK_MAX_TRIES
    requeued = failed = 0
    with transaction.atomic():
        stale = list(DBTaskResult.objects.running()
                     .filter(started_at__lt=now - stale_after)
                     .select_for_update(skip_locked=True)
                     .order_by("started_at")[:1000])
        for result in stale:
            if len(result.worker_ids or []) >= max_tries:
                result.status = TaskResultStatus.FAILED
                result.finished_at = now
                result.exception_class_path = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"
                result.traceback = (f"WorkerLost: still running after {stale_after} on worker "
                                    f"{result.worker_ids[-1]!r}; gave up after "
                                    f"{len(result.worker_ids)} tries")
                result.save(update_fields=["status", "finished_at", "exception_class_path",
                                           "traceback"])
                failed += 1
            else:
                result.status = TaskResultStatus.READY
                result.started_at = None
                result.save(update_fields=["status", "started_at"])
                requeued += 1
    return {"requeued": requeued, "failed": failed}
