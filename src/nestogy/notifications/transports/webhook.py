"""Outgoing webhooks: signed JSON POSTed to a company's endpoints.

Body::

    {"id": "dlv_…", "event": "ticket.created", "occurred_at": "…", "company_id": "co_…",
     "data": {…the event's context…}}

Headers: ``X-Nestogy-Event``, ``X-Nestogy-Delivery`` (the same id on every retry, so a
receiver can drop duplicates) and ``X-Nestogy-Signature: t=<unix time>,v1=<hex>``, where
``v1`` is HMAC-SHA256 with the endpoint's secret over ``"<t>.<raw body>"``. A receiver
recomputes it, compares in constant time and rejects old timestamps (replays).

HTTP 2xx is success; 408, 429 and 5xx are transient; any other answer (4xx, redirects, which
are not followed) is permanent; timeouts and connection errors are transient. A URL or an
address the egress rules refuse (:mod:`nestogy.core.egress`: private networks, loopback,
user information, backslashes…) is permanent, and nothing is sent.

Requests go through :mod:`nestogy.core.egress` (checked at connect time, no redirects, no
proxies, short timeouts). Of an error answer only the first few KB are read, and only a short
printable snippet is kept in the delivery's error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from nestogy.core import egress
from nestogy.notifications.transports.base import (
    PermanentError,
    TransientError,
    Transport,
    http_error,
)

TIMEOUT = (5, 15)  # connect, read
READ_LIMIT = 4096  # bytes of an answer read (only an error's snippet is kept)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300,
           now: float | None = None) -> bool:
    """Check a signature header (what a receiver does; used by the tests and the docs)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected, header)


class WebhookTransport(Transport):
    needs_rendering = False

    def open(self) -> None:
        self.session = egress.Session()

    def close(self) -> None:
        if getattr(self, "session", None):
            self.session.close()

    def send(self, delivery: Any, rendered: Any) -> None:
        hook = delivery.webhook
        if hook is None:
            raise PermanentError("the webhook endpoint was deleted")
        if not hasattr(self, "session"):
            self.open()
        payload = {
            "id": delivery.public_id,
            "event": delivery.event_type,
            "occurred_at": delivery.event.occurred_at,
            "company_id": delivery.company.public_id,
            "data": delivery.event.context,
        }
        body = json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Nestogy-Webhooks/1",
            "X-Nestogy-Event": delivery.event_type,
            "X-Nestogy-Delivery": delivery.public_id,
            "X-Nestogy-Signature": signature(hook.secret, int(time.time()), body),
        }
        try:
            response = self.session.request("POST", hook.url, data=body, headers=headers,
                                            timeout=TIMEOUT, max_bytes=READ_LIMIT)
        except egress.EgressRefused as exc:
            raise PermanentError(f"refused: {exc}") from None
        except egress.EgressError as exc:
            error = TransientError if exc.transient else PermanentError
            raise error(f"connection failed: {exc}") from None
        if not response.ok:
            raise http_error(response.status, response.snippet())
