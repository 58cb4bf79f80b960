"""Domain events: dotted type names, a registry, and in-transaction dispatch.

Domain apps declare the events they emit (``register``) together with two callables: a
payload builder that turns the event into template context and a recipient resolver that
says who should hear of it. The notifications app subscribes (``subscribe``) without
importing any domain app; it writes its outbox rows inside the caller's transaction, so a
rolled-back action notifies nobody, and it sends only after commit.

Two options serve messages that carry a credential (a portal invitation, a password-reset
link): ``private=True`` keeps the event off every company-wide channel (outgoing webhooks,
the company's Slack channels), so only its recipients hear of it; ``render_context`` is
called each time a message is rendered, inside the company's scope, with the stored context,
and returns values that are added to it but never stored (the one-time link is built at send
time, so the outbox and its log hold no live token).

Higher apps react to what lower ones did with :func:`react`, called from their
``AppConfig.ready()``: one event type, one handler, run inside the emitting transaction.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Hashable, Iterable
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
    # Only the recipients hear of it: never posted to company webhooks or Slack channels.
    private: bool = False
    # Values built at send time from the stored context and never stored (one-time links).
    render_context: Callable[[dict[str, Any]], dict[str, Any]] | None = None


REGISTRY: dict[str, EventType] = {}
_reactions: dict[str, list[Callable[[Event], None]]] = {}
_subscribers: list[Callable[[Event], None]] = []
_batch_subscribers: list[Callable[[list[Event]], None]] = []
_batch: contextvars.ContextVar[tuple[list[Event], dict] | None] = contextvars.ContextVar(
    "nestogy_event_batch", default=None)


def register(name: str, *, description: str,
             context: Callable[[Event], dict[str, Any]] | None = None,
             recipients: Callable[[Event], list[Recipient]] | None = None,
             default_channels: dict[str, tuple[str, ...]] | None = None,
             private: bool = False,
             render_context: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
             ) -> EventType:
    if name.count(".") < 1 or name != name.lower():
        raise ValueError(f"event types are lower-case dotted names, got {name!r}")
    event_type = EventType(name, description, context, recipients, default_channels or {},
                           private=private, render_context=render_context)
    REGISTRY[name] = event_type
    return event_type


def react(type_: str, handler: Callable[[Event], None]) -> None:
    """Run ``handler(event)`` for every ``type_`` event, inside the emitting transaction.

    This is how a higher app reacts to a lower one (payments starts auto-pay when billing
    issues an invoice; tickets re-select SLA policies when one changes): the higher app calls
    ``react`` from its ``AppConfig.ready()``, so the dependency is visible where the app
    starts, and the lower app only names what happened. Reactions run in subscription order
    before notifications are written; an exception rolls the whole action back.
    """
    handlers = _reactions.setdefault(type_, [])
    if handler not in handlers:
        handlers.append(handler)


def reactions(type_: str) -> list[Callable[[Event], None]]:
    """The handlers subscribed to ``type_`` (tests and the architecture check read it)."""
    return list(_reactions.get(type_, ()))


def subscribe(handler: Callable[[Event], None]) -> None:
    if handler not in _subscribers:
        _subscribers.append(handler)


def subscribe_batch(handler: Callable[[list[Event]], None]) -> None:
    """Subscribe a handler that takes a list of events (one call per emit or emit_many)."""
    if handler not in _batch_subscribers:
        _batch_subscribers.append(handler)


def unsubscribe(handler: Callable) -> None:
    for registry in (_subscribers, _batch_subscribers, *_reactions.values()):
        if handler in registry:
            registry.remove(handler)


def emit(type_: str, *, company_id: int, data: dict[str, Any] | None = None,
         actor: Any = None) -> Event:
    """Announce that something happened. Call it inside the action's transaction."""
    return emit_many([(type_, data or {})], company_id=company_id, actor=actor)[0]


def emit_many(items: Iterable[tuple[str, dict[str, Any]]], *, company_id: int,
              actor: Any = None) -> list[Event]:
    """Announce many events of one company at once (a job's findings, a bulk action).

    Batch subscribers get the whole list in one call, so they can write their rows with a
    constant number of queries; payload builders and recipient resolvers may share lookups
    across the batch through :func:`memo` and :func:`current_batch`.
    """
    events: list[Event] = []
    for type_, data in items:
        if type_ not in REGISTRY:
            raise KeyError(f"event type {type_!r} is not registered")
        events.append(Event(type=type_, company_id=company_id, data=dict(data or {}),
                            actor_id=getattr(actor, "pk", actor)))
    if not events:
        return events
    token = _batch.set((events, {}))
    try:
        for event in events:
            for reaction in list(_reactions.get(event.type, ())):
                reaction(event)
        for batch_handler in list(_batch_subscribers):
            batch_handler(events)
        for handler in list(_subscribers):
            for event in events:
                handler(event)
    finally:
        _batch.reset(token)
    return events


def current_batch() -> list[Event]:
    """The events being dispatched right now (empty outside a dispatch)."""
    active = _batch.get()
    return active[0] if active else []


def memo(key: Hashable, factory: Callable[[], Any]) -> Any:
    """``factory()`` once per dispatched batch for ``key`` (every call outside a dispatch)."""
    active = _batch.get()
    if active is None:
        return factory()
    cache = active[1]
    if key not in cache:
        cache[key] = factory()
    return cache[key]
