"""Template filters that work on live objects and on their JSON form alike.

Notification contexts are stored as JSON in the outbox, so a date arrives in a template as
``"2025-03-01"`` rather than a ``date``; Django's ``date`` filter renders a string as empty.
``day`` renders both the same way.
"""

from __future__ import annotations

from datetime import date, datetime

from django import template

register = template.Library()


@register.filter
def day(value) -> str:
    """``YYYY-MM-DD`` for a date, a datetime or an ISO 8601 string; empty for nothing."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    text = str(value)
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return text
