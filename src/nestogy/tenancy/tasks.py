"""Periodic work per company: one task per active company, so a slow company never delays the
others and a failed company is retried on its own."""

from __future__ import annotations

from typing import Any

from django_scopes import scopes_disabled

from nestogy.tenancy.models import Company


def active_company_ids() -> list[int]:
    with scopes_disabled():
        return list(Company.objects.filter(is_active=True).order_by("id")
                    .values_list("id", flat=True))


def for_each_company(task_obj: Any, *args: Any, **kwargs: Any) -> dict[str, int]:
    """Enqueue ``task_obj(company_id, *args, **kwargs)`` once per active company.

    ``task_obj`` is a :func:`nestogy.core.tasks.tenant_task`; workers run the enqueued tasks
    in parallel, each inside its company's scope. Returns ``{"companies": n}`` so the
    scheduler's task result says how much work it handed out.
    """
    ids = active_company_ids()
    for company_id in ids:
        task_obj.enqueue(company_id, *args, **kwargs)
    return {"companies": len(ids)}
