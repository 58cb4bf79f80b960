"""A task for the multi-worker test: it records each run in a file (one line per run)."""

from __future__ import annotations

import os
import time

from django.tasks import task


@task(queue_name="default")
def record_run(path: str, n: int) -> int:
    time.sleep(0.05)
    with open(path, "a") as fh:
        fh.write(f"{n} {os.getpid()}\n")
    return n
