"""Input cleaning shared by the domain actions: each raises ``ValidationError`` naming the
field, so the API answers 422 with ``{"field": ..., "message": ...}``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from nestogy.core.errors import ValidationError
from nestogy.core.money import MoneyError, quantize_money, to_decimal
from nestogy.core.timeutil import as_utc

#: How far ahead of the server clock a "when did it happen" timestamp may be (clock skew).
FUTURE_SKEW = timedelta(minutes=5)


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


def clean_bool(value: Any, field: str) -> bool:
    """``True`` or ``False`` exactly (no truthy strings or numbers)."""
    if not isinstance(value, bool):
        raise ValidationError(field, "must be true or false")
    return value


def clean_int(value: Any, field: str, lo: int, hi: int) -> int:
    """A whole number between ``lo`` and ``hi`` inclusive (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationError(field, f"must be a whole number between {lo} and {hi}")
    return value


def clean_percent(value: Any, field: str) -> Decimal:
    """A percentage 0-100 with at most four decimals (tax rates, uplifts, discounts)."""
    result = clean_decimal(value, field, allow_negative=False, max_places=4)
    if result > 100:
        raise ValidationError(field, "must be between 0 and 100")
    return result


def clean_amount(value: Any, currency: str, field: str = "amount") -> Decimal:
    """A positive amount of money with no more decimals than ``currency`` allows."""
    amount = clean_decimal(value, field, allow_negative=False)
    if quantize_money(amount, currency) != amount:
        raise ValidationError(field, f"has more decimals than {currency} allows")
    if amount <= 0:
        raise ValidationError(field, "must be greater than zero")
    if amount >= Decimal("1e10"):
        raise ValidationError(field, "is too large")
    return amount


def clean_moment(value: Any, field: str, *, default_now: bool = False,
                 not_future: bool = False) -> datetime:
    """An aware UTC ``datetime`` from a datetime or ISO 8601 text with an offset.

    ``default_now`` turns ``None`` into the current time; ``not_future`` refuses a moment more
    than :data:`FUTURE_SKEW` ahead of the server clock (a payment received tomorrow).
    """
    if value is None and default_now:
        return timezone.now()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(field, "must be an ISO 8601 timestamp with offset") from None
    if not isinstance(value, datetime):
        raise ValidationError(field, "must be an ISO 8601 timestamp with offset")
    moment = as_utc(value, field)
    if not_future and moment > timezone.now() + FUTURE_SKEW:
        raise ValidationError(field, "must not be in the future")
    return moment


def clean_email(value: Any, field: str = "email") -> str:
    """A required e-mail address, stripped and lower-cased (Django's ``validate_email``)."""
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import validate_email

    email = (value or "").strip().lower() if isinstance(value, str) else ""
    if not email:
        raise ValidationError(field, "is required")
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationError(field, "is not a valid email address") from None
    return email
