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
from typing import Any

from django.core import mail
from django.core.mail import EmailMultiAlternatives

from nestogy.core import attachments
from nestogy.notifications import sender
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

    def envelope(self, company: Any) -> tuple[str, list[str]]:
        """From and Reply-To of the company's mail (once per company and batch): its own
        address only when verified or allowed by the operator (see notifications.sender)."""
        cache = self.__dict__.setdefault("_envelopes", {})
        if company.pk not in cache:
            cache[company.pk] = sender.envelope(company)
        return cache[company.pk]

    def build_message(self, delivery: Any, rendered: Any) -> EmailMultiAlternatives:
        from_email, reply_to = self.envelope(delivery.company)
        message = EmailMultiAlternatives(
            subject=rendered.title, body=rendered.body, from_email=from_email,
            to=[delivery.target], reply_to=reply_to or None,
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
