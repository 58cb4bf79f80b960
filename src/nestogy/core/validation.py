"""Input cleaning shared by the domain actions: each raises ``ValidationError`` naming the
field, so the API answers 422 with ``{"field": ..., "message": ...}``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from nestogy.core.errors import ValidationError
from nestogy.core.money import MoneyError, to_decimal


def clean_text(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    """Stripped text; ``None`` is empty; ``required`` refuses empty."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    value = value.strip()
    if required and not value:
        raise ValidationError(field, "must not be empty")
    if len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters")
    return value


def clean_date(value: Any, field: str) -> date | None:
    """A ``date`` from a date or ``YYYY-MM-DD``; ``None`` stays ``None``."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError(field, "must be a date YYYY-MM-DD")


def clean_decimal(value: Any, field: str, **kw: Any) -> Decimal:
    """A ``Decimal`` from a decimal string or number (never a float); see ``to_decimal``."""
    try:
        return to_decimal(value, field, **kw)
    except MoneyError as exc:
        raise ValidationError(exc.field, exc.message) from None
