"""The schedule: every periodic job of Nestogy, with its cadence, in one place.

Importing this module registers each entry with django-crontask's scheduler; ``nestogy
scheduler`` imports it and runs the scheduler, which only *enqueues* tasks: workers run
them. Cron expressions are in the server's time zone (UTC); jobs that depend on a company's
local date (billing, overdue marking) compute it per company themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crontask import cron

from nestogy.ops import tasks as ops_tasks


@dataclass(frozen=True)
class Entry:
    cron: str
    task: Any
    description: str


ENTRIES: list[Entry] = [
    Entry("15 3 * * *", ops_tasks.prune_task_results,
          "Housekeeping: delete finished task results older than 14 days"),
]

# --- notifications and jobs (appended block) ---
from nestogy.notifications import tasks as notification_tasks  # noqa: E402

ENTRIES += [
    Entry("* * * * *", notification_tasks.send_due_deliveries,
          "Notifications: send deliveries whose (re)try time has come"),
    Entry("*/5 * * * *", ops_tasks.reap_stale_tasks,
          "Jobs: re-queue or fail tasks left running by a dead worker"),
    Entry("45 3 * * *", notification_tasks.prune_delivery_log,
          "Notifications: delete delivery logs older than 90 days (inbox entries stay)"),
]

for _entry in ENTRIES:
    cron(_entry.cron, sentry_monitor_config=None)(_entry.task)

# Service desk: SLA warnings, breaches and escalations every 15 minutes.
from nestogy.tickets import tasks as ticket_tasks  # noqa: E402

ENTRIES.append(Entry("*/15 * * * *", ticket_tasks.check_sla_breaches,
                     "SLA warnings, breaches and escalations (check_sla_breaches)"))
cron(ENTRIES[-1].cron, sentry_monitor_config=None)(ENTRIES[-1].task)
