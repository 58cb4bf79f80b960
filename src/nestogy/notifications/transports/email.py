"""Email through Django's mail framework (the ``MAILERS`` setting; ``EMAIL_URL`` picks SMTP).

One connection serves a whole batch. Each message has a text part (body.txt) and an HTML
part (body.html, or the escaped text); attachments named in the event are built at send time
through :mod:`nestogy.core.attachments`, inside the company's scope.

SMTP replies classify the outcome: 5xx (mailbox unknown, message refused) is permanent, 4xx
(greylisting, mailbox full, try later) and connection problems are transient. Failing to log
in (535) counts as transient: it is a configuration problem that an operator fixes, after
which the retry goes through.
"""

from __future__ import annotations

import smtplib
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from nestogy.core import attachments
from nestogy.notifications.transports.base import PermanentError, TransientError, Transport


def _smtp_error(exc: smtplib.SMTPException) -> Exception:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{addr}: {code} {msg!r}" for addr, (code, msg)
                           in exc.recipients.items())
        if codes and all(400 <= code < 500 for code in codes):
            return TransientError(f"recipient deferred: {detail}")
        return PermanentError(f"recipient refused: {detail}")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return TransientError(f"SMTP login failed ({exc.smtp_code}); check EMAIL_URL")
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        message = f"SMTP {exc.smtp_code}: {text}"
        return PermanentError(message) if exc.smtp_code >= 500 else TransientError(message)
    return TransientError(f"SMTP error: {exc}")


class EmailTransport(Transport):
    def open(self) -> None:
        self.connection = mail.mailers.default
        try:
            self.connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            # Each send() reports it; keep the batch going so every delivery is recorded.
            self.open_error = exc
        else:
            self.open_error = None

    def close(self) -> None:
        try:
            self.connection.close()
        except (OSError, smtplib.SMTPException):
            pass

    def build_message(self, delivery: Any, rendered: Any) -> EmailMultiAlternatives:
        company = delivery.company
        # The company's own sender if set; else the server's address under the company's name.
        sender = company.get_setting("notifications.from_email") or formataddr(
            (company.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
        reply_to = company.get_setting("branding.support_email")
        message = EmailMultiAlternatives(
            subject=rendered.title, body=rendered.body, from_email=sender,
            to=[delivery.target], reply_to=[reply_to] if reply_to else None,
            headers={"X-Nestogy-Event": delivery.event_type,
                     "X-Nestogy-Delivery": delivery.public_id})
        if rendered.html:
            message.attach_alternative(rendered.html, "text/html")
        for spec in delivery.event.attachments or []:
            try:
                built = attachments.build(spec)
            except Exception as exc:
                raise PermanentError(f"attachment {spec.get('builder')!r} could not be built: "
                                     f"{type(exc).__name__}: {exc}") from exc
            message.attach(built.filename, built.content, built.mimetype)
        return message

    def send(self, delivery: Any, rendered: Any) -> None:
        if not getattr(self, "connection", None):
            self.open()
        message = self.build_message(delivery, rendered)
        if self.open_error is not None:
            error, self.open_error = self.open_error, None
            raise TransientError(f"cannot connect to the mail server: {error}")
        try:
            self.connection.send_messages([message])
        except smtplib.SMTPServerDisconnected as exc:
            self.connection.close()  # reconnect on the next message
            raise TransientError(f"SMTP server disconnected: {exc}") from exc
        except smtplib.SMTPException as exc:
            self._reset()
            raise _smtp_error(exc) from exc
        except OSError as exc:
            self.connection.close()
            raise TransientError(f"cannot reach the mail server: {exc}") from exc

    def _reset(self) -> None:
        """After a refused message, RSET the session so the next message starts clean."""
        smtp = getattr(self.connection, "connection", None)
        if smtp is not None:
            try:
                smtp.rset()
            except (OSError, smtplib.SMTPException):
                self.connection.close()
