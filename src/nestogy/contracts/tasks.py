"""Daily contract job: renewal notices, auto-renewals with uplift and ended contracts, run as
one task per company on the company's local date."""

from __future__ import annotations

from nestogy.contracts.renewals import process_renewals
from nestogy.core.tasks import system_task, tenant_task
from nestogy.tenancy.models import Company
from nestogy.tenancy.queries import company_today
from nestogy.tenancy.tasks import for_each_company


@tenant_task(queue_name="billing")
def process_contract_renewals(company_id: int) -> dict[str, int]:
    """One company's renewals as of its local today."""
    company = Company.objects.get(pk=company_id)
    result = process_renewals(company, company_today(company))
    return {"notices": len(result.notices), "renewed": len(result.renewed),
            "ended": len(result.ended)}


@system_task(queue_name="default")
def process_contract_renewals_daily() -> dict[str, int]:
    """Daily: hand out one renewal task per active company."""
    return for_each_company(process_contract_renewals)
