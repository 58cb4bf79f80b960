"""Domain events: dotted type names, a registry, and in-transaction dispatch.

Domain apps declare the events they emit (``register``) together with two callables: a
payload builder that turns the event into template context and a recipient resolver that
says who should hear of it. The notifications app subscribes (``subscribe``) without
importing any domain app; it writes its outbox rows inside the caller's transaction, so a
rolled-back action notifies nobody, and it sends only after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    type: str
    company_id: int
    data: dict[str, Any]
    actor_id: int | None = None
    occurred_at: datetime = field(default_factory=timezone.now)


@dataclass(frozen=True)
class Recipient:
    """Who hears of an event: a staff user, or a bare address (a client contact's email)."""

    user_id: int | None = None
    email: str = ""
    name: str = ""
    phone: str = ""
    kind: str = "user"  # "user" or "contact"


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    context: Callable[[Event], dict[str, Any]] | None = None
    recipients: Callable[[Event], list[Recipient]] | None = None
    # Channels used when a user has no stored preference, by role.
    default_channels: dict[str, tuple[str, ...]] = field(default_factory=dict)


REGISTRY: dict[str, EventType] = {}
_subscribers: list[Callable[[Event], None]] = []


def register(name: str, *, description: str,
             context: Callable[[Event], dict[str, Any]] | None = None,
             recipients: Callable[[Event], list[Recipient]] | None = None,
             default_channels: dict[str, tuple[str, ...]] | None = None) -> EventType:
    if name.count(".") < 1 or name != name.lower():
        raise ValueError(f"event types are lower-case dotted names, got {name!r}")
    event_type = EventType(name, description, context, recipients, default_channels or {})
    REGISTRY[name] = event_type
    return event_type


def subscribe(handler: Callable[[Event], None]) -> None:
    if handler not in _subscribers:
        _subscribers.append(handler)


def emit(type_: str, *, company_id: int, data: dict[str, Any] | None = None,
         actor: Any = None) -> Event:
    """Announce that something happened. Call it inside the action's transaction."""
    if type_ not in REGISTRY:
        raise KeyError(f"event type {type_!r} is not registered")
    event = Event(type=type_, company_id=company_id, data=dict(data or {}),
                  actor_id=getattr(actor, "pk", actor))
    for handler in list(_subscribers):
        handler(event)
    return event
