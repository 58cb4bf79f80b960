"""Send a test to the company's own channels: its Slack URLs and its SMS gateway.

The owner or admin who set ``notifications.slack_urls`` or ``notifications.sms_url``
(:mod:`nestogy.notifications.conf`) checks them here without waiting for a real alert:

- :func:`send_test_slack`: one delivery to each configured company Slack URL;
- :func:`send_test_sms`: one SMS to the asking user's own number (:func:`queries.phone_number`)
  through the company gateway's template (:func:`fanout.sms_target`).

Both queue real :class:`Delivery` rows in the outbox, like :func:`overrides.send_test` and
:func:`webhooks.send_test`: the message is the company's latest stored event that is not
private (:attr:`EventType.private`: it never goes to company channels) and has wording
(:func:`overrides.rewordable`), rendered with the saved wording and sent by the real Apprise
transport (allow-lists, egress rules, retries, the delivery log). Each test is audited
``notification.test_sent`` with the channel, the event type and how many addresses (never a
URL: they carry credentials). A refusal (:class:`Conflict`) names the reason and writes nothing.
A test of the same channel (for SMS: to the same person) less than :data:`PAUSE` ago is
refused, so a double click or an impatient repeat does not send (and pay for) the same
message twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, Subquery
from django.utils import timezone

from nestogy.audit.actions import log_action
from nestogy.audit.models import AuditEntry
from nestogy.core import events
from nestogy.core.errors import Conflict
from nestogy.core.secrets import UndecryptableSecret
from nestogy.core.tasks import enqueue_on_commit
from nestogy.notifications import fanout, overrides, queries
from nestogy.notifications.models import Channel, Delivery, StoredEvent
from nestogy.tenancy.models import Company

NO_SAMPLE = ("no notification has gone out yet that a company channel may receive (a ticket "
             "opened, for instance), so there is nothing to send as a test")


@dataclass(frozen=True)
class ChannelTest:
    """What a test queued: its deliveries, the event they carry, and (SMS) the number's last
    four digits, which is all a page shows of it."""

    deliveries: list[Delivery]
    event_type: str
    phone_last4: str = ""


def sample_types() -> list[str]:
    """The event types a test may carry: not private, with wording a company may change."""
    return sorted(name for name, definition in events.REGISTRY.items()
                  if not definition.private and overrides.rewordable(name))


def latest_sample(company) -> StoredEvent | None:
    """The company's latest stored event a test may carry (None: none yet).

    One statement whose cost does not grow with the company's events: per event type, the
    newest row by the ``(company, type, occurred_at)`` index (a ``LIMIT 1`` subquery each),
    then the newest of those. ``type IN (...) ORDER BY occurred_at`` instead reads every
    event of those types (42 ms at 200,000 events of the company on PostgreSQL, against 0.4 ms)."""
    newest = Q()
    for event_type in sample_types():
        newest |= Q(pk=Subquery(StoredEvent.objects.filter(
            company_id=company.pk, type=event_type).order_by("-occurred_at", "-id")
            .values("pk")[:1]))
    return StoredEvent.objects.filter(newest).order_by("-occurred_at", "-id").first()


def status(company, user) -> dict:
    """What a page may say about the company's channels before a test: how many Slack URLs,
    whether the SMS gateway is set, the last four digits of ``user``'s own number and the
    event a test would carry. Counts and states only: never a URL or a whole number."""
    slack = company.secret_state("notifications.slack_urls")
    gateway = company.secret_state("notifications.sms_url")
    try:
        phone = queries.phone_number(company, user)
    except UndecryptableSecret:
        phone = ""
    sample = latest_sample(company)
    definition = events.REGISTRY.get(sample.type) if sample else None
    return {"slack_count": slack.get("count", 0) if slack.get("set") else 0,
            "sms_gateway": bool(gateway.get("set")), "phone_last4": _last4(phone),
            "sample": sample, "sample_label": definition.description if definition else ""}


def _last4(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())[-4:]


def _secret(company, key: str, what: str):
    try:
        return company.get_secret(key)
    except UndecryptableSecret:
        raise Conflict(f"the stored {what} cannot be decrypted with the server's keys; "
                       "set it again") from None


def slack_urls(company) -> list[str]:
    """The company's Slack URLs (secret: for sending only), without blanks or repeats."""
    urls = _secret(company, "notifications.slack_urls", "Slack URLs") or []
    return list(dict.fromkeys(u for u in urls if isinstance(u, str) and u.strip()))


PAUSE = timedelta(seconds=60)


def _not_just_sent(company, channel: str, user=None) -> None:
    # The company row is locked until commit, so two clicks at once are taken in turn and
    # the second one sees the first one's audit entry.
    Company.objects.select_for_update().only("pk").get(pk=company.pk)
    recent = AuditEntry.objects.filter(
        company_id=company.pk, action="notification.test_sent", data__channel=channel,
        created_at__gte=timezone.now() - PAUSE)
    if user is not None:
        recent = recent.filter(actor=user)
    if recent.exists():
        raise Conflict(f"a test was sent to {'Slack' if channel == 'slack' else 'your number'}"
                       " less than a minute ago; its outcome is in the delivery log")


def _queue(company, sample: StoredEvent, planned: list[tuple[str, str, object, str]]
           ) -> list[Delivery]:
    now = timezone.now()
    return [Delivery.objects.create(
        company=company, event=sample, event_type=sample.type, channel=channel, target=target,
        recipient_user=user, recipient_name=name[:200], next_attempt_at=now)
        for channel, target, user, name in planned]


@transaction.atomic
def send_test_slack(company, *, actor=None) -> ChannelTest:
    """Queue the latest event to every company Slack URL (see module)."""
    from nestogy.notifications.tasks import send_event_deliveries

    urls = slack_urls(company)
    if not urls:
        raise Conflict("no company Slack URL is set (Notifications, Slack urls)")
    sample = latest_sample(company)
    if sample is None:
        raise Conflict(NO_SAMPLE)
    _not_just_sent(company, "slack")
    # As the fan-out plans a company channel: no user, posted to once per URL.
    queued = _queue(company, sample, [(Channel.SLACK, url, None, "company Slack")
                                      for url in urls])
    log_action(company, "notification.test_sent", actor=actor, company=company,
               data={"channel": "slack", "event_type": sample.type, "addresses": len(urls)})
    enqueue_on_commit(send_event_deliveries, company.pk, sample.pk)
    return ChannelTest(queued, sample.type)


@transaction.atomic
def send_test_sms(company, user, *, actor=None) -> ChannelTest:
    """Queue the latest event as an SMS to ``user``'s own number through the company
    gateway (see module)."""
    from nestogy.notifications.tasks import send_event_deliveries

    gateway = _secret(company, "notifications.sms_url", "SMS gateway URL") or ""
    if not gateway.strip():
        raise Conflict("no SMS gateway is set (Notifications, Sms url)")
    if "{phone}" not in gateway:
        raise Conflict("the SMS gateway URL has no {phone} where the number goes")
    try:
        phone = queries.phone_number(company, user)
    except UndecryptableSecret:
        raise Conflict("your stored SMS number cannot be decrypted with the server's keys; "
                       "set it again") from None
    if not phone:
        raise Conflict("you have no phone number for SMS: set your own number in "
                       "international form, such as +15551234567 (your notification "
                       "preferences, addresses.sms)")
    sample = latest_sample(company)
    if sample is None:
        raise Conflict(NO_SAMPLE)
    _not_just_sent(company, "sms", user)
    target = fanout.sms_target(phone, gateway)
    queued = _queue(company, sample, [(Channel.SMS, target, user,
                                       getattr(user, "name", "") or user.email)])
    last4 = _last4(phone)
    log_action(company, "notification.test_sent", actor=actor, company=company,
               data={"channel": "sms", "event_type": sample.type, "to": user.email,
                     "phone_last4": last4})
    enqueue_on_commit(send_event_deliveries, company.pk, sample.pk)
    return ChannelTest(queued, sample.type, last4)
