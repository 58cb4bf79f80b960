"""Every change a user makes to notifications: validated, atomic, audited."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from nestogy.audit.actions import log_action
from nestogy.core import events
from nestogy.core.errors import Conflict, FieldError, ValidationError
from nestogy.notifications import preferences, sender, targets
from nestogy.notifications.models import (
    Channel,
    ChannelAddress,
    Delivery,
    Notification,
    Preference,
    SenderVerification,
    WebhookEndpoint,
)

ADDRESS_CHANNELS = (Channel.SMS, Channel.SLACK)


def clean_address(channel: str, value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    value = value.strip()
    if not value:
        return ""
    if len(value) > 1000:
        raise ValidationError(field, "must be at most 1000 characters")
    if "://" in value:
        # A user's own address: only the channel's fixed-host services (targets.USER_SERVICES).
        return targets.check(value, channel, company=False, field=field)
    if channel == Channel.SMS:
        digits = value.replace(" ", "").replace("-", "")
        if not (digits.startswith("+") and digits[1:].isdigit() and 8 <= len(digits) <= 16):
            raise ValidationError(field, "must be a phone number in international form "
                                         "(+15551234567) or an Apprise URL")
        return digits
    raise ValidationError(field, "must be an Apprise URL, e.g. slack://TokenA/TokenB/TokenC")


def _desired_changes(principal, desired: list[dict[str, Any]], errors: list[FieldError],
                     stored: dict[tuple[str, str], bool]) -> list[tuple[str, str, bool | None]]:
    """``[{event, channels: {channel: on}}]`` (the GET form) as stored-choice changes.

    A channel already delivered as asked changes nothing; one asked back to the role's
    default drops the stored choice; any other becomes a stored choice.
    """
    changes: list[tuple[str, str, bool | None]] = []
    for i, item in enumerate(desired):
        event_type = item.get("event")
        if event_type not in events.REGISTRY:
            errors.append(FieldError(f"items[{i}].event", "is not a known event type"))
            continue
        defaults = preferences.default_channels(event_type, principal.role)
        mine = {c: on for (e, c), on in stored.items() if e == event_type}
        effective = set(preferences.channels_for(event_type, principal.role, mine))
        for channel, on in (item.get("channels") or {}).items():
            if channel not in preferences.USER_CHANNEL_VALUES:
                errors.append(FieldError(f"items[{i}].channels.{channel}", "must be one of "
                                         + ", ".join(preferences.USER_CHANNEL_VALUES)))
            elif not isinstance(on, bool):
                errors.append(FieldError(f"items[{i}].channels.{channel}",
                                         "must be true or false"))
            elif on != (channel in effective):
                changes.append((event_type, channel, None if on == (channel in defaults)
                                else on))
    return changes


@transaction.atomic
def update_preferences(principal, changes: list[dict[str, Any]],
                       addresses: dict[str, Any] | None = None,
                       desired: list[dict[str, Any]] | None = None) -> bool:
    """Store the caller's choices ``[{event, channel, enabled}]`` and channel addresses.

    ``enabled: null`` removes a stored choice (back to the role's default). ``desired``
    takes the effective channels per event in the form GET answers (``[{event, channels}]``)
    and stores only what differs. Everything is validated before anything is written; what
    is already so is not written again, and a request that changes nothing writes nothing
    (no audit entry). The preference cache is invalidated after commit. Returns whether
    anything changed.
    """
    errors: list[FieldError] = []
    cleaned: list[tuple[str, str, bool | None]] = []
    for i, item in enumerate(changes):
        event_type, channel = item.get("event"), item.get("channel")
        if event_type not in events.REGISTRY or event_type in sender.INTERNAL_EVENT_TYPES:
            errors.append(FieldError(f"preferences[{i}].event", "is not a known event type"))
        if channel not in preferences.USER_CHANNEL_VALUES:
            errors.append(FieldError(f"preferences[{i}].channel", "must be one of "
                                     + ", ".join(preferences.USER_CHANNEL_VALUES)))
        enabled = item.get("enabled")
        if enabled is not None and not isinstance(enabled, bool):
            errors.append(FieldError(f"preferences[{i}].enabled", "must be true, false or null"))
        cleaned.append((event_type, channel, enabled))
    company_id, user = principal.company_id, principal.user
    stored = {(e, c): on for e, c, on in Preference.objects.filter(user=user).values_list(
        "event_type", "channel", "enabled")}
    if desired:
        cleaned += _desired_changes(principal, desired, errors, stored)
    clean_addresses: dict[str, str] = {}
    for channel, value in (addresses or {}).items():
        field = f"addresses.{channel}"
        if channel not in ADDRESS_CHANNELS:
            errors.append(FieldError(field, "must be sms or slack"))
            continue
        try:
            clean_addresses[channel] = clean_address(channel, value, field)
        except ValidationError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationError.many(errors)

    current_addresses = dict(ChannelAddress.objects.filter(user=user).values_list(
        "channel", "address"))
    cleaned = [(e, c, on) for e, c, on in cleaned if stored.get((e, c)) != on]
    clean_addresses = {c: a for c, a in clean_addresses.items()
                       if current_addresses.get(c, "") != a}
    if not cleaned and not clean_addresses:
        return False
    for event_type, channel, enabled in cleaned:
        if enabled is None:
            Preference.objects.filter(company_id=company_id, user=user, event_type=event_type,
                                      channel=channel).delete()
        else:
            Preference.objects.update_or_create(
                company_id=company_id, user=user, event_type=event_type, channel=channel,
                defaults={"enabled": enabled})
    for channel, address in clean_addresses.items():
        if address:
            ChannelAddress.objects.update_or_create(company_id=company_id, user=user,
                                                    channel=channel,
                                                    defaults={"address": address})
        else:
            ChannelAddress.objects.filter(company_id=company_id, user=user,
                                          channel=channel).delete()
    for event_type in {c[0] for c in cleaned}:
        # Now for this process, and again after commit in case a concurrent reader cached
        # the old rows in between.
        preferences.invalidate(company_id, event_type)
        transaction.on_commit(lambda et=event_type: preferences.invalidate(company_id, et))
    log_action(principal.membership, "notification_preferences.updated", actor=user,
               data={"preferences": [{"event": e, "channel": c, "enabled": v}
                                     for e, c, v in cleaned],
                     "addresses": sorted(clean_addresses)})
    return True


@transaction.atomic
def mark_read(notification: Notification, *, actor) -> Notification:
    """Mark one inbox entry read (idempotent: the first read time is kept)."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


@transaction.atomic
def mark_all_read(principal) -> int:
    """Mark every unread inbox entry of the caller read; return how many."""
    return Notification.objects.filter(user=principal.user, read_at__isnull=True).update(
        read_at=timezone.now(), updated_at=timezone.now())


@transaction.atomic
def retry_deliveries(deliveries, *, actor) -> int:
    """Queue failed deliveries again, due now (e.g. after fixing a webhook or SMTP setting).

    The attempt count is kept (the log stays honest): a retried delivery gets one more try,
    and more only while it is under ``NESTOGY_NOTIFY_MAX_ATTEMPTS``. Returns how many.
    """
    from nestogy.audit.actions import build_entry, log_actions_bulk
    from nestogy.core.tasks import enqueue_on_commit
    from nestogy.notifications.tasks import send_due_deliveries

    rows = [d for d in deliveries if d.status == Delivery.Status.FAILED]
    now = timezone.now()
    for d in rows:
        d.status, d.next_attempt_at, d.updated_at = Delivery.Status.QUEUED, now, now
    Delivery.objects.bulk_update(rows, ["status", "next_attempt_at", "updated_at"])
    log_actions_bulk([build_entry(d, "delivery.retried", actor=actor,
                                  data={"attempts": d.attempts}) for d in rows])
    if rows:
        enqueue_on_commit(send_due_deliveries)
    return len(rows)


@transaction.atomic
def cancel_deliveries(deliveries, *, actor) -> int:
    """Cancel queued deliveries (they will not be sent). Returns how many."""
    from nestogy.audit.actions import build_entry, log_actions_bulk

    rows = [d for d in deliveries if d.status == Delivery.Status.QUEUED]
    now = timezone.now()
    for d in rows:
        d.status, d.next_attempt_at, d.updated_at = Delivery.Status.CANCELLED, None, now
    Delivery.objects.bulk_update(rows, ["status", "next_attempt_at", "updated_at"])
    log_actions_bulk([build_entry(d, "delivery.cancelled", actor=actor) for d in rows])
    return len(rows)


# -- webhook signing secrets ---------------------------------------------------------------
def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


@transaction.atomic
def set_webhook_secret(hook: WebhookEndpoint, secret: str | None = None, *, actor=None,
                       save: bool = True) -> str:
    """Give the endpoint a new signing secret (random unless ``secret`` is given) and return
    it: the one time it is shown. It is stored encrypted; the audit entry names no value."""
    if secret is not None:
        secret = secret.strip()
        if len(secret) < 16 or len(secret) > 200:
            raise ValidationError("secret", "must be 16 to 200 characters")
    value = secret or new_webhook_secret()
    hook.secret = value
    if save:
        hook.save(update_fields=["secret", "updated_at"])
        log_action(hook, "webhook.secret_changed", actor=actor)
    return value


# -- sender address verification ------------------------------------------------------------
def _cooldown() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "NESTOGY_SENDER_VERIFY_COOLDOWN_SECONDS",
                                         300)))


@transaction.atomic
def request_sender_verification(company, *, actor=None) -> SenderVerification:
    """Mail a confirmation link to the company's ``notifications.from_email`` (through the
    outbox). A new request voids earlier links; at most one request per cooldown period."""
    field = f"settings.{sender.SETTING}"
    email = sender.normalize(company.get_setting(sender.SETTING))
    if not email:
        raise ValidationError(field, "set a sender address first")
    if sender.allowed_without_verification(email):
        raise Conflict(f"{email} is a platform sender address and needs no verification",
                       code="verification_not_needed")
    with scopes_disabled():
        row = (SenderVerification.objects.select_for_update()
               .filter(company_id=company.pk).first())
    now = timezone.now()
    if row is not None and row.email == email and row.verified_at is not None:
        raise Conflict(f"{email} is already verified", code="already_verified")
    # One mail per cooldown per company, whatever the address (no mailing arbitrary
    # addresses by changing the setting between requests).
    if row is not None and row.requested_at and now - row.requested_at < _cooldown():
        raise Conflict("a confirmation link was sent moments ago; wait a few minutes before "
                       "asking again", code="too_soon")
    if row is None:
        row = SenderVerification(company_id=company.pk)
    row.email, row.nonce = email, secrets.token_urlsafe(24)
    row.requested_at, row.verified_at = now, None
    row.save()
    log_action(row, sender.EVENT, actor=actor, data={"email": email})
    with scope(company=company.pk):
        events.emit(sender.EVENT, company_id=company.pk, actor=actor,
                    data={"email": email, "company_name": company.name,
                          "verification": row.public_id})
    return row


@transaction.atomic
def confirm_sender(token: str) -> SenderVerification:
    """Confirm through a link: whoever holds it received it at the address, which is the
    proof (no login). Idempotent."""
    found = sender.verification_from_link(token)
    with scopes_disabled():
        row = (SenderVerification.objects.select_for_update()
               .filter(pk=found.pk, nonce=found.nonce, email=found.email).first())
    if row is None:
        raise sender.InvalidLink("this link was replaced by a newer one or cancelled")
    if row.verified_at is None:
        row.verified_at = timezone.now()
        row.save(update_fields=["verified_at", "updated_at"])
        log_action(row, "sender.verified", actor_label="confirmation link",
                   data={"email": row.email})
    return row


def reset_sender_verification(event: events.Event) -> None:
    """Reaction to ``company.settings_updated`` (``NotificationsConfig.ready``): a new sender
    address starts unverified, and links sent before are void (the row stays for the request
    cooldown)."""
    if sender.SETTING in event.data.get("keys", ()):
        with scopes_disabled():
            SenderVerification.objects.filter(company_id=event.company_id).update(
                email="", nonce=secrets.token_urlsafe(24), verified_at=None,
                updated_at=timezone.now())
