"""Scheduled service-desk work (thin: one call into the checker)."""

from __future__ import annotations

from nestogy.core.tasks import system_task
from nestogy.tickets.escalation import check_all


@system_task(queue_name="default")
def check_sla_breaches() -> dict:
    """Fire due SLA warnings, breaches and escalations in every company."""
    report = check_all()
    return {"checked": report.checked, "warnings": report.warnings,
            "breaches": report.breaches, "escalations": report.escalations}
