"""Template helpers of the workspace's front-desk pages: the inbox badge, role checks."""

from datetime import timedelta
from types import SimpleNamespace

from django import template

from nestogy.core.money import format_money
from nestogy.notifications.queries import inbox
from nestogy.workspace import auth

register = template.Library()


@register.filter
def may(request, permission: str) -> bool:
    """``{% if request|may:"tickets.create" %}``: the chosen role has the permission."""
    return auth.can(request, permission)


@register.simple_tag(takes_context=True)
def unread_count(context) -> int:
    """How many unread inbox entries the signed-in user has in the chosen company (one
    COUNT on the inbox index; 0 outside a company or without ``notifications.own``)."""
    request = context.get("request")
    if request is None or not auth.can(request, "notifications.own"):
        return 0
    return inbox(SimpleNamespace(user=request.user), unread=True).count()


register.filter("money", format_money)  # ``1,234.50 USD``


@register.filter
def period(start, end) -> str:
    """``{{ start|period:end }}``: a billing period ``[start, end)`` as people read it, with
    its last day (``1 Oct – 31 Oct 2026``); a closing period (start = end) reads ``after``."""
    if start is None:
        return ""
    if end is None or end == start:
        return f"usage after {start:%-d %b %Y}"
    last = end - timedelta(days=1)
    first = f"{start:%-d %b}" if start.year == last.year else f"{start:%-d %b %Y}"
    return f"{first} – {last:%-d %b %Y}"
