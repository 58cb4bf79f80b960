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
    Entry("35 * * * *", ops_tasks.prune_throttle_hits,
          "Housekeeping: forget sign-in failures and reset requests older than a day"),
]

for _entry in ENTRIES:
    cron(_entry.cron, sentry_monitor_config=None)(_entry.task)

# Service desk: SLA warnings, breaches and escalations every 15 minutes.
from nestogy.tickets import tasks as ticket_tasks  # noqa: E402

ENTRIES.append(Entry("*/15 * * * *", ticket_tasks.check_sla_breaches,
                     "SLA warnings, breaches and escalations (check_sla_breaches)"))
cron(ENTRIES[-1].cron, sentry_monitor_config=None)(ENTRIES[-1].task)
# Billing (contracts, renewals, recurring invoices, overdue marking): daily, in this order.
from nestogy.billing import tasks as billing_tasks  # noqa: E402

_BILLING_ENTRIES = [
    Entry("15 0 * * *", billing_tasks.process_contract_renewals_daily,
          "Billing: renewal notices, auto-renewals with uplift, ended contracts"),
    Entry("30 0 * * *", billing_tasks.generate_recurring_invoices_daily,
          "Billing: recurring invoices for every due contract period (catches up)"),
    Entry("45 0 * * *", billing_tasks.mark_overdue_invoices_daily,
          "Billing: mark invoices past due as overdue and notify once"),
    Entry("20 3 * * *", billing_tasks.prune_idempotency_records,
          "Housekeeping: forget Idempotency-Key responses older than 24 hours"),
]
ENTRIES.extend(_BILLING_ENTRIES)
for _entry in _BILLING_ENTRIES:
    cron(_entry.cron, sentry_monitor_config=None)(_entry.task)

# Payments step: dunning (retry due failed charges, reconcile unanswered ones) every hour.
from nestogy.payments import tasks as payments_tasks  # noqa: E402

_PAYMENTS_ENTRIES = [
    Entry("7 * * * *", payments_tasks.process_failed_payments_task,
          "Payments: retry failed automatic payments, reconcile timeouts, start auto-pay"),
]
ENTRIES.extend(_PAYMENTS_ENTRIES)
for _entry in _PAYMENTS_ENTRIES:
    cron(_entry.cron, sentry_monitor_config=None)(_entry.task)
