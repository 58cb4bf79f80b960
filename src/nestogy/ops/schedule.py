"""The schedule: every periodic job of Nestogy, with its cadence, in one place.

Importing this module registers each entry with django-crontask's scheduler; ``nestogy
scheduler`` imports it and runs the scheduler, which only *enqueues* tasks: workers run
them. Cron expressions are in the server's time zone (UTC). Jobs that work per company hand
out one task per active company (``nestogy.tenancy.tasks.for_each_company``), and each
company's task computes the company's local date itself (billing, renewals, overdue).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crontask import cron

from nestogy.api import tasks as api_tasks
from nestogy.billing import tasks as billing_tasks
from nestogy.contracts import tasks as contract_tasks
from nestogy.notifications import tasks as notification_tasks
from nestogy.ops import tasks as ops_tasks
from nestogy.payments import tasks as payments_tasks
from nestogy.tickets import tasks as ticket_tasks
from nestogy.workspace import tasks as workspace_tasks


@dataclass(frozen=True)
class Entry:
    cron: str
    task: Any
    description: str


ENTRIES: list[Entry] = [
    # Service desk
    Entry("* * * * *", ticket_tasks.check_sla_breaches,
          "SLA warnings, breaches and escalations, one check_sla task per company"),
    # Notifications
    Entry("* * * * *", notification_tasks.send_due_deliveries,
          "Notifications: send deliveries whose (re)try time has come"),
    # Contracts and billing: daily, in this order, per company on its local date
    Entry("15 0 * * *", contract_tasks.process_contract_renewals_daily,
          "Contracts: renewal notices, auto-renewals with uplift, ended contracts"),
    Entry("30 0 * * *", billing_tasks.generate_recurring_invoices_daily,
          "Billing: recurring invoices for every due contract period (catches up)"),
    Entry("45 0 * * *", billing_tasks.mark_overdue_invoices_daily,
          "Billing: mark invoices past due as overdue and notify once"),
    # Payments
    Entry("7 * * * *", payments_tasks.process_failed_payments_task,
          "Payments: retry failed automatic payments, reconcile timeouts, start auto-pay"),
    # Dashboards
    Entry("*/5 * * * *", workspace_tasks.refresh_dashboards,
          "Dashboards: recompute the figures of pages opened in the last day"),
    # Jobs and housekeeping
    Entry("*/5 * * * *", ops_tasks.reap_stale_tasks,
          "Jobs: re-queue or fail tasks left running by a dead worker"),
    Entry("15 3 * * *", ops_tasks.prune_task_results,
          "Housekeeping: delete finished task results older than 14 days"),
    Entry("20 3 * * *", api_tasks.prune_idempotency_records,
          "Housekeeping: forget Idempotency-Key responses older than 24 hours"),
    Entry("35 * * * *", ops_tasks.prune_throttle_hits,
          "Housekeeping: forget sign-in failures and reset requests older than a day"),
    Entry("45 3 * * *", notification_tasks.prune_delivery_log,
          "Notifications: delete delivery logs older than 90 days (inbox entries stay)"),
]

for _entry in ENTRIES:
    cron(_entry.cron, sentry_monitor_config=None)(_entry.task)
