"""Reads: the caller's inbox, effective preferences, the delivery log."""

from __future__ import annotations

from django.db.models import QuerySet
from django_scopes import scopes_disabled

from nestogy.core import events, secrets
from nestogy.core.errors import NotFound
from nestogy.notifications import preferences, sender
from nestogy.notifications.models import (
    Channel,
    ChannelAddress,
    Delivery,
    Notification,
    Preference,
)


def inbox(principal, *, unread: bool | None = None) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=principal.user)
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return qs


def get_notification_for(principal, public_id: str) -> Notification:
    """One of the caller's own inbox entries; anyone else's answers 404 like a missing one."""
    notification = inbox(principal).filter(public_id=public_id).first()
    if notification is None:
        raise NotFound("notification not found")
    return notification


def effective_preferences(principal) -> dict:
    """Every registered event type with the channels the caller gets, and their addresses."""
    items = []
    mine: dict[str, dict[str, bool]] = {}
    # One query for the caller's own choices (the per-event cache serves fan-out instead).
    for event_type, channel, enabled in Preference.objects.filter(
            user=principal.user).values_list("event_type", "channel", "enabled"):
        mine.setdefault(event_type, {})[channel] = enabled
    for name in sorted(events.REGISTRY):
        if name in sender.INTERNAL_EVENT_TYPES:
            continue
        definition = events.REGISTRY[name]
        stored = mine.get(name, {})
        defaults = preferences.default_channels(name, principal.role)
        on = set(preferences.channels_for(name, principal.role, stored))
        items.append({
            "event": name,
            "description": definition.description,
            "channels": {c: c in on for c in preferences.USER_CHANNEL_VALUES},
            "defaults": {c: c in defaults for c in preferences.USER_CHANNEL_VALUES},
        })
    # Addresses are write-only (an Apprise URL carries tokens): whether set, the last 4.
    try:
        stored = dict(ChannelAddress.objects.filter(
            user=principal.user).values_list("channel", "address"))
        addresses = {c: secrets.status(stored.get(c, "")) for c in ("sms", "slack")}
    except secrets.UndecryptableSecret:
        channels = set(ChannelAddress.objects.filter(user=principal.user)
                       .values_list("channel", flat=True))
        addresses = {c: {"set": True, "last4": None,
                         "error": "cannot be decrypted with the configured keys"}
                     if c in channels else secrets.status("") for c in ("sms", "slack")}
    return {"items": items, "addresses": addresses}


def deliveries(*, status: str | None = None, channel: str | None = None,
               event: str | None = None) -> QuerySet[Delivery]:
    qs = Delivery.objects.select_related("recipient_user", "webhook")
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if event:
        qs = qs.filter(event_type=event)
    return qs


def phone_number(company, user) -> str:
    """The user's own SMS number in ``company`` (``addresses.sms``), or ``""`` when they have
    none or their SMS address is a service URL rather than a number. Staff have no other
    phone field: this is the number SMS notifications go to."""
    with scopes_disabled():
        address = (ChannelAddress.objects.filter(company_id=company.pk, user=user,
                                                 channel=Channel.SMS)
                   .values_list("address", flat=True).first())
    return address if address and "://" not in address else ""
