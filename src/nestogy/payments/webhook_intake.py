"""Receiving gateway webhooks in the web request: verify the signature, store the event once,
enqueue its processing (:mod:`nestogy.payments.webhooks`) after commit.

A bad signature or a stale timestamp raises ``VerificationFailed`` and the endpoint answers
400 with one message whatever the reason, so the answer tells nothing about which secrets
exist (docs/payments.md). The event is stored under a unique ``(gateway, event_id)``
constraint: a replayed event id stores and enqueues nothing again.
"""

from __future__ import annotations

import json
import logging

from django.db import IntegrityError, transaction

from nestogy.core.tasks import enqueue_on_commit
from nestogy.payments.gateways import get_gateway
from nestogy.payments.models import WebhookEvent
from nestogy.payments.signature import SignatureError, VerificationFailed
from nestogy.payments.tasks import process_webhook_event
from nestogy.tenancy.models import Company

logger = logging.getLogger("nestogy.payments.webhooks")


def _metadata_company(payload: bytes) -> Company | None:
    """The company an (unverified) payload claims, only to choose which secret to try."""
    try:
        obj = json.loads(payload)["data"]["object"]
        public_id = (obj.get("metadata") or {}).get("nestogy_company")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not public_id or not isinstance(public_id, str):
        return None
    return Company.objects.filter(public_id=public_id).first()


def receive(gateway_name: str, payload: bytes, headers: dict[str, str], *,
            now: float | None = None) -> tuple[WebhookEvent, bool]:
    """Verify and store one webhook; returns ``(event, created)``.

    Any verification failure raises :class:`~nestogy.payments.signature.VerificationFailed`
    (one code and message, whatever the reason; the reason is logged).
    """
    company = _metadata_company(payload)
    installation = get_gateway(gateway_name)
    secrets = list(installation.webhook_secrets)
    if company is not None:
        secrets += get_gateway(gateway_name, company=company).webhook_secrets
    secrets = [s for s in dict.fromkeys(secrets) if s]
    gateway = get_gateway(gateway_name, webhook_secret=secrets)
    try:
        data = gateway.parse_webhook(payload, headers, now=now)
    except SignatureError as exc:
        # The reason stays in the log; the sender gets the same answer for every failure.
        logger.warning("%s webhook refused (%s): %s", gateway_name, exc.code, exc)
        raise VerificationFailed() from exc
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(gateway=gateway_name, event_id=data.id,
                                                    type=data.type, payload=data.payload)
        except IntegrityError:
            return WebhookEvent.objects.get(gateway=gateway_name, event_id=data.id), False
        enqueue_on_commit(process_webhook_event, event.pk)
    return event, True
