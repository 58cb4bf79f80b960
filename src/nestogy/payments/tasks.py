"""Tasks of payments: thin wrappers (ids in, one function called).

The hourly :func:`process_failed_payments_task` hands out one
:func:`process_failed_payments_for_company` per active company (``for_each_company``), so a
slow gateway answer for one company never delays the others, and processes webhook events
whose task was lost or failed.
"""

from __future__ import annotations

from nestogy.core.tasks import system_task, tenant_task
from nestogy.payments.charging import run_attempt
from nestogy.payments.dunning import run_dunning, worker_name
from nestogy.payments.webhooks import process_event, reprocess_stale
from nestogy.tenancy.models import Company
from nestogy.tenancy.tasks import for_each_company


@tenant_task(queue_name="billing")
def run_payment_attempt(company_id: int, attempt_id: int) -> str:
    """Send one charge attempt to the gateway and record the outcome."""
    return run_attempt(attempt_id).status


@system_task(queue_name="billing")
def process_webhook_event(event_id: int) -> str:
    """Apply one stored gateway webhook (the company is found from its payload)."""
    return process_event(event_id)


@tenant_task(queue_name="billing")
def process_failed_payments_for_company(company_id: int) -> dict:
    """One company's dunning run: retry due failed charges, reconcile unanswered ones, start
    the auto-pay backlog. Returns the report's counts."""
    report = run_dunning(Company.objects.get(pk=company_id), worker=f"task:{worker_name()}")
    return {k: v for k, v in report.as_dict().items() if k != "due"}


@system_task(queue_name="billing")
def process_failed_payments_task() -> dict:
    """Hourly: one dunning task per active company, and the webhook events whose task was
    lost or failed processed again."""
    summary = for_each_company(process_failed_payments_for_company)
    summary["webhooks_reprocessed"] = reprocess_stale()
    return summary
