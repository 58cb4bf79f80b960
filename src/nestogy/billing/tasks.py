"""Daily billing jobs. Thin: per company, enter its scope and call one function.

Each job works on the company's **local** date (billing dates are local dates).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_scopes import scope

from nestogy.billing import actions, recurring
from nestogy.billing.models import IdempotencyRecord
from nestogy.contracts.renewals import process_renewals
from nestogy.core.tasks import system_task
from nestogy.tenancy.models import Company

IDEMPOTENCY_RETENTION = timedelta(hours=24)


def _companies():
    return Company.objects.filter(is_active=True).order_by("id")


@system_task(queue_name="default")
def generate_recurring_invoices_daily() -> dict:
    created = {}
    for company in _companies():
        with scope(company=company.pk):
            result = recurring.run_recurring(company, actions.company_today(company))
            created[company.slug] = len(result.invoices)
    return created


@system_task(queue_name="default")
def process_contract_renewals_daily() -> dict:
    out = {}
    for company in _companies():
        with scope(company=company.pk):
            result = process_renewals(company, actions.company_today(company))
            out[company.slug] = {"notices": len(result.notices), "renewed": len(result.renewed),
                                 "ended": len(result.ended)}
    return out


@system_task(queue_name="default")
def mark_overdue_invoices_daily() -> dict:
    out = {}
    for company in _companies():
        with scope(company=company.pk):
            out[company.slug] = len(actions.mark_overdue(company))
    return out


@system_task(queue_name="default")
def prune_idempotency_records() -> int:
    cutoff = timezone.now() - IDEMPOTENCY_RETENTION
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
