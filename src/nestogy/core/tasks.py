"""Task helpers on Django's task framework (``django.tasks``, django-tasks-db backend).

House rules for tasks:
- a task takes ids, never model instances, and looks its rows up itself;
- a tenant task takes ``company_id`` first and runs inside that company's scope
  (:func:`tenant_task` enters it);
- tasks are enqueued only after the surrounding transaction commits
  (:func:`enqueue_on_commit`), so a rolled-back change never triggers work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.tasks import task
from django_scopes import scope, scopes_disabled


def tenant_task(*, queue_name: str = "default", priority: int = 0) -> Callable:
    """Declare a task whose first argument is ``company_id``; it runs in that scope."""

    def decorator(func: Callable) -> Any:
        @functools.wraps(func)
        def wrapper(company_id: int, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(company_id, int) or company_id <= 0:
                raise ValueError(f"tenant tasks take a company id first, got {company_id!r}")
            with scope(company=company_id):
                return func(company_id, *args, **kwargs)

        return task(queue_name=queue_name, priority=priority)(wrapper)

    return decorator


def system_task(*, queue_name: str = "default", priority: int = 0) -> Callable:
    """Declare a task that works across companies (schedulers, housekeeping).

    It starts with scopes disabled and must enter each company's scope itself before touching
    that company's rows. Periodic per-company work instead hands out one tenant task per
    company with :func:`nestogy.tenancy.tasks.for_each_company`.
    """

    def decorator(func: Callable) -> Any:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with scopes_disabled():
                return func(*args, **kwargs)

        return task(queue_name=queue_name, priority=priority)(wrapper)

    return decorator


def enqueue_on_commit(task_obj: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue ``task_obj`` once the current transaction commits (at once if none is open)."""
    transaction.on_commit(functools.partial(task_obj.enqueue, *args, **kwargs), robust=False)
