"""Scheduled service-desk work: every minute, one SLA check per active company."""

from __future__ import annotations

from nestogy.core.tasks import system_task, tenant_task
from nestogy.tenancy.tasks import for_each_company


@tenant_task(queue_name="default")
def check_sla(company_id: int) -> dict:
    """Fire one company's due SLA warnings, breaches and escalations."""
    from nestogy.tenancy.models import Company
    from nestogy.tickets.escalation import check_company

    report = check_company(Company.objects.get(pk=company_id))
    return {"checked": report.checked, "warnings": report.warnings,
            "breaches": report.breaches, "escalations": report.escalations}


@system_task(queue_name="default")
def check_sla_breaches() -> dict:
    """Hand out one ``check_sla`` task per active company (scheduled every minute)."""
    return for_each_company(check_sla)
