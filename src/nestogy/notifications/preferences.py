"""Preferences: which channels each user wants for each event type.

A stored :class:`~nestogy.notifications.models.Preference` (user × event × channel) wins;
without one, the event type's ``default_channels`` for the user's role apply, and without
those, :data:`FALLBACK_CHANNELS`. Client contacts get the ``"contact"`` entry of
``default_channels`` (default: email only).

Reads go through Django's cache, one entry per (company, event type) holding every stored
choice for that event, so fanning out to 10,000 users costs one cache read (or one query).
Every write deletes the entry. With the default local-memory cache each process has its own
copy, so a change made in the web process reaches a worker after at most
``NESTOGY_NOTIFY_PREFERENCE_CACHE_SECONDS``; production sets ``REDIS_URL`` (a shared cache)
and then a change is seen everywhere at once.
"""

from __future__ import annotations

from django.core.cache import cache
from django_scopes import scopes_disabled

from nestogy.core import events
from nestogy.notifications import conf
from nestogy.notifications.models import Channel, Preference

FALLBACK_CHANNELS: tuple[str, ...] = (Channel.EMAIL, Channel.INAPP)
CONTACT_CHANNELS: tuple[str, ...] = (Channel.EMAIL,)


def _key(company_id: int, event_type: str) -> str:
    return f"nestogy:notify-prefs:{company_id}:{event_type}"


def stored_choices(company_id: int, event_type: str) -> dict[int, dict[str, bool]]:
    """``{user_id: {channel: enabled}}`` of every stored choice for this event type."""
    key = _key(company_id, event_type)
    cached = cache.get(key)
    if cached is not None:
        return cached
    choices: dict[int, dict[str, bool]] = {}
    with scopes_disabled():
        rows = Preference.objects.filter(company_id=company_id, event_type=event_type)
        for user_id, channel, enabled in rows.values_list("user_id", "channel", "enabled"):
            choices.setdefault(user_id, {})[channel] = enabled
    cache.set(key, choices, conf.preference_cache_seconds())
    return choices


def invalidate(company_id: int, event_type: str) -> None:
    cache.delete(_key(company_id, event_type))


def default_channels(event_type: str, role: str) -> tuple[str, ...]:
    definition = events.REGISTRY.get(event_type)
    defaults = definition.default_channels if definition else {}
    if role == "contact":
        return tuple(defaults.get("contact", CONTACT_CHANNELS))
    return tuple(defaults.get(role, defaults.get("*", FALLBACK_CHANNELS)))


def channels_for(event_type: str, role: str, choices: dict[str, bool] | None) -> list[str]:
    """The channels a user of ``role`` with stored ``choices`` gets for ``event_type``."""
    defaults = default_channels(event_type, role)
    choices = choices or {}
    return [c for c in (*USER_CHANNEL_VALUES,) if choices.get(c, c in defaults)]


USER_CHANNEL_VALUES = tuple(str(c) for c in (Channel.EMAIL, Channel.INAPP, Channel.SMS,
                                             Channel.SLACK))
