"""Turning one emitted event into outbox rows: recipients × channels, in bulk.

:func:`handle_event` is subscribed to :mod:`nestogy.core.events` when the app starts. It runs
inside the emitting action's transaction: it stores the event with its template context,
resolves recipients, reads preferences (one cached read per event type), resolves each
channel's target and bulk-inserts the deliveries in batches. Sending is enqueued with
``enqueue_on_commit``, so a rolled-back action leaves no rows and sends nothing.

The number of queries does not depend on the number of recipients (apart from one INSERT per
``BATCH`` rows): memberships, channel addresses and webhooks are each read once.

Grouping: when one batch carries two or more events of a type in :data:`GROUPED` (the SLA
checker's warnings, breaches and escalations), each recipient gets ONE message per channel
(one delivery per channel and target) listing them, built by the type's digest builder; a
channel and target that would have received a single one of them gets that event as it
reads on its own. Outgoing webhooks receive one digest per batch whose ``items`` list every
event (the documented batch payload), instead of one request per event.

The business rules this implements: docs/semantics.md#notifications.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from nestogy.accounts.models import Membership
from nestogy.core import events
from nestogy.core.secrets import UndecryptableSecret
from nestogy.core.tasks import enqueue_on_commit
from nestogy.notifications import preferences
from nestogy.notifications.models import (
    Channel,
    ChannelAddress,
    Delivery,
    StoredEvent,
    WebhookEndpoint,
)
from nestogy.tenancy import company_settings
from nestogy.tenancy.models import Company

logger = logging.getLogger(__name__)

BATCH = 1000
IN_LIST_LIMIT = 500
GROUP_AS = "group_as"  # event data key: the digest event type a batch is grouped into


@dataclass(frozen=True)
class Planned:
    channel: str
    target: str
    user_id: int | None = None
    name: str = ""
    webhook_id: int | None = None


class _ContextEncoder(DjangoJSONEncoder):
    """Decimals, dates, UUIDs as Django encodes them; anything else (a model instance a
    payload builder forgot to flatten) as its ``str()``, with a warning, rather than failing
    the business action that emitted the event."""

    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            logger.warning("event context value %r is not JSON; stored as text", type(o))
            return str(o)


def _jsonable(value):
    return json.loads(json.dumps(value, cls=_ContextEncoder))


def handle_event(event: events.Event) -> StoredEvent | None:
    """Write the outbox rows for one event and enqueue their sending after commit (None: the
    event has no recipient and no webhook wants it, so nothing is stored)."""
    stored = handle_events([event])
    return stored[0] if stored else None


def handle_events(batch: list[events.Event]) -> list[StoredEvent]:
    """Write the outbox rows for a batch of one company's events, with a constant number of
    queries for the whole batch (besides what payload builders and resolvers need), and
    enqueue their sending after commit. Returns the stored events: an event with no recipient
    and no webhook wanting it is neither built nor stored."""
    if not batch:
        return []
    company_id = batch[0].company_id
    with scope(company=company_id):
        return _handle(company_id, batch)


def _handle(company_id: int, batch: list[events.Event]) -> list[StoredEvent]:
    grouped = [e for e in batch if e.data.get(GROUP_AS) in events.REGISTRY]
    if len(grouped) < 2:
        return _handle_each(company_id, batch)
    others = [e for e in batch if e.data.get(GROUP_AS) not in events.REGISTRY]
    stored = _handle_each(company_id, others) if others else []
    stored += _handle_grouped(company_id, grouped)
    return stored


def _handle_each(company_id: int, batch: list[events.Event]) -> list[StoredEvent]:
    with_recipients = []
    for event in batch:
        definition = events.REGISTRY[event.type]
        recipients = definition.recipients(event) if definition.recipients else []
        with_recipients.append((event, definition, recipients))
    lookups = Lookups.load(company_id, {r.user_id for _, _, rs in with_recipients for r in rs
                                        if r.user_id})
    resolved = []
    for event, definition, recipients in with_recipients:
        if not recipients and (definition.private
                               or not any(h.wants(event.type) for h in lookups.hooks)):
            continue  # nobody hears of it: no context built, nothing stored
        context = definition.context(event) if definition.context else dict(event.data)
        resolved.append((event, context, recipients))
    if not resolved:
        return []
    stored = StoredEvent.objects.bulk_create([
        StoredEvent(company_id=event.company_id, type=event.type, context=_jsonable(context),
                    attachments=_jsonable(list(event.data.get("attachments") or [])),
                    actor_id=event.actor_id, occurred_at=event.occurred_at)
        for event, context, _ in resolved])
    rows: list[Delivery] = []
    for (event, _, recipients), stored_event in zip(resolved, stored, strict=True):
        rows.extend(Delivery(company_id=company_id, event=stored_event, event_type=event.type,
                             channel=p.channel, target=p.target, recipient_user_id=p.user_id,
                             recipient_name=p.name[:200], webhook_id=p.webhook_id,
                             next_attempt_at=event.occurred_at)
                    for p in plan(company_id, event.type, recipients, lookups=lookups))
    for start in range(0, len(rows), BATCH):
        Delivery.objects.bulk_create(rows[start:start + BATCH])
    if rows:
        from nestogy.notifications.tasks import send_event_deliveries

        if len(stored) == 1:
            enqueue_on_commit(send_event_deliveries, company_id, stored[0].pk)
        else:
            enqueue_on_commit(send_event_deliveries, company_id)
    return stored


def _handle_grouped(company_id: int, batch: list[events.Event]) -> list[StoredEvent]:
    """One delivery per channel and target for a batch of groupable events (see above)."""
    recipients = []
    user_ids: set[int] = set()
    for event in batch:
        definition = events.REGISTRY[event.type]
        found = definition.recipients(event) if definition.recipients else []
        recipients.append(found)
        user_ids.update(r.user_id for r in found if r.user_id)
    lookups = Lookups.load(company_id, user_ids)
    plans: dict[tuple, list[Planned]] = {}
    by_target: dict[tuple, tuple[Planned, list[int]]] = {}
    for i, (event, found) in enumerate(zip(batch, recipients, strict=True)):
        key = (event.type, tuple(found))
        planned = plans.get(key)
        if planned is None:
            planned = plans[key] = plan(company_id, event.type, found, lookups=lookups)
        for p in planned:
            target = (p.channel, str(p.user_id) if p.channel == Channel.INAPP else p.target,
                      p.webhook_id)
            by_target.setdefault(target, (p, []))[1].append(i)
    singles: dict[int, list[Planned]] = {}
    digests: dict[tuple, list[Planned]] = {}
    for p, indexes in by_target.values():
        if len(indexes) == 1:
            singles.setdefault(indexes[0], []).append(p)
        else:
            digests.setdefault((p.channel == Channel.WEBHOOK, tuple(indexes)), []).append(p)
    now = timezone.now()
    to_store: list[tuple[StoredEvent, list[Planned], str]] = []
    single_events = [batch[i] for i in sorted(singles)]
    # A single alert reads as it does on its own: its own context (the ticket read for the
    # singles only, not for the whole batch).
    token = events._batch.set((single_events, {}))  # payload builders share lookups
    try:
        for i, event in zip(sorted(singles), single_events, strict=True):
            definition = events.REGISTRY[event.type]
            context = definition.context(event) if definition.context else dict(event.data)
            to_store.append((StoredEvent(
                company_id=company_id, type=event.type, context=_jsonable(context),
                attachments=[], actor_id=event.actor_id, occurred_at=event.occurred_at),
                singles[i], event.type))
    finally:
        events._batch.reset(token)
    for (webhook, indexes), planned in digests.items():
        digest_type = batch[indexes[0]].data[GROUP_AS]
        digest = events.REGISTRY[digest_type]
        members = [(batch[i].type, batch[i].data) for i in indexes]
        context = digest.context(events.Event(
            type=digest_type, company_id=company_id, actor_id=batch[indexes[0]].actor_id,
            data={"events": members, "every_item": webhook}))
        to_store.append((StoredEvent(
            company_id=company_id, type=digest_type, context=_jsonable(context),
            attachments=[], actor_id=batch[indexes[0]].actor_id, occurred_at=now),
            planned, digest_type))
    stored = StoredEvent.objects.bulk_create([item[0] for item in to_store])
    rows = [Delivery(company_id=company_id, event=stored_event, event_type=type_,
                     channel=p.channel, target=p.target, recipient_user_id=p.user_id,
                     recipient_name=p.name[:200], webhook_id=p.webhook_id,
                     next_attempt_at=stored_event.occurred_at)
            for stored_event, (_, planned, type_) in zip(stored, to_store, strict=True)
            for p in planned]
    for start in range(0, len(rows), BATCH):
        Delivery.objects.bulk_create(rows[start:start + BATCH])
    if rows:
        from nestogy.notifications.tasks import send_event_deliveries

        enqueue_on_commit(send_event_deliveries, company_id)
    return stored


@dataclass
class Lookups:
    """What planning needs from the database, read once per batch of events."""

    members: dict[int, tuple[str, str, str]]
    addresses: dict[tuple[int, str], str]
    company: Company
    hooks: list[WebhookEndpoint]
    choices: dict[str, dict]
    secrets: dict[str, object] = field(default_factory=dict)

    @classmethod
    def load(cls, company_id: int, user_ids: set[int]) -> Lookups:
        members: dict[int, tuple[str, str, str]] = {}
        addresses: dict[tuple[int, str], str] = {}
        with scopes_disabled():
            if user_ids:
                # A few recipients: filter by id. Many: read the company's members once
                # instead of sending thousands of ids as query parameters.
                member_qs = Membership.objects.filter(company_id=company_id, is_active=True,
                                                      user__is_active=True)
                address_qs = ChannelAddress.objects.filter(company_id=company_id)
                if len(user_ids) <= IN_LIST_LIMIT:
                    member_qs = member_qs.filter(user_id__in=user_ids)
                    address_qs = address_qs.filter(user_id__in=user_ids)
                for uid, role, email, name in member_qs.values_list(
                        "user_id", "role", "user__email", "user__name"):
                    if uid in user_ids:
                        members[uid] = (role, email, name)
                try:
                    for uid, channel, address in address_qs.values_list("user_id", "channel",
                                                                        "address"):
                        if uid in user_ids:
                            addresses[(uid, channel)] = address
                except UndecryptableSecret as exc:
                    # A key problem must not fail the business action that emitted the event.
                    logger.error("users' channel addresses of company %s unreadable, SMS and "
                                 "Slack to personal addresses skipped: %s", company_id, exc)
                    addresses = {}
            company = Company.objects.only("settings").get(pk=company_id)
            # Planning needs no signing secret (the webhook transport reads it when sending).
            hooks = list(WebhookEndpoint.objects.filter(company_id=company_id, is_active=True)
                         .defer("secret"))
        return cls(members, addresses, company, hooks, {})

    def company_secret(self, key: str):
        """A secret company setting (decrypted once per batch), or its default, logged,
        when it cannot be decrypted."""
        if key not in self.secrets:
            try:
                self.secrets[key] = self.company.get_secret(key)
            except UndecryptableSecret as exc:
                logger.error("company %s setting %s unreadable, not used: %s", self.company.pk,
                             key, exc)
                self.secrets[key] = company_settings.REGISTRY[key].default
        return self.secrets[key]

    def choices_for(self, company_id: int, event_type: str) -> dict:
        if event_type not in self.choices:
            self.choices[event_type] = preferences.stored_choices(company_id, event_type)
        return self.choices[event_type]


def plan(company_id: int, event_type: str, recipients: list[events.Recipient],
         *, lookups: Lookups | None = None) -> list[Planned]:
    """Who gets what on which channel, deduplicated by (channel, target)."""
    user_ids = {r.user_id for r in recipients if r.user_id}
    if lookups is None:
        lookups = Lookups.load(company_id, user_ids)
    members, addresses = lookups.members, lookups.addresses
    definition = events.REGISTRY.get(event_type)
    private = definition is not None and definition.private
    # A private event (one carrying a credential) reaches its recipients only.
    hooks = [] if private else [h for h in lookups.hooks if h.wants(event_type)]
    slack_urls = [] if private else [
        u for u in lookups.company_secret("notifications.slack_urls") if u]
    sms_url = lookups.company_secret("notifications.sms_url")
    choices = lookups.choices_for(company_id, event_type) if user_ids else {}

    out: list[Planned] = []
    seen: set[tuple[str, str]] = set()

    def add(item: Planned) -> None:
        key = (item.channel, item.target if item.channel != Channel.INAPP else str(item.user_id))
        if key not in seen:
            seen.add(key)
            out.append(item)

    for r in recipients:
        if r.user_id:
            member = members.get(r.user_id)
            if member is None:
                continue  # not (or no longer) an active member of this company
            role, email, name = member
            channels = preferences.channels_for(event_type, role, choices.get(r.user_id))
            name = r.name or name or email
            phone = addresses.get((r.user_id, Channel.SMS), r.phone)
            own_url = (r.user_id, Channel.SMS) in addresses
            slack = addresses.get((r.user_id, Channel.SLACK), "")
        else:
            channels = [c for c in preferences.default_channels(event_type, "contact")
                        if c in (Channel.EMAIL, Channel.SMS)]
            email, name, phone, slack = r.email, r.name or r.email, r.phone, ""
            own_url = False
        for channel in channels:
            if channel == Channel.EMAIL and email:
                add(Planned(channel, email, r.user_id, name))
            elif channel == Channel.INAPP and r.user_id:
                add(Planned(channel, "", r.user_id, name))
            elif channel == Channel.SMS and phone:
                target = sms_target(phone, sms_url, allow_url=own_url)
                if target:
                    add(Planned(channel, target, r.user_id, name))
            elif channel == Channel.SLACK:
                for url in ([slack] if slack else slack_urls):
                    # A company channel is posted to once per event, not once per user.
                    add(Planned(channel, url, r.user_id if slack else None,
                                name if slack else "company Slack"))
    for hook in hooks:
        add(Planned(Channel.WEBHOOK, hook.url, None, hook.name, hook.pk))
    return out


def sms_target(phone: str, gateway_url: str, *, allow_url: bool = False) -> str:
    """An Apprise URL for one phone: the company gateway's template with the number in it.

    A user's own SMS address may itself be an Apprise URL (``allow_url``: it was checked
    against the SMS allow-list when saved); a phone field of a contact or an event that
    looks like a URL is not a number and is skipped.
    """
    if "://" in phone:
        return phone if allow_url else ""
    if not gateway_url or "{phone}" not in gateway_url:
        logger.info("no SMS gateway configured; SMS to %s skipped", phone[-4:])
        return ""
    return gateway_url.replace("{phone}", "".join(ch for ch in phone if ch.isdigit() or ch == "+"))
