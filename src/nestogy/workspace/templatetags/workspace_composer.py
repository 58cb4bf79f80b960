"""Template helpers of the composer feature: ask the role matrix from a template."""

from django import template

from nestogy.accounts.roles import allowed

register = template.Library()


@register.filter
def can(membership, permission: str) -> bool:
    """``request.membership|can:"canned.manage"``: the one role matrix decides."""
    return membership is not None and allowed(membership.role, permission)
