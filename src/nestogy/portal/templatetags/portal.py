"""Small display helpers for portal templates: money with its currency, status pills."""

from __future__ import annotations

from decimal import Decimal

from django import template

from nestogy.core.money import format_money

register = template.Library()

_PILL = {
    # tickets
    "new": "warn", "open": "warn", "in_progress": "warn", "waiting_on_client": "bad",
    "on_hold": "muted", "resolved": "ok", "closed": "muted",
    # invoices
    "issued": "warn", "partially_paid": "warn", "paid": "ok", "overdue": "bad", "void": "muted",
    # contracts
    "active": "ok", "ended": "muted",
}


@register.filter
def pill(status: str) -> str:
    """The pill colour class of a ticket, invoice or contract status."""
    return _PILL.get(status, "muted")


register.filter("money", format_money)  # ``1,234.50 USD``


@register.filter
def qty(value) -> str:
    """A quantity without trailing zeros (``3``, ``2.5``)."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")
