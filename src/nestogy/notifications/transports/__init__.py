"""Transports: one per channel, one interface.

``send(delivery, rendered) -> None`` delivers one message or raises
:class:`TransientError` (worth retrying later: timeouts, connection errors, HTTP 5xx/429,
SMTP 4xx) or :class:`PermanentError` (retrying cannot help: HTTP 4xx, SMTP 5xx, a bad
address, a missing attachment). ``open()`` and ``close()`` bracket a batch so a transport can
reuse one connection (SMTP) or write its rows at once (the in-app inbox).
"""

from __future__ import annotations

from nestogy.notifications.transports.base import PermanentError, TransientError, Transport


def transport_for(channel: str) -> Transport:
    from nestogy.notifications.transports.apprise import AppriseTransport
    from nestogy.notifications.transports.email import EmailTransport
    from nestogy.notifications.transports.inapp import InAppTransport
    from nestogy.notifications.transports.webhook import WebhookTransport

    classes = {"email": EmailTransport, "inapp": InAppTransport, "sms": AppriseTransport,
               "slack": AppriseTransport, "webhook": WebhookTransport}
    if channel not in classes:
        raise PermanentError(f"unknown channel {channel!r}")
    return classes[channel](channel)


__all__ = ["PermanentError", "TransientError", "Transport", "transport_for"]
