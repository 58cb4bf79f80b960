"""A company's own wording of its notifications: read, preview, save, send a test.

- :func:`catalogue`: the event types that have shipped templates (the ones a company may
  reword: not :data:`render.PROTECTED_EVENT_TYPES`), with their description, how many parts
  the company overrides and when the last such event happened.
- :func:`shipped_source`: the shipped file a part falls back to, as text.
- :func:`preview`: renders an event type on a channel with proposed wording (blank = the
  shipped file) against the company's latest stored event of that type, through the same
  :class:`render.Renderer` and context as a real delivery; nothing is stored.
- :func:`save`: every proposed part checked by the sandbox first (nothing is saved if one
  is refused), then the overrides written or removed, audited
  ``notification.templates_changed``.
- :func:`send_test`: one e-mail delivery of the latest event to the person asking, queued in
  the outbox like any other (so it uses the saved wording and the real transport).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.template import TemplateDoesNotExist
from django.utils import timezone

from nestogy.audit.actions import log_action
from nestogy.core import events
from nestogy.core.errors import Conflict, ValidationError
from nestogy.core.tasks import enqueue_on_commit
from nestogy.notifications import render
from nestogy.notifications.models import Channel, Delivery, StoredEvent, TemplateOverride

PARTS = ("title", "body", "html")
CHANNELS = ("", *[c.value for c in Channel if c != Channel.WEBHOOK])


def _has_files(event_type: str) -> bool:
    try:
        render._engine(False).get_template(f"notifications/{event_type}/title.txt")
    except TemplateDoesNotExist:
        return False
    return True


def rewordable(event_type: str) -> bool:
    """Whether a company may reword ``event_type``: registered, not protected, with shipped
    templates (the event types :func:`catalogue` lists)."""
    return (event_type in events.REGISTRY and event_type not in render.PROTECTED_EVENT_TYPES
            and _has_files(event_type))


def catalogue() -> list[dict[str, Any]]:
    """The rewordable event types (see module), by name."""
    from django.db.models import Count, Max

    counts = dict(TemplateOverride.objects.values("event_type")
                  .annotate(n=Count("id")).order_by().values_list("event_type", "n"))
    last = dict(StoredEvent.objects.values("type").annotate(at=Max("occurred_at"))
                .order_by().values_list("type", "at"))
    return [{"type": name, "description": definition.description,
             "overrides": counts.get(name, 0), "last_event": last.get(name)}
            for name, definition in sorted(events.REGISTRY.items()) if rewordable(name)]


def check_event_type(event_type: str) -> None:
    if not rewordable(event_type):
        raise ValidationError("event_type", f"{event_type!r} has no wording to change")


def check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise ValidationError("channel", "must be one of every channel, " +
                              ", ".join(CHANNELS[1:]))


def shipped_source(event_type: str, part: str, channel: str) -> str:
    names = {"title": [f"notifications/{event_type}/title.txt"],
             "body": [f"notifications/{event_type}/{channel}.txt",
                      f"notifications/{event_type}/body.txt"] if channel else
             [f"notifications/{event_type}/body.txt"],
             "html": [f"notifications/{event_type}/body.html"]}[part]
    for name in names:
        try:
            template = render._engine(part == "html").get_template(name)
        except TemplateDoesNotExist:
            continue
        return template.source
    return ""


def stored(event_type: str, channel: str) -> dict[str, str]:
    return dict(TemplateOverride.objects.filter(event_type=event_type, channel=channel)
                .values_list("part", "content"))


def latest_event(event_type: str) -> StoredEvent | None:
    return StoredEvent.objects.filter(type=event_type).order_by("-occurred_at", "-id").first()


def _clean(parts: dict[str, str]) -> dict[str, str]:
    cleaned = {}
    for part in PARTS:
        content = (parts.get(part) or "").replace("\r\n", "\n")
        if content.strip():
            try:
                render.check_override(content)
            except render.RenderError as exc:
                raise ValidationError(part, str(exc)) from None
        cleaned[part] = content if content.strip() else ""
    return cleaned


def preview(company, event_type: str, channel: str, parts: dict[str, str], *,
            user) -> tuple[render.Rendered | None, str, StoredEvent | None]:
    """``(rendered, error, sample)``: the message as the proposed wording would make it."""
    from nestogy.notifications.sending import delivery_context

    check_event_type(event_type)
    check_channel(channel)
    sample = latest_event(event_type)
    if sample is None:
        return None, "No event of this kind has happened yet, so there is nothing to preview " \
                     "it with.", None
    try:
        proposed = _clean(parts)
    except ValidationError as exc:
        return None, exc.message, sample
    overrides = render.load_overrides([company.pk], [event_type])
    for part, content in proposed.items():
        key = (company.pk, event_type, channel, part)
        if content:
            overrides[key] = content
        else:
            overrides.pop(key, None)
    shown_channel = channel or Channel.EMAIL
    delivery = Delivery(company=company, event=sample, event_type=event_type,
                        channel=shown_channel, recipient_user=user,
                        recipient_name=getattr(user, "name", "") or user.email,
                        target=user.email if shown_channel == Channel.EMAIL else "")
    try:
        rendered = render.Renderer(overrides).render(
            company.pk, event_type, shown_channel, delivery_context(delivery))
    except render.RenderError as exc:
        return None, str(exc), sample
    return rendered, "", sample


@transaction.atomic
def save(company, event_type: str, channel: str, parts: dict[str, str], *, actor=None
         ) -> list[str]:
    """Write the proposed wording (see module); returns the parts that changed."""
    check_event_type(event_type)
    check_channel(channel)
    proposed = _clean(parts)
    current = stored(event_type, channel)
    changed = []
    for part, content in proposed.items():
        if content == current.get(part, ""):
            continue
        changed.append(part)
        if content:
            TemplateOverride.objects.update_or_create(
                company=company, event_type=event_type, channel=channel, part=part,
                defaults={"content": content})
        else:
            TemplateOverride.objects.filter(event_type=event_type, channel=channel,
                                            part=part).delete()
    if changed:
        log_action(company, "notification.templates_changed", actor=actor, company=company,
                   data={"event_type": event_type, "channel": channel or "all",
                         "parts": changed})
    return changed


@transaction.atomic
def send_test(company, event_type: str, user, *, actor=None) -> Delivery:
    """Queue one e-mail of the latest ``event_type`` event to ``user`` (see module)."""
    from nestogy.notifications.tasks import send_event_deliveries

    check_event_type(event_type)
    sample = latest_event(event_type)
    if sample is None:
        raise Conflict("no event of this kind has happened yet")
    delivery = Delivery.objects.create(
        company=company, event=sample, event_type=event_type, channel=Channel.EMAIL,
        recipient_user=user, recipient_name=getattr(user, "name", "") or user.email,
        target=user.email, next_attempt_at=timezone.now())
    log_action(company, "notification.test_sent", actor=actor, company=company,
               data={"event_type": event_type, "to": user.email})
    enqueue_on_commit(send_event_deliveries, company.pk, sample.pk)
    return delivery
