"""Outgoing webhooks (``/app/settings/webhooks/``, ``company.settings``, as the admin):
the company's endpoints with their last deliveries; add one (its signing secret is shown on
the answering page only, never stored in a session or a message), change it, give it a new
secret, switch it off, delete it, or *send a test* (the latest event it receives, through
the outbox: signed, checked by the egress rules, retried) - ``notifications.webhooks``."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from nestogy.core.errors import Conflict, ValidationError
from nestogy.notifications import actions as notification_actions
from nestogy.notifications import webhooks
from nestogy.notifications.models import Delivery, WebhookEndpoint
from nestogy.workspace import auth

HERE = "/app/settings/webhooks/"
LABELS = {"name": "Name", "url": "URL", "event_types": "Events"}


def _hook(hook_id: str) -> WebhookEndpoint:
    hook = WebhookEndpoint.objects.filter(public_id=hook_id).first()
    if hook is None:
        raise Http404("webhook not found")
    return hook


def _data(post) -> dict:
    return {"name": post.get("name", ""), "url": post.get("url", ""),
            "event_types": post.getlist("event_types"), "is_active": post.get("is_active") == "on"}


def _secret_page(request, hook, secret) -> HttpResponse:
    response = render(request, "workspace/settings_webhook_secret.html",
                      {"hook": hook, "secret": secret})
    response["Cache-Control"] = "no-store"
    return response


@auth.staff_view("company.settings")
@require_http_methods(["GET", "POST"])
def webhooks_view(request: HttpRequest) -> HttpResponse:
    data, error = {"name": "", "url": "", "event_types": [], "is_active": True}, {}
    if request.method == "POST":
        data = _data(request.POST)
        try:
            hook, secret = webhooks.create(request.company, data, actor=request.user)
        except ValidationError as exc:
            error = {exc.field: f"{LABELS.get(exc.field, exc.field)}: {exc.message}."}
        else:
            return _secret_page(request, hook, secret)
    # each endpoint's last delivery in the same query, however many it has had
    last = Delivery.objects.filter(webhook=OuterRef("pk")).order_by("-created_at", "-id")
    hooks = list(WebhookEndpoint.objects.defer("secret").annotate(
        last_status=Subquery(last.values("status")[:1]),
        last_at=Subquery(last.values("created_at")[:1])).order_by("name", "id"))
    statuses = dict(Delivery.Status.choices)
    for hook in hooks:
        hook.last_label = statuses.get(hook.last_status, "")
    return render(request, "workspace/settings_webhooks.html", {
        "hooks": hooks, "data": data, "error": error, "choices": webhooks.event_choices(),
    }, status=400 if error else 200)


@auth.staff_view("company.settings")
@require_http_methods(["GET", "POST"])
def webhook_view(request: HttpRequest, hook_id: str) -> HttpResponse:
    hook = _hook(hook_id)
    error = {}
    data = {"name": hook.name, "url": hook.url, "event_types": hook.event_types,
            "is_active": hook.is_active}
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "secret":
            secret = notification_actions.set_webhook_secret(hook, actor=request.user)
            return _secret_page(request, hook, secret)
        if action == "test":
            try:
                webhooks.send_test(hook, actor=request.user)
            except Conflict as exc:
                messages.error(request, f"No test sent: {exc}.")
            else:
                messages.success(request, f"A test delivery to {hook.name} is queued; its "
                                          "outcome shows below in a moment.")
            return redirect(f"{HERE}{hook.public_id}/")
        if action == "delete":
            webhooks.delete(hook, actor=request.user)
            messages.success(request, f"Webhook {hook.name} deleted.")
            return redirect(HERE)
        data = _data(request.POST)
        try:
            changed = webhooks.update(hook, data, actor=request.user)
        except ValidationError as exc:
            error = {exc.field: f"{LABELS.get(exc.field, exc.field)}: {exc.message}."}
        else:
            messages.success(request, "Saved." if changed else "Nothing changed.")
            return redirect(f"{HERE}{hook.public_id}/")
    deliveries = list(Delivery.objects.filter(webhook=hook).order_by("-created_at")[:20])
    return render(request, "workspace/settings_webhook.html", {
        "hook": hook, "data": data, "error": error, "choices": webhooks.event_choices(),
        "deliveries": deliveries,
    }, status=400 if error else 200)
