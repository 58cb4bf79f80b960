"""/notifications (the caller's inbox), /notification-preferences and the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Router, Schema
from pydantic import Field

from nestogy.accounts.roles import require
from nestogy.api.pagination import paginate
from nestogy.api.schemas import Cursor, InputSchema, Limit, SecretState, responses, text
from nestogy.notifications import actions, preferences, queries
from nestogy.notifications.models import Channel, Delivery, Notification

router = Router(tags=["notifications"])
preferences_router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: str
    event: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class NotificationList(Schema):
    items: list[NotificationOut]
    next_cursor: str | None


class DeliveryOut(Schema):
    id: str
    event: str
    channel: str
    recipient: str
    recipient_user_id: str | None
    target: str
    status: str
    attempts: int
    last_error: str
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    sent_at: datetime | None
    created_at: datetime


class DeliveryList(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class PreferenceItem(Schema):
    event: str
    description: str
    channels: dict[str, bool]
    defaults: dict[str, bool]


class Addresses(Schema):
    """The caller's own addresses, write-only: whether set and the last 4 characters."""

    sms: SecretState
    slack: SecretState


class PreferencesOut(Schema):
    items: list[PreferenceItem]
    addresses: Addresses


ChannelName = Literal[preferences.USER_CHANNEL_VALUES]
EventName = Annotated[str, Field(min_length=1, max_length=100,
                                 description="a registered event type (GET lists them)")]


class PreferenceChange(InputSchema):
    event: EventName
    channel: ChannelName
    enabled: bool | None


class PreferenceItemIn(InputSchema):
    """One event as GET answers it; ``channels`` are the channels wanted."""

    event: EventName
    channels: dict[ChannelName, bool]
    description: str | None = Field(None, description="read-only; ignored in a request",
                                    json_schema_extra={"readOnly": True})
    defaults: dict[str, Any] | None = Field(None, description="read-only; ignored in a "
                                            "request", json_schema_extra={"readOnly": True})


class AddressStateIn(InputSchema):
    """An address as GET shows it (write-only state): sent back, it keeps the stored address."""

    set: bool
    last4: text(4) | None = None
    count: Annotated[int, Field(ge=0, le=1000)] | None = None
    error: text(200) | None = None


class AddressesIn(InputSchema):
    """A new address (text; empty removes it), or the state GET answered (kept as is)."""

    sms: text(1000) | AddressStateIn | None = None
    slack: text(1000) | AddressStateIn | None = None


class PreferencesIn(InputSchema):
    preferences: list[PreferenceChange] = Field([], max_length=1000)
    items: list[PreferenceItemIn] | None = Field(
        None, max_length=1000, description="the effective channels per event, in the form "
        "GET answers; only what differs is stored")
    addresses: AddressesIn | None = None


def notification_out(n: Notification) -> dict:
    return {"id": n.public_id, "event": n.event_type, "title": n.title, "body": n.body,
            "created_at": n.created_at, "read_at": n.read_at}


def delivery_out(d: Delivery) -> dict:
    return {
        "id": d.public_id, "event": d.event_type, "channel": d.channel,
        "recipient": d.recipient_label,
        "recipient_user_id": d.recipient_user.public_id if d.recipient_user_id else None,
        # Apprise and webhook URLs carry tokens: scheme and host only.
        "target": d.shown_target, "status": d.status, "attempts": d.attempts,
        "last_error": d.last_error, "next_attempt_at": d.next_attempt_at,
        "last_attempt_at": d.last_attempt_at, "sent_at": d.sent_at, "created_at": d.created_at,
    }


@router.get("", response=responses({200: NotificationList}), summary="My in-app notifications")
def list_notifications(request, limit: int = Limit(), cursor: str | None = Cursor(),
                       unread: bool | None = None):
    require(request.auth, "notifications.own")
    qs = queries.inbox(request.auth, unread=unread)
    rows, next_cursor = paginate(qs, limit=limit, cursor=cursor, order=("-created_at", "-id"))
    return {"items": [notification_out(n) for n in rows], "next_cursor": next_cursor}


@router.get("/deliveries", response=responses({200: DeliveryList}),
            summary="The company's delivery log (every message on every channel)")
def list_deliveries(request, limit: int = Limit(), cursor: str | None = Cursor(),
                    status: Literal[tuple(Delivery.Status.values)] | None = None,
                    channel: Literal[tuple(Channel.values)] | None = None,
                    event: text(100) | None = None):
    require(request.auth, "notifications.deliveries")
    qs = queries.deliveries(status=status, channel=channel, event=event)
    rows, next_cursor = paginate(qs, limit=limit, cursor=cursor, order=("-created_at", "-id"))
    return {"items": [delivery_out(d) for d in rows], "next_cursor": next_cursor}


class ReadAllOut(Schema):
    updated: int


@router.post("/read-all", response=responses({200: ReadAllOut}),
             summary="Mark all my notifications read")
def read_all_notifications(request):
    require(request.auth, "notifications.own")
    return {"updated": actions.mark_all_read(request.auth)}


@router.post("/{notification_id}/read", response=responses({200: NotificationOut}),
             summary="Mark one of my notifications read")
def read_notification(request, notification_id: str):
    require(request.auth, "notifications.own")
    notification = queries.get_notification_for(request.auth, notification_id)
    return notification_out(actions.mark_read(notification, actor=request.auth.user))


@preferences_router.get("", response=responses({200: PreferencesOut}),
                        summary="My notification preferences (effective channels per event)")
def get_preferences(request):
    require(request.auth, "notifications.own")
    return queries.effective_preferences(request.auth)


@preferences_router.put("", response=responses({200: PreferencesOut}),
                        summary="Change my notification preferences and channel addresses")
def put_preferences(request, payload: PreferencesIn):
    require(request.auth, "notifications.own")
    addresses = {channel: value for channel, value in
                 (payload.addresses.model_dump(exclude_unset=True) if payload.addresses
                  else {}).items()
                 if not isinstance(value, dict)}  # a state object keeps the stored address
    actions.update_preferences(request.auth, [p.model_dump() for p in payload.preferences],
                               addresses,
                               [i.model_dump(include={"event", "channels"})
                                for i in payload.items or []])
    return queries.effective_preferences(request.auth)
