"""Template helpers of time on tickets: the ticket page's *Time* panel and the running timer
in the top bar (both read through ``timesheets.queries`` inside the company's scope)."""

from django import template

from nestogy.timesheets.durations import format_duration
from nestogy.timesheets.queries import running_timer
from nestogy.workspace import auth

register = template.Library()


@register.simple_tag(takes_context=True)
def time_panel(context, ticket):
    from nestogy.workspace.views_time import panel_context

    return panel_context(context["request"], ticket)


@register.simple_tag(takes_context=True)
def nav_timer(context):
    """``{"allowed": bool, "timer": RunningTimer | None, "elapsed": seconds}``."""
    from nestogy.core.timeutil import now

    request = context["request"]
    if not auth.can(request, "time.own"):
        return {"allowed": False}
    timer = running_timer(request.user)
    return {"allowed": True, "timer": timer,
            "elapsed": int((now() - timer.started_at).total_seconds()) if timer else 0}


@register.filter
def worked(seconds):
    """A worked duration: ``1h 30m``, ``45m``, ``0m`` for none."""
    return format_duration(seconds) if seconds else "0m"


@register.filter
def clock(seconds):
    """Elapsed seconds as ``H:MM:SS`` (the timer's face; time.js keeps it ticking)."""
    seconds = max(0, int(seconds or 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
