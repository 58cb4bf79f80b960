"""Tasks of payments: thin wrappers (ids in, one action called)."""

from __future__ import annotations

from nestogy.core.tasks import system_task, tenant_task


@tenant_task(queue_name="billing")
def run_payment_attempt(company_id: int, attempt_id: int) -> str:
    """Send one charge attempt to the gateway and record the outcome."""
    from nestogy.payments.actions import run_attempt

    return run_attempt(attempt_id).status


@system_task(queue_name="billing")
def process_webhook_event(event_id: int) -> str:
    """Apply one stored gateway webhook (the company is found from its payload)."""
    from nestogy.payments.webhooks import process_event

    return process_event(event_id)


@system_task(queue_name="billing")
def process_failed_payments_task() -> dict:
    """Hourly: retry due failed charges, reconcile unanswered ones, start auto-pay backlog,
    and process webhook events whose task was lost or failed."""
    from nestogy.payments.actions import process_failed_payments, worker_name
    from nestogy.payments.webhooks import reprocess_stale

    report = process_failed_payments(worker=f"task:{worker_name()}")
    summary = {k: v for k, v in report.as_dict().items() if k != "due"}
    summary["webhooks_reprocessed"] = reprocess_stale()
    return summary
