"""Who notification mail is from: a company's own address only once it is proven.

``notifications.from_email`` is attacker input: an owner could type a client's CEO or another
company's domain. The address is used as ``From`` only when

- it is the platform's own address (``DEFAULT_FROM_EMAIL``) or in a domain the operator
  allows for every company (``NESTOGY_SENDER_DOMAINS``), or
- it is **verified**: :func:`~nestogy.notifications.actions.request_sender_verification`
  mails a signed, expiring link to the address (through the outbox, like every mail) and
  whoever holds the mailbox opens it and confirms
  (:func:`~nestogy.notifications.actions.confirm_sender`).

Until then mail goes out from the platform address under the company's name, with the
company's address as ``Reply-To`` (``branding.support_email``, else the unverified sender
address). Changing the sender address resets the verification (a reaction to the
``company.settings_updated`` event, see ``NotificationsConfig.ready``), which also voids
links already sent.

The link is never stored: the outbox keeps only the address and the verification's id, and
the signed link is built when the mail is rendered (the event's ``render_context``), so nobody
can read it from the delivery log or the stored events. Company template overrides do not
apply to this mail.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django_scopes import scopes_disabled

from nestogy.core import events
from nestogy.core.errors import ValidationError
from nestogy.notifications import render
from nestogy.notifications.models import SenderVerification

EVENT = "notifications.sender_verification"
SALT = "nestogy.notifications.sender-verification"
SETTING = "notifications.from_email"


def normalize(email: str | None) -> str:
    return (email or "").strip().lower()


def platform_address() -> str:
    return normalize(parseaddr(settings.DEFAULT_FROM_EMAIL)[1])


def allowed_without_verification(email: str) -> bool:
    """The platform's own address, or one in an operator-allowed sender domain."""
    email = normalize(email)
    if not email:
        return False
    if email == platform_address():
        return True
    domain = email.rpartition("@")[2]
    return domain in {d.lower() for d in getattr(settings, "NESTOGY_SENDER_DOMAINS", [])}


def verification_for(company_id: int) -> SenderVerification | None:
    with scopes_disabled():
        return SenderVerification.objects.filter(company_id=company_id).first()


def state(company) -> dict[str, Any]:
    """The sender of the company's mail and where its verification stands.

    ``status``: ``not_set`` (no address: the platform address is used), ``platform`` (an
    allowed address, no verification needed), ``verified``, ``pending`` (a link was sent),
    ``unverified``.
    """
    email = normalize(company.get_setting(SETTING))
    row = verification_for(company.pk) if email else None
    if row is not None and row.email != email:
        row = None
    if not email:
        status = "not_set"
    elif allowed_without_verification(email):
        status = "platform"
    elif row is not None and row.verified_at:
        status = "verified"
    elif row is not None and row.requested_at:
        status = "pending"
    else:
        status = "unverified"
    sender, reply_to = envelope(company, _state=(email, status))
    return {"email": email or None, "status": status,
            "requested_at": row.requested_at if row else None,
            "verified_at": row.verified_at if row else None,
            "sends_as": sender, "reply_to": reply_to[0] if reply_to else None}


def envelope(company, *, _state: tuple[str, str] | None = None) -> tuple[str, list[str]]:
    """``(From, Reply-To list)`` of the company's notification mail."""
    if _state is None:
        email = normalize(company.get_setting(SETTING))
        verified = False
        if email and not allowed_without_verification(email):
            row = verification_for(company.pk)
            verified = bool(row and row.email == email and row.verified_at)
        usable = bool(email) and (verified or allowed_without_verification(email))
    else:
        email, status = _state
        usable = status in {"platform", "verified"}
    support = company.get_setting("branding.support_email")
    if usable:
        return formataddr((company.name, email)), [support] if support else []
    sender = formataddr((company.name, platform_address()))
    reply_to = support or email
    return sender, [reply_to] if reply_to else []


# -- the signed link ---------------------------------------------------------------------------
def max_age() -> timedelta:
    return timedelta(hours=int(getattr(settings, "NESTOGY_SENDER_VERIFY_MAX_AGE_HOURS", 48)))


def make_token(row: SenderVerification) -> str:
    return signing.dumps({"c": row.company_id, "v": row.public_id, "n": row.nonce},
                         salt=SALT, compress=True)


def read_token(token: str) -> dict[str, Any] | None:
    """The payload of a valid, unexpired link token, else None."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age())
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not {"c", "v", "n"} <= set(payload):
        return None
    return payload


class InvalidLink(ValidationError):
    def __init__(self, message: str = "this link is invalid or has expired; ask for a new one"):
        super().__init__("token", message, code="invalid_link")


def verification_from_link(token: str) -> SenderVerification:
    """The pending verification a link confirms; raises :class:`InvalidLink` otherwise."""
    payload = read_token(token)
    if payload is None:
        raise InvalidLink()
    with scopes_disabled():
        row = (SenderVerification.objects.select_related("company")
               .filter(company_id=payload["c"], public_id=payload["v"]).first())
    if row is None or not constant_time_compare(row.nonce, str(payload["n"])):
        raise InvalidLink("this link was replaced by a newer one or cancelled")
    if normalize(row.company.get_setting(SETTING)) != row.email:
        raise InvalidLink("the sender address changed since this link was sent")
    return row


def link(row: SenderVerification) -> str:
    return settings.NESTOGY_BASE_URL + reverse("sender-verification", args=[make_token(row)])


def _live_context(context: dict[str, Any]) -> dict[str, Any]:
    """The link, built when the mail is rendered (never stored; runs in the company's scope)."""
    row = SenderVerification.objects.filter(public_id=context.get("verification")).first()
    if (row is None or row.verified_at is not None
            or row.email != normalize((context.get("recipient") or {}).get("email"))):
        raise LookupError("this sender verification was replaced, cancelled or completed")
    return {"verify_url": link(row), "expires_hours": int(max_age().total_seconds() // 3600)}


def _recipients(event: events.Event) -> list[events.Recipient]:
    return [events.Recipient(email=event.data["email"],
                             name=event.data.get("company_name", ""), kind="contact")]


events.register(EVENT, description="Confirm a company's notification sender address",
                recipients=_recipients, default_channels={"contact": ("email",)},
                private=True, render_context=_live_context)
render.PROTECTED_EVENT_TYPES.add(EVENT)
# Not a user preference: the mail goes to the address being verified, nobody opts out.
INTERNAL_EVENT_TYPES = frozenset({EVENT})
