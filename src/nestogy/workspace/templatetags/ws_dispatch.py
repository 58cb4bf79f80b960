"""Template helpers of the dispatch board."""

from django import template

from nestogy.workspace.auth import can

register = template.Library()


@register.filter
def may(request, permission: str) -> bool:
    """Whether the signed-in member's role has ``permission`` (the role matrix)."""
    return can(request, permission)
