"""Notification wording (``/app/settings/templates/``, ``company.settings``, as the admin's
template overrides): the event types a company may reword; for one of them and a channel
(or every channel), the title, text body and HTML body, each empty to keep the shipped
wording shown under it. *Preview* renders the proposed wording against the company's latest
event of that kind, in the sandbox, exactly as a delivery would, and stores nothing; *Save*
checks every part first, then writes (audited); *Send me a test* queues one e-mail of the
latest event to the person asking through the outbox (``notifications.overrides``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from nestogy.core.errors import Conflict, ValidationError
from nestogy.notifications import overrides
from nestogy.workspace import auth

PART_LABELS = {"title": "Title (e-mail subject)", "body": "Text body",
               "html": "HTML body (e-mail only)"}
CHANNEL_LABELS = {"": "Every channel", "email": "E-mail", "inapp": "In-app", "sms": "SMS",
                  "slack": "Slack"}


@auth.staff_view("company.settings")
@require_GET
def templates_view(request: HttpRequest) -> HttpResponse:
    return render(request, "workspace/settings_templates.html",
                  {"events": overrides.catalogue()})


@auth.staff_view("company.settings")
@require_http_methods(["GET", "POST"])
def template_view(request: HttpRequest, event_type: str) -> HttpResponse:
    try:
        overrides.check_event_type(event_type)
    except ValidationError:
        raise Http404("no such notification") from None
    channel = (request.POST if request.method == "POST" else request.GET).get("channel", "")
    if channel not in CHANNEL_LABELS:
        channel = ""
    here = f"/app/settings/templates/{event_type}/" + (f"?channel={channel}" if channel else "")
    current = overrides.stored(event_type, channel)
    parts = {p: current.get(p, "") for p in overrides.PARTS}
    rendered = error = None
    sample = None
    field_error = {}
    status = 200
    if request.method == "POST":
        parts = {p: request.POST.get(p, "") for p in overrides.PARTS}
        action = request.POST.get("action", "preview")
        if action == "save":
            try:
                changed = overrides.save(request.company, event_type, channel, parts,
                                         actor=request.user)
            except ValidationError as exc:
                field_error[exc.field] = exc.message
                status = 400
            else:
                messages.success(request, "Saved: " + ", ".join(
                    PART_LABELS[p].split(" (")[0].lower() for p in changed) + "."
                    if changed else "Nothing changed.")
                return redirect(here)
        elif action == "test":
            try:
                overrides.send_test(request.company, event_type, request.user,
                                    actor=request.user)
            except Conflict as exc:
                messages.error(request, f"No test sent: {exc}.")
            else:
                messages.success(request, f"A test e-mail with the saved wording is on its way "
                                          f"to {request.user.email}.")
            return redirect(here)
        rendered, error, sample = overrides.preview(request.company, event_type, channel,
                                                    parts, user=request.user)
        if error and action == "preview":
            status = 400 if sample is not None else 200
    else:
        sample = overrides.latest_event(event_type)
    fields = [{"part": p, "label": PART_LABELS[p], "value": parts[p],
               "shipped": overrides.shipped_source(event_type, p, channel),
               "error": field_error.get(p, "")} for p in overrides.PARTS
              if p != "html" or channel in ("", "email")]
    return render(request, "workspace/settings_template.html", {
        "event_type": event_type, "channel": channel, "channels": CHANNEL_LABELS,
        "fields": fields, "rendered": rendered, "error": error, "sample": sample,
        "description": overrides.events.REGISTRY[event_type].description,
    }, status=status)
