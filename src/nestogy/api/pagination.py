"""Keyset (cursor) pagination: ``{"items": [...], "next_cursor": "..." | null}``.

The cursor encodes the sort key of the last row returned, so a page costs one indexed
query however deep the client pages, and rows inserted meanwhile do not shift pages.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from nestogy.core.errors import ValidationError


def _encode(values: list[Any]) -> str:
    def norm(v: Any) -> Any:
        if isinstance(v, datetime):
            return {"dt": v.isoformat()}
        if isinstance(v, date):
            return {"d": v.isoformat()}
        if isinstance(v, Decimal):
            return {"dec": str(v)}
        return v
    raw = json.dumps([norm(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, n: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != n:
            raise ValueError
        out = []
        for v in values:
            if isinstance(v, dict):
                if "dt" in v:
                    v = datetime.fromisoformat(v["dt"])
                elif "d" in v:
                    v = date.fromisoformat(v["d"])
                elif "dec" in v:
                    v = Decimal(v["dec"])
                else:
                    raise ValueError
            out.append(v)
        return out
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationError("cursor", "is not a cursor this list returned") from None


def check_limit(limit: int | None) -> int:
    maximum = getattr(settings, "NESTOGY_API_MAX_LIMIT", 200)
    if limit is None:
        return getattr(settings, "NINJA_PAGINATION_PER_PAGE", 50)
    if limit < 1 or limit > maximum:
        raise ValidationError("limit", f"must be between 1 and {maximum}")
    return limit


def paginate(qs: QuerySet, *, limit: int | None, cursor: str | None,
             order: tuple[str, ...] = ("-id",)) -> tuple[list[Any], str | None]:
    """Return one page of ``qs`` ordered by ``order`` (which must end with a unique field)."""
    limit = check_limit(limit)
    fields = [(f.lstrip("-"), f.startswith("-")) for f in order]
    qs = qs.order_by(*order)
    if cursor:
        values = _decode(cursor, len(fields))
        condition = Q()
        for i, (name, desc) in enumerate(fields):
            term = Q(**{f"{name}__{'lt' if desc else 'gt'}": values[i]})
            for j in range(i):
                term &= Q(**{fields[j][0]: values[j]})
            condition |= term
        qs = qs.filter(condition)
    rows = list(qs[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([_attr(last, name) for name, _ in fields])
    return rows, next_cursor


def _attr(obj: Any, dotted: str) -> Any:
    for part in dotted.split("__"):
        obj = getattr(obj, part)
    return obj
