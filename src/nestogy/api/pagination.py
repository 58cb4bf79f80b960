"""Keyset (cursor) pagination: ``{"items": [...], "next_cursor": "..." | null}``.

The cursor encodes the sort key of the last row returned, so a page costs one indexed
query however deep the client pages, and rows inserted meanwhile do not shift pages.

A cursor comes back from the client, so it is attacker input. Before any value reaches a
query it is checked against the field it will be compared with (type, range of the column,
length, no NUL characters, aware datetimes, finite decimals within the column's digits) and
then passed through the model field's ``to_python``. Any mismatch (wrong arity, wrong types,
not base64, not JSON, longer than ``MAX_CURSOR_LENGTH``) answers the same 422 naming
``cursor``, never a database error.

Sort keys may be nullable (a ticket without a due time): NULL sorts after every value in
ascending order and before every value in descending order, on every database, and the
keyset condition treats it that way, so paging never skips or repeats such rows.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import F, Q, QuerySet

from nestogy.core.errors import ValidationError

# Longer than any cursor the server hands out (a 200-character name in \\u escapes).
MAX_CURSOR_LENGTH = 4096
_INVALID = "is not a cursor this list returned"


class _BadCursor(Exception):
    pass


@dataclass(frozen=True)
class _Key:
    name: str
    desc: bool
    field: models.Field
    nullable: bool

    def order(self):
        if not self.nullable:
            return f"-{self.name}" if self.desc else self.name
        # NULL last going up, first going down: NULL behaves as +infinity on every database.
        return F(self.name).desc(nulls_first=True) if self.desc else \
            F(self.name).asc(nulls_last=True)

    def after(self, value: Any) -> Q:
        """Rows strictly after ``value`` in this key's direction."""
        if value is None:
            return Q(**{f"{self.name}__isnull": False}) if self.desc else Q(pk__in=[])
        term = Q(**{f"{self.name}__{'lt' if self.desc else 'gt'}": value})
        if self.nullable and not self.desc:
            term |= Q(**{f"{self.name}__isnull": True})
        return term

    def equal(self, value: Any) -> Q:
        if value is None:
            return Q(**{f"{self.name}__isnull": True})
        return Q(**{self.name: value})


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


def _tagged(raw: Any, tag: str) -> str:
    if not isinstance(raw, dict) or set(raw) != {tag} or not isinstance(raw[tag], str) \
            or len(raw[tag]) > 64:
        raise _BadCursor
    return raw[tag]


def _clean(key: _Key, raw: Any) -> Any:
    """The value of ``key``'s field that ``raw`` (one decoded cursor value) stands for."""
    field = key.field
    if raw is None:
        if key.nullable:
            return None
        raise _BadCursor
    if isinstance(field, models.DateTimeField):
        value = datetime.fromisoformat(_tagged(raw, "dt"))
        if value.tzinfo is None or value.utcoffset() is None:
            raise _BadCursor
    elif isinstance(field, models.DateField):
        value = date.fromisoformat(_tagged(raw, "d"))
    elif isinstance(field, models.DecimalField):
        value = Decimal(_tagged(raw, "dec"))
        if not value.is_finite():
            raise _BadCursor
        digits, exponent = len(value.as_tuple().digits), value.as_tuple().exponent
        if -exponent > field.decimal_places or digits + max(exponent, 0) \
                - max(-exponent, 0) > field.max_digits - field.decimal_places:
            raise _BadCursor
    elif isinstance(field, models.BooleanField):
        if not isinstance(raw, bool):
            raise _BadCursor
        value = raw
    elif isinstance(field, models.IntegerField | models.AutoField):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise _BadCursor
        internal = field.get_internal_type()
        low, high = BaseDatabaseOperations.integer_field_ranges.get(
            internal, BaseDatabaseOperations.integer_field_ranges["BigIntegerField"])
        if not low <= raw <= high:
            raise _BadCursor
        value = raw
    elif isinstance(field, models.CharField | models.TextField):
        if not isinstance(raw, str) or "\x00" in raw:
            raise _BadCursor
        if field.max_length is not None and len(raw) > field.max_length:
            raise _BadCursor
        value = raw
    else:  # a sort key of a type this module does not know how to check
        raise _BadCursor
    try:
        return field.to_python(value)
    except DjangoValidationError:
        raise _BadCursor from None


def _decode(cursor: str, keys: list[_Key]) -> list[Any]:
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise _BadCursor
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(values, list) or len(values) != len(keys):
            raise _BadCursor
        return [_clean(key, raw) for key, raw in zip(keys, values, strict=True)]
    except (_BadCursor, ValueError, TypeError, OverflowError, InvalidOperation,
            binascii.Error, UnicodeError, RecursionError):
        raise ValidationError("cursor", _INVALID) from None


def check_limit(limit: int | None) -> int:
    maximum = getattr(settings, "NESTOGY_API_MAX_LIMIT", 200)
    if limit is None:
        return getattr(settings, "NINJA_PAGINATION_PER_PAGE", 50)
    if limit < 1 or limit > maximum:
        raise ValidationError("limit", f"must be between 1 and {maximum}")
    return limit


def _field(qs: QuerySet, name: str) -> models.Field:
    annotation = qs.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field
    model = qs.model
    parts = name.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    return model._meta.get_field(parts[-1])


def _keys(qs: QuerySet, order: tuple[str, ...]) -> list[_Key]:
    keys = []
    for item in order:
        name = item.lstrip("-")
        field = _field(qs, name)
        keys.append(_Key(name, item.startswith("-"), field,
                         bool(getattr(field, "null", False))))
    return keys


def paginate(qs: QuerySet, *, limit: int | None, cursor: str | None,
             order: tuple[str, ...] = ("-id",)) -> tuple[list[Any], str | None]:
    """Return one page of ``qs`` ordered by ``order`` (which must end with a unique field)."""
    limit = check_limit(limit)
    keys = _keys(qs, order)
    qs = qs.order_by(*(key.order() for key in keys))
    if cursor:
        values = _decode(cursor, keys)
        condition = Q()
        for i, key in enumerate(keys):
            term = key.after(values[i])
            for j in range(i):
                term &= keys[j].equal(values[j])
            condition |= term
        qs = qs.filter(condition)
    rows = list(qs[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([_attr(last, key.name) for key in keys])
    return rows, next_cursor


def _attr(obj: Any, dotted: str) -> Any:
    for part in dotted.split("__"):
        obj = getattr(obj, part)
    return obj
