"""Tasks of the notifications app (thin: ids in, one call)."""

from __future__ import annotations

from nestogy.core.tasks import system_task, tenant_task
from nestogy.notifications import sending


@tenant_task(queue_name="notifications")
def send_event_deliveries(company_id: int, event_id: int) -> dict[str, int]:
    """Send one event's deliveries right after the emitting transaction committed."""
    return sending.send_due(company_id=company_id, event_id=event_id)


@system_task(queue_name="notifications")
def send_due_deliveries() -> dict[str, int]:
    """Every minute: send deliveries whose retry time has come (any company)."""
    return sending.send_due()
