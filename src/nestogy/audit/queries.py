"""Reads of the audit trail. The active company scope filters every query."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Max, Q, QuerySet

from nestogy.audit.models import AuditEntry


def entries_about(objects: Iterable) -> QuerySet[AuditEntry]:
    """The entries written about these objects (model instances with a public id), oldest
    first: an invoice's history together with its payments', say."""
    condition = Q(pk__in=[])
    by_type: dict[str, list[str]] = {}
    for obj in objects:
        by_type.setdefault(obj._meta.label_lower, []).append(obj.public_id)
    for object_type, ids in by_type.items():
        condition |= Q(object_type=object_type, object_id__in=ids)
    return AuditEntry.objects.filter(condition).select_related("actor").order_by(
        "created_at", "id")


def last_done(action: str, model, object_ids: list[str]) -> dict[str, object]:
    """When ``action`` was last recorded on each of these ``model`` objects (public id →
    time; one query)."""
    return {row["object_id"]: row["at"] for row in (
        AuditEntry.objects.filter(action=action, object_type=model._meta.label_lower,
                                  object_id__in=object_ids)
        .values("object_id").annotate(at=Max("created_at")).order_by())}
