"""Durations as people type them: ``1h 30m``, ``90m``, ``1.5h``, ``1:30``, ``90``.

A bare number is minutes (``90`` = 1 h 30 min); ``h:mm`` is hours and minutes. Decimal
hours are exact (``1.5h`` = 5,400 s; fractions of a second are rounded to the nearest
second). The result is whole seconds between 1 s and 24 h.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from nestogy.core.errors import ValidationError
from nestogy.timesheets.models import MAX_DURATION

UNITS = {"h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
         "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
         "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1}
_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-z]+)")
_CLOCK = re.compile(r"(\d{1,2}):([0-5]\d)(?::([0-5]\d))?")
HINT = "write it like 1h 30m, 90m, 1.5h or 1:30"


def parse_duration(text: object, field: str = "duration") -> int:
    """Whole seconds from ``text``; ``ValidationError`` naming ``field`` otherwise."""
    if not isinstance(text, str):
        raise ValidationError(field, f"must be a duration; {HINT}")
    value = str(text).strip().lower()
    if not value:
        raise ValidationError(field, f"is required; {HINT}")
    seconds = _parse(value, field)
    seconds = int(seconds.to_integral_value(rounding=ROUND_HALF_UP))
    if seconds <= 0:
        raise ValidationError(field, "must be longer than zero")
    if seconds > MAX_DURATION:
        raise ValidationError(field, "must be at most 24 hours (split longer work into "
                                     "one entry per day)")
    return seconds


def _parse(value: str, field: str) -> Decimal:
    if clock := _CLOCK.fullmatch(value):
        hours, minutes, secs = clock.groups()
        return Decimal(int(hours) * 3600 + int(minutes) * 60 + int(secs or 0))
    if re.fullmatch(r"\d+(?:[.,]\d+)?", value):
        return _number(value, field) * 60  # a bare number is minutes
    total = Decimal(0)
    position = 0
    seen: set[int] = set()
    for match in _PART.finditer(value):
        if value[position:match.start()].strip():
            break
        unit = UNITS.get(match.group(2))
        if unit is None or unit in seen:
            raise ValidationError(field, f"is not a duration; {HINT}")
        seen.add(unit)
        total += _number(match.group(1), field) * unit
        position = match.end()
    if not seen or value[position:].strip():
        raise ValidationError(field, f"is not a duration; {HINT}")
    return total


def _number(text: str, field: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValidationError(field, f"is not a duration; {HINT}") from None


def format_duration(seconds: int | None) -> str:
    """``1h 30m``, ``45m``, ``30s``: how entries show a worked duration (and the form's input
    accepts it back)."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours and minutes:
        return f"{hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h"
    if minutes:
        return f"{minutes}m" if not secs or minutes >= 10 else f"{minutes}m {secs:02d}s"
    return f"{secs}s"
