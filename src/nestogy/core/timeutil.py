"""Time helpers: aware UTC in storage, local time only at the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils import timezone as dj_timezone

from nestogy.core.errors import ValidationError


def now() -> datetime:
    """The current moment, aware, UTC (patched in tests by time-machine)."""
    return dj_timezone.now()


def as_utc(value: datetime, field: str = "datetime") -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValidationError(field, "must include a UTC offset, e.g. 2025-03-03T09:00:00+00:00")
    return value.astimezone(UTC)


def validate_timezone(name: str, field: str = "timezone") -> str:
    if not name or name not in _zone_names():
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValidationError(field, f"unknown time zone {name!r}; use an IANA name "
                                         "such as Europe/Berlin") from None
    return name


_ZONES: frozenset[str] | None = None


def _zone_names() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def today_in(tz: str) -> date:
    return local_date(now(), tz)


def day_start(d: date, tz: str) -> datetime:
    """The aware UTC instant at which local date ``d`` begins in ``tz``."""
    return datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(tz)).astimezone(UTC)


__all__ = ["UTC", "as_utc", "day_start", "local_date", "now", "timedelta", "today_in",
           "validate_timezone"]
