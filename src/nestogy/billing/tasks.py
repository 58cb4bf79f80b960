"""Daily billing jobs: each hands out one task per active company (``for_each_company``), and
each company's task works on that company's **local** date (billing dates are local dates)."""

from __future__ import annotations

from nestogy.billing import actions, recurring
from nestogy.core.tasks import system_task, tenant_task
from nestogy.tenancy.models import Company
from nestogy.tenancy.queries import company_today
from nestogy.tenancy.tasks import for_each_company


@tenant_task(queue_name="billing")
def generate_recurring_invoices(company_id: int) -> int:
    """One company's recurring invoices due by its local today; returns how many were made."""
    company = Company.objects.get(pk=company_id)
    return len(recurring.run_recurring(company, company_today(company)).invoices)


@tenant_task(queue_name="billing")
def mark_overdue_invoices(company_id: int) -> int:
    """One company's invoices past due (by its local date) marked overdue."""
    return len(actions.mark_overdue(Company.objects.get(pk=company_id)))


@system_task(queue_name="default")
def generate_recurring_invoices_daily() -> dict[str, int]:
    return for_each_company(generate_recurring_invoices)


@system_task(queue_name="default")
def mark_overdue_invoices_daily() -> dict[str, int]:
    return for_each_company(mark_overdue_invoices)



@tenant_task(queue_name="billing")
def execute_billing_run(company_id: int, run_id: int) -> dict:
    """A run started from the workspace (``billing.runs``)."""
    from nestogy.billing import runs

    run = runs.execute_run(run_id)
    return {"run": run.public_id, "invoices": len(run.invoice_ids), "totals": run.totals}
