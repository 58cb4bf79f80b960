"""A company's outgoing webhooks, managed from the workspace (the admin does the same).

- :func:`create` and :func:`update`: name, URL (checked against the egress rules when
  saved; the connection is checked again when it is made), the event types it receives
  (empty = all of them; only registered types that are not private), on or off. A new
  endpoint gets a random signing secret, returned once (:func:`actions.set_webhook_secret`).
- :func:`send_test`: one delivery of the company's latest event this endpoint wants, queued in
  the outbox like any other: signed, through the egress function, retried, logged.
Every change is audited; a refusal names its field and writes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from nestogy.audit.actions import log_action
from nestogy.core import egress, events
from nestogy.core.errors import Conflict, ValidationError
from nestogy.core.tasks import enqueue_on_commit
from nestogy.notifications import actions
from nestogy.notifications.models import Channel, Delivery, StoredEvent, WebhookEndpoint


def event_choices() -> list[tuple[str, str]]:
    return [(name, d.description) for name, d in sorted(events.REGISTRY.items())
            if not d.private]


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise ValidationError("name", "must be 1 to 100 characters")
    url = str(data.get("url") or "").strip()
    if not url or len(url) > 500:
        raise ValidationError("url", "must be an http(s) URL of at most 500 characters")
    try:
        egress.check_url(url)
    except egress.EgressRefused as exc:
        raise ValidationError("url", str(exc)) from None
    known = {name for name, _ in event_choices()}
    types = list(data.get("event_types") or [])
    unknown = [t for t in types if t not in known]
    if unknown:
        raise ValidationError("event_types", f"unknown event type {unknown[0]!r}")
    return {"name": name, "url": url, "event_types": sorted(set(types)),
            "is_active": bool(data.get("is_active", True))}


@transaction.atomic
def create(company, data: dict[str, Any], *, actor=None) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (shown once)."""
    clean = _clean(data)
    hook = WebhookEndpoint(company=company, **clean)
    secret = actions.set_webhook_secret(hook, save=False)
    hook.save()
    log_action(hook, "webhook.created", actor=actor,
               data={"name": hook.name, "event_types": hook.event_types or "all"})
    return hook, secret


@transaction.atomic
def update(hook: WebhookEndpoint, data: dict[str, Any], *, actor=None) -> list[str]:
    """Change an endpoint; returns the fields that changed."""
    clean = _clean(data)
    hook = WebhookEndpoint.objects.select_for_update().get(pk=hook.pk)
    changed = [k for k, v in clean.items() if getattr(hook, k) != v]
    if changed:
        for key in changed:
            setattr(hook, key, clean[key])
        hook.save(update_fields=[*changed, "updated_at"])
        log_action(hook, "webhook.updated", actor=actor, data={"fields": changed})
    return changed


@transaction.atomic
def delete(hook: WebhookEndpoint, *, actor=None) -> None:
    log_action(hook, "webhook.deleted", actor=actor, data={"name": hook.name})
    hook.delete()


@transaction.atomic
def send_test(hook: WebhookEndpoint, *, actor=None) -> Delivery:
    """Queue the latest event the endpoint wants to it (see module)."""
    if not hook.is_active:
        raise Conflict("the endpoint is switched off")
    events_qs = StoredEvent.objects.order_by("-occurred_at", "-id")
    if hook.event_types:
        events_qs = events_qs.filter(type__in=hook.event_types)
    private = {name for name, d in events.REGISTRY.items() if d.private}
    sample = events_qs.exclude(type__in=private).first()
    if sample is None:
        raise Conflict("no event this endpoint receives has happened yet")
    delivery = Delivery.objects.create(
        company_id=hook.company_id, event=sample, event_type=sample.type,
        channel=Channel.WEBHOOK, target=hook.url, recipient_name=hook.name[:200],
        webhook=hook, next_attempt_at=timezone.now())
    log_action(hook, "webhook.test_sent", actor=actor, data={"event_type": sample.type})
    from nestogy.notifications.tasks import send_event_deliveries

    enqueue_on_commit(send_event_deliveries, hook.company_id, sample.pk)
    return delivery
