"""SMS and Slack (and any other Apprise target) through Apprise URLs.

The target is an Apprise URL: ``slack://TokenA/TokenB/TokenC/#channel`` for a Slack incoming
webhook, ``twilio://SID:Token@From/To`` for SMS, and so on (see https://appriseit.com). A
generic JSON receiver (``json://host:port/path`` or ``jsons://`` for HTTPS) works too; its
payload keys can be renamed with ``:key=newkey`` parameters, e.g.
``json://127.0.0.1:8080/hook?:message=text&:title=&:version=&:type=&:attachments=`` posts
Slack's own incoming-webhook shape ``{"text": "..."}`` to a self-hosted relay (the tests use
it against a local receiver, since Apprise's ``slack://`` always posts to hooks.slack.com).

Apprise's ``notify()`` result only says success or failure. To tell a permanent error from a
transient one, this transport reads the result's captured log: Apprise's HTTP-based plugins
log ``error=<status>`` when the server answers outside 2xx. A 4xx other than 408/429 is
permanent; a 5xx, a 429, a connection error or anything unexplained is transient (retried
with backoff until the attempt limit). An URL Apprise does not understand is permanent.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import apprise

from nestogy.core.secrets import scrub
from nestogy.notifications.models import redact_url
from nestogy.notifications.netguard import PrivateTarget, check_url
from nestogy.notifications.transports.base import (
    PermanentError,
    TransientError,
    Transport,
    http_error,
)

STATUS_RE = re.compile(r"error=(\d{3})")


def _not_trace(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.DEBUG


def install_log_filter() -> None:
    """Drop Apprise's TRACE records (below DEBUG): they dump parsed URLs with their
    passwords and tokens. DEBUG and above are logged with Apprise's own redaction."""
    logger = logging.getLogger("apprise")
    if _not_trace not in logger.filters:
        logger.addFilter(_not_trace)


def redact(url: str) -> str:
    """The scheme and host of an Apprise URL, without tokens (for logs and the API)."""
    return redact_url(url)


class AppriseTransport(Transport):
    def send(self, delivery: Any, rendered: Any) -> None:
        try:
            check_url(delivery.target)
        except PrivateTarget as exc:
            raise PermanentError(str(exc)) from exc
        notifier = apprise.Apprise()
        if not notifier.add(delivery.target):
            raise PermanentError(f"not a usable Apprise URL: {redact(delivery.target)}")
        body = rendered.short_text()
        if self.channel == "slack" and not rendered.channel_specific:
            body = f"*{rendered.title}*\n{rendered.body}" if rendered.body else rendered.title
        result = notifier.notify(body=body, title="", log_level=logging.DEBUG)
        if result:
            return
        messages = [entry.message for entry in result.logs()]
        statuses = [int(s) for m in messages for s in STATUS_RE.findall(m)]
        detail = " | ".join(m for m in messages if "error" in m.lower() or "fail" in m.lower())
        # What a remote answer or Apprise quotes may contain parts of the URL's credentials.
        detail = scrub(detail, delivery.target)[:500] or "Apprise reported a failure"
        if statuses:
            raise http_error(statuses[-1], detail)
        raise TransientError(detail)
