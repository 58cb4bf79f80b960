"""The delivery log (``/app/settings/deliveries/``, ``notifications.deliveries``): every
message the outbox sent, is sending or gave up on, newest first, filtered by state,
channel and event; one delivery's attempts with their errors. Failed deliveries can be
queued again and queued ones cancelled (``notifications.actions``, audited), one at a time
or every selected row."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from nestogy.notifications import actions as notification_actions
from nestogy.notifications import queries as notification_queries
from nestogy.notifications.models import Channel, Delivery
from nestogy.workspace import auth

HERE = "/app/settings/deliveries/"
PAGE = 50


@auth.staff_view("notifications.deliveries")
@require_GET
def deliveries_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    event = request.GET.get("event", "").strip()[:100]
    status = status if status in Delivery.Status.values else ""
    channel = channel if channel in Channel.values else ""
    qs = notification_queries.deliveries(status=status or None, channel=channel or None,
                                         event=event or None).order_by("-created_at", "-id")
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    params = {k: v for k, v in {"status": status, "channel": channel, "event": event}.items()
              if v}
    return render(request, "workspace/settings_deliveries.html", {
        "page": page, "rows": page.object_list, "status": status, "channel": channel,
        "event": event, "statuses": Delivery.Status.choices, "channels": Channel.choices,
        "query": urlencode(params),
    })


@auth.staff_view("notifications.deliveries")
@require_GET
def delivery_view(request: HttpRequest, delivery_id: str) -> HttpResponse:
    delivery = Delivery.objects.select_related("recipient_user", "webhook", "event").filter(
        public_id=delivery_id).first()
    if delivery is None:
        raise Http404("delivery not found")
    return render(request, "workspace/settings_delivery.html", {
        "d": delivery, "attempts": list(delivery.attempt_log.order_by("number"))})


def _back(request: HttpRequest) -> str:
    """Where to return: the log or one delivery, never elsewhere (nor a broken header)."""
    back = request.POST.get("back") or HERE
    if not back.startswith(HERE) or any(ord(c) < 32 or c == "\\" for c in back):
        return HERE
    return back


@auth.staff_view("notifications.deliveries")
@require_POST
def deliveries_action_view(request: HttpRequest) -> HttpResponse:
    ids = request.POST.getlist("delivery")[:500]
    rows = list(Delivery.objects.filter(public_id__in=ids))
    if not rows:
        messages.error(request, "Select at least one delivery.")
        return redirect(_back(request))
    action = request.POST.get("action")
    if action == "retry":
        n = notification_actions.retry_deliveries(rows, actor=request.user)
        messages.success(request, f"{n} failed deliver{'y' if n == 1 else 'ies'} queued again"
                         + (f"; {len(rows) - n} had not failed." if n < len(rows) else "."))
    elif action == "cancel":
        n = notification_actions.cancel_deliveries(rows, actor=request.user)
        messages.success(request, f"{n} queued deliver{'y' if n == 1 else 'ies'} cancelled"
                         + (f"; {len(rows) - n} were not queued." if n < len(rows) else "."))
    else:
        messages.error(request, "Choose to retry or to cancel.")
    return redirect(_back(request))
