"""Jobs: the schedule lists real tasks, the reaper recovers tasks of dead workers, and two
workers on PostgreSQL never run one task twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from django.db import connection
from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from nestogy.ops import schedule
from nestogy.ops.tasks import reap_stale_tasks

ROOT = Path(__file__).resolve().parents[2]


def test_every_schedule_entry_is_a_real_task_with_a_valid_cadence():
    assert schedule.ENTRIES, "the schedule is empty"
    for entry in schedule.ENTRIES:
        assert isinstance(entry.task, Task), entry
        resolved = import_string(entry.task.module_path)
        assert resolved is entry.task, f"{entry.task.module_path} does not resolve to the task"
        CronTrigger.from_crontab(entry.cron)  # raises on a bad expression
        assert entry.description
    names = [e.task.module_path for e in schedule.ENTRIES]
    assert len(names) == len(set(names)), "a task is scheduled twice"


def test_schedule_has_notification_retries_every_minute_and_the_reaper():
    by_path = {e.task.module_path: e.cron for e in schedule.ENTRIES}
    assert by_path["nestogy.notifications.tasks.send_due_deliveries"] == "* * * * *"
    assert "nestogy.ops.tasks.reap_stale_tasks" in by_path


def test_the_scheduler_registers_every_entry_with_crontask():
    from crontask import scheduler

    # Each job enqueues its task (the scheduler never runs work itself) on the entry's cron.
    jobs = {(job.func.__self__.module_path, str(job.trigger)) for job in scheduler.get_jobs()}
    for entry in schedule.ENTRIES:
        assert (entry.task.module_path, str(CronTrigger.from_crontab(entry.cron))) in jobs


def _result(status, *, started_ago=None, workers=(), path="tests.ops.worktasks.record_run"):
    now = timezone.now()
    return DBTaskResult.objects.create(
        status=status, args_kwargs={"args": ["/dev/null", 1], "kwargs": {}},
        task_path=path, backend_name="default", queue_name="default",
        run_after=now, worker_ids=list(workers),
        started_at=now - started_ago if started_ago is not None else None)


def test_reaper_requeues_abandoned_tasks_and_fails_exhausted_ones(db, settings):
    settings.NESTOGY_TASK_STALE_AFTER_SECONDS = 3600
    settings.NESTOGY_TASK_MAX_TRIES = 3
    abandoned = _result(TaskResultStatus.RUNNING, started_ago=timedelta(hours=2),
                        workers=["host-a"])
    exhausted = _result(TaskResultStatus.RUNNING, started_ago=timedelta(hours=2),
                        workers=["host-a", "host-b", "host-c"])
    busy = _result(TaskResultStatus.RUNNING, started_ago=timedelta(minutes=5),
                   workers=["host-a"])
    waiting = _result(TaskResultStatus.READY)
    assert reap_stale_tasks.call() == {"requeued": 1, "failed": 1}
    for row in (abandoned, exhausted, busy, waiting):
        row.refresh_from_db()
    assert (abandoned.status, abandoned.started_at) == (TaskResultStatus.READY, None)
    assert abandoned in DBTaskResult.objects.ready()  # a worker picks it up again
    assert exhausted.status == TaskResultStatus.FAILED
    assert exhausted.exception_class_path == "nestogy.ops.tasks.WorkerLost"
    assert "gave up after 3 tries" in exhausted.traceback
    assert busy.status == TaskResultStatus.RUNNING
    assert waiting.status == TaskResultStatus.READY
    assert reap_stale_tasks.call() == {"requeued": 0, "failed": 0}


def test_notification_retry_task_runs(db):
    from nestogy.notifications.tasks import send_due_deliveries

    assert send_due_deliveries.call() == {}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_run_each_task_exactly_once(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no concurrent "
                    "claiming to test (set DATABASE_URL=postgres://...)")
    from tests.ops.worktasks import record_run

    log = tmp_path / "runs.log"
    total = 60
    for n in range(total):
        record_run.enqueue(str(log), n)
    db = connection.settings_dict
    url = (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
           f"{db['PORT'] or 5432}/{db['NAME']}")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": url,
           "NESTOGY_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, "-m", "nestogy", "worker", "--batch",
                                 "--interval", "0.1"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
               for _ in range(2)]
    deadline = time.monotonic() + 120
    outputs = []
    for proc in workers:
        out, _ = proc.communicate(timeout=max(1, deadline - time.monotonic()))
        outputs.append(out.decode(errors="replace"))
        assert proc.returncode == 0, out
    lines = log.read_text().splitlines()
    runs = Counter(int(line.split()[0]) for line in lines)
    assert runs == Counter(range(total)), "every task ran exactly once"
    assert len({line.split()[1] for line in lines}) == 2, "both workers took part"
    results = DBTaskResult.objects.filter(task_path="tests.ops.worktasks.record_run")
    assert results.count() == total
    assert set(results.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}
    assert all(len(r.worker_ids) == 1 for r in results)
    assert len({r.worker_ids[0] for r in results}) == 2
