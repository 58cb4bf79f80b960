"""/notifications (the caller's inbox), /notification-preferences and the delivery log."""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router, Schema

from nestogy.accounts.roles import require
from nestogy.api.pagination import paginate
from nestogy.api.schemas import InputSchema, SecretState, responses
from nestogy.notifications import actions, queries
from nestogy.notifications.models import Delivery, Notification

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


class PreferenceChange(InputSchema):
    event: str
    channel: str
    enabled: bool | None


class AddressesIn(InputSchema):
    sms: str | None = None
    slack: str | None = None


class PreferencesIn(InputSchema):
    preferences: list[PreferenceChange] = []
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
def list_notifications(request, limit: int = Query(50), cursor: str | None = None,
                       unread: bool | None = None):
    require(request.auth, "notifications.own")
    qs = queries.inbox(request.auth, unread=unread)
    rows, next_cursor = paginate(qs, limit=limit, cursor=cursor, order=("-created_at", "-id"))
    return {"items": [notification_out(n) for n in rows], "next_cursor": next_cursor}


@router.get("/deliveries", response=responses({200: DeliveryList}),
            summary="The company's delivery log (every message on every channel)")
def list_deliveries(request, limit: int = Query(50), cursor: str | None = None,
                    status: str | None = None, channel: str | None = None,
                    event: str | None = None):
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
    addresses = payload.addresses.model_dump(exclude_unset=True) if payload.addresses else {}
    actions.update_preferences(request.auth, [p.model_dump() for p in payload.preferences],
                               addresses)
    return queries.effective_preferences(request.auth)
