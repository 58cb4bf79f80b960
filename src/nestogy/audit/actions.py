"""The audit trail: every business action writes exactly one entry through log_action."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from nestogy.audit.models import AuditEntry


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any]:
    if not data:
        return {}
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def log_action(obj: Any, action: str, *, actor: Any = None, data: dict[str, Any] | None = None,
               company: Any = None, actor_label: str = "") -> AuditEntry:
    """Record ``action`` (dotted, e.g. ``client.created``) on ``obj``.

    ``obj`` is a tenant-owned model instance (its company is used) or, with ``company`` given,
    any object with a ``public_id``. ``actor`` is the acting user or ``None`` for the system.
    """
    company_id = getattr(company, "pk", company) or obj.company_id
    label = actor_label or (getattr(actor, "email", "") if actor is not None else "system")
    return AuditEntry.objects.create(
        company_id=company_id,
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=label[:200],
        object_type=obj._meta.label_lower if hasattr(obj, "_meta") else type(obj).__name__,
        object_id=getattr(obj, "public_id", "") or str(getattr(obj, "pk", "")),
        object_repr=str(obj)[:200],
        data=_jsonable(data),
    )


def log_actions_bulk(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Insert many prepared entries in one batch (bulk operations audit each success)."""
    return AuditEntry.objects.bulk_create(entries, batch_size=500)


def build_entry(obj: Any, action: str, *, actor: Any = None,
                data: dict[str, Any] | None = None) -> AuditEntry:
    label = getattr(actor, "email", "") if actor is not None else "system"
    return AuditEntry(
        company_id=obj.company_id, action=action,
        actor=actor if getattr(actor, "pk", None) else None, actor_label=label[:200],
        object_type=obj._meta.label_lower, object_id=obj.public_id,
        object_repr=str(obj)[:200], data=_jsonable(data),
    )
