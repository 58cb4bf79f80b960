"""Sending the outbox: claim due deliveries atomically, send them in batches, record outcomes.

Claiming: inside a short transaction, due ``queued`` rows are selected with
``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; on SQLite the IMMEDIATE transaction holds
the write lock instead) and their ``next_attempt_at`` is pushed one lease ahead, so no other
sender sees them. If a sender dies mid-batch, its rows become due again when the lease
expires (at-least-once, like every outbox). The same claim serves the after-commit task of one
event and the per-minute retry poller.

Outcomes: sent → ``sent``; :class:`PermanentError` or a :class:`RenderError` → ``failed`` at
once; :class:`TransientError` (or an unexpected exception) → retried after an exponential
backoff (1, 2, 4, … minutes, capped) until ``NESTOGY_NOTIFY_MAX_ATTEMPTS``, then ``failed``.
Each attempt adds a :class:`DeliveryAttempt` row. Results are written with one
``bulk_update`` and one ``bulk_create`` per batch.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from nestogy.core import events
from nestogy.core.secrets import scrub
from nestogy.notifications import conf
from nestogy.notifications.models import Delivery, DeliveryAttempt
from nestogy.notifications.render import Renderer, RenderError, load_overrides
from nestogy.notifications.transports import PermanentError, TransientError, transport_for

logger = logging.getLogger(__name__)

RESULT_FIELDS = ["status", "attempts", "last_error", "next_attempt_at", "last_attempt_at",
                 "sent_at", "updated_at"]


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed tries: base × 2^(n-1), capped."""
    seconds = conf.backoff_base() * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, conf.backoff_cap()))


def claim(*, company_id: int | None = None, event_id: int | None = None,
          limit: int | None = None) -> list[Delivery]:
    """Claim up to ``limit`` due queued deliveries; return them ready to send."""
    now = timezone.now()
    limit = limit or conf.batch_size()
    with scopes_disabled():
        qs = Delivery.objects.filter(status=Delivery.Status.QUEUED, next_attempt_at__lte=now)
        if company_id is not None:
            qs = qs.filter(company_id=company_id)
        if event_id is not None:
            qs = qs.filter(event_id=event_id)
        with transaction.atomic():
            ids = list(qs.order_by("next_attempt_at", "id")
                       .select_for_update(skip_locked=True)
                       .values_list("id", flat=True)[:limit])
            if not ids:
                return []
            Delivery.objects.filter(id__in=ids).update(
                next_attempt_at=now + timedelta(seconds=conf.claim_lease_seconds()))
        return list(Delivery.objects.filter(id__in=ids)
                    .select_related("event", "company", "webhook").order_by("id"))


def send_batch(deliveries: list[Delivery]) -> dict[str, int]:
    """Send claimed deliveries (any companies); return counts by resulting status."""
    by_company: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_company[delivery.company_id].append(delivery)
    counts: dict[str, int] = defaultdict(int)
    with scopes_disabled():
        overrides = load_overrides(by_company, {d.event_type for d in deliveries})
    renderer = Renderer(overrides)
    for company_id, rows in by_company.items():
        with scope(company=company_id):
            for status, n in _send_company(rows, renderer).items():
                counts[status] += n
    return dict(counts)


def delivery_context(delivery: Delivery) -> dict[str, Any]:
    """What a delivery's templates render with (also the template editor's preview)."""
    return _context(delivery)


def _context(delivery: Delivery) -> dict[str, Any]:
    context = dict(delivery.event.context or {})
    context.setdefault("recipient", {"name": delivery.recipient_name, "email":
                                     delivery.target if delivery.channel == "email" else ""})
    context.setdefault("company", {"name": delivery.company.name})
    context.setdefault("event", {"type": delivery.event_type,
                                 "occurred_at": delivery.event.occurred_at})
    definition = events.REGISTRY.get(delivery.event_type)
    if definition is not None and definition.render_context is not None:
        # Values built now and never stored (a one-time link); runs in the company's scope.
        try:
            context.update(definition.render_context(dict(context)))
        except Exception as exc:
            raise RenderError(f"the {delivery.event_type} message cannot be built: "
                              f"{type(exc).__name__}: {exc}") from exc
    return context


def _send_company(rows: list[Delivery], renderer: Renderer) -> dict[str, int]:
    now = timezone.now()
    outcomes: dict[int, tuple[str, str]] = {}
    by_channel: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in rows:
        by_channel[delivery.channel].append(delivery)
    for channel, group in by_channel.items():
        try:
            transport = transport_for(channel)
        except PermanentError as exc:
            outcomes.update({d.pk: ("permanent", str(exc)) for d in group})
            continue
        transport.open()
        sent_here = []
        try:
            for delivery in group:
                try:
                    rendered = None
                    if transport.needs_rendering:
                        rendered = renderer.render(delivery.company_id, delivery.event_type,
                                                   channel, _context(delivery))
                    transport.send(delivery, rendered)
                except (RenderError, PermanentError) as exc:
                    outcomes[delivery.pk] = ("permanent", str(exc))
                except TransientError as exc:
                    outcomes[delivery.pk] = ("transient", str(exc))
                except Exception as exc:
                    message = scrub(f"{type(exc).__name__}: {exc}", delivery.target)
                    if "://" in delivery.target:
                        # The traceback's message may quote the URL and its credentials.
                        logger.error("delivery %s failed unexpectedly: %s", delivery.public_id,
                                     message)
                    else:
                        logger.exception("delivery %s failed unexpectedly", delivery.public_id)
                    outcomes[delivery.pk] = ("transient", message)
                else:
                    outcomes[delivery.pk] = ("sent", "")
                    sent_here.append(delivery)
        finally:
            try:
                transport.close()
            except Exception as exc:
                logger.exception("closing the %s transport failed", channel)
                for delivery in sent_here:
                    outcomes[delivery.pk] = ("transient", f"{type(exc).__name__}: {exc}")
    # Network I/O happened outside any transaction; the results are written in one.
    with transaction.atomic():
        return _record(rows, outcomes, now)


def _record(rows: list[Delivery], outcomes: dict[int, tuple[str, str]], now) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    attempts = []
    limit = conf.max_attempts()
    for delivery in rows:
        outcome, error = outcomes[delivery.pk]
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.updated_at = now
        delivery.last_error = error[:2000]
        if outcome == "sent":
            delivery.status = Delivery.Status.SENT
            delivery.sent_at = now
            delivery.next_attempt_at = None
        elif outcome == "transient" and delivery.attempts < limit:
            delivery.status = Delivery.Status.QUEUED
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        else:
            if outcome == "transient":
                delivery.last_error = f"gave up after {delivery.attempts} attempts: {error}"[:2000]
            delivery.status = Delivery.Status.FAILED
            delivery.next_attempt_at = None
        counts[delivery.status] += 1
        attempts.append(DeliveryAttempt(company_id=delivery.company_id, delivery=delivery,
                                        number=delivery.attempts, attempted_at=now,
                                        outcome=outcome, error=error[:2000]))
    Delivery.objects.bulk_update(rows, RESULT_FIELDS, batch_size=500)
    DeliveryAttempt.objects.bulk_create(attempts, batch_size=1000)
    return counts


def send_due(*, company_id: int | None = None, event_id: int | None = None,
             max_batches: int = 100) -> dict[str, int]:
    """Claim and send due deliveries batch after batch until none are due (or the cap)."""
    totals: dict[str, int] = defaultdict(int)
    for _ in range(max_batches):
        batch = claim(company_id=company_id, event_id=event_id)
        if not batch:
            break
        for status, n in send_batch(batch).items():
            totals[status] += n
    return dict(totals)
