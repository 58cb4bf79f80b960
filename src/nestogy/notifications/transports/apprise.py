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

Server-side request forgery: only the services of :mod:`nestogy.notifications.targets` are
used (Slack, SMS providers, a JSON relay set by the company); a relay's host is checked
against the egress rules before sending, and the plugin runs inside
:func:`nestogy.core.egress.guard`, so every connection it opens (also one a redirect would
lead to; redirects are not followed) is checked at connect time. A refused target is a
permanent failure and nothing is sent.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import apprise

from nestogy.core import egress
from nestogy.core.secrets import scrub
from nestogy.notifications import targets
from nestogy.notifications.models import redact_url
from nestogy.notifications.transports.base import (
    PermanentError,
    TransientError,
    Transport,
    http_error,
)

STATUS_RE = re.compile(r"error=(\d{3})")
PRINTABLE_RE = re.compile(r"[^\x20-\x7e]+")


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
        plugin = targets.instantiate(delivery.target)
        if plugin is None:
            raise PermanentError(f"not a usable Apprise URL: {redact(delivery.target)}")
        try:
            targets.check_for_send(plugin, self.channel)
        except egress.EgressRefused as exc:
            raise PermanentError(f"refused: {exc}") from None
        except (OSError, UnicodeError):
            raise TransientError(f"the host of {redact(delivery.target)} does not resolve") \
                from None
        notifier = apprise.Apprise(asset=targets.asset())
        notifier.add(plugin)
        body = rendered.short_text()
        if self.channel == "slack" and not rendered.channel_specific:
            body = f"*{rendered.title}*\n{rendered.body}" if rendered.body else rendered.title
        with egress.guard() as guard:
            result = notifier.notify(body=body, title="", log_level=logging.DEBUG)
        if guard.refused:
            raise PermanentError(f"refused: {guard.refused[0]}")
        if result:
            return
        # Only Apprise's own warnings: its debug lines carry the answer's body, which is not
        # ours to store.
        messages = [entry.message for entry in result.logs()
                    if entry.level in {"WARNING", "ERROR", "CRITICAL"}]
        statuses = [int(s) for m in messages for s in STATUS_RE.findall(m)]
        detail = " | ".join(m for m in messages if "error" in m.lower() or "fail" in m.lower())
        # What a remote answer or Apprise quotes may contain parts of the URL's credentials.
        detail = " ".join(PRINTABLE_RE.sub(" ", scrub(detail, delivery.target)).split())[:500]
        detail = detail or "Apprise reported a failure"
        if statuses:
            raise http_error(statuses[-1], detail)
        raise TransientError(detail)
