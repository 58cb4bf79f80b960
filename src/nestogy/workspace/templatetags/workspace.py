"""Template helpers of the staff workspace."""

from django import template

from nestogy.workspace.queries import human_seconds

register = template.Library()


@register.filter
def duration(seconds):
    """Business seconds as ``3h 05m`` (the sign is shown by the template)."""
    return human_seconds(seconds)


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def label(value):
    return str(value or "").replace("_", " ").capitalize()
