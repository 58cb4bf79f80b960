"""The workspace's background work: keeping the dashboards' figures fresh
(``workspace.snapshots``)."""

from __future__ import annotations

from nestogy.core.tasks import system_task, tenant_task
from nestogy.tenancy.models import Company
from nestogy.workspace import dashboards, snapshots


@system_task(queue_name="default")
def refresh_dashboards() -> dict[str, int]:
    """Hand out one refresh per company whose watched dashboard pages are due."""
    due = snapshots.due()
    for company_id in due:
        refresh_company_dashboards.enqueue(company_id)
    return {"companies": len(due), "pages": sum(len(keys) for keys in due.values())}


@tenant_task(queue_name="default")
def refresh_company_dashboards(company_id: int) -> dict[str, list[str]]:
    """Recompute the company's watched pages that are still due (a second run of the same
    task finds them fresh and does nothing)."""
    company = Company.objects.get(pk=company_id)
    done = []
    for key in snapshots.keys_due(company):
        dashboards.figures(company, key, fresh=True, viewed=False)
        done.append(key)
    return {"refreshed": done}
