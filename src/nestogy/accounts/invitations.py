"""Invitation links: the token in the link is derived when the e-mail is rendered, never stored.

    token = HMAC-SHA256(SECRET_KEY, salt, "<invitation public id>:<random nonce>")   (hex)

The invitation row keeps the random nonce and ``sha256(token)``; a link is looked up by the
hash of the token it carries. The notification outbox stores only the invitation's public id:
the link is computed when the e-mail is rendered (the ``user.invited`` event's
``render_context`` gives templates ``{{ link }}``), so neither the event log, the delivery log
nor a company's webhooks ever see a usable token. A resend draws a new nonce, which kills the
previous link. A key in ``SECRET_KEY_FALLBACKS`` still renders the link of an invitation made
before a key rotation.

A token alone grants nothing: the invitation page accepts only for the signed-in account whose
e-mail the invitation names.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

from nestogy.accounts.queries import hash_token

KEY_SALT = "nestogy.accounts.invitation"


def new_nonce() -> str:
    return secrets.token_hex(16)


def make_token(public_id: str, nonce: str, *, secret: str | None = None) -> str:
    return salted_hmac(KEY_SALT, f"{public_id}:{nonce}", secret=secret,
                       algorithm="sha256").hexdigest()


def token_for(invitation) -> str:
    """The token whose hash the invitation stores (current key first, then fallbacks)."""
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        token = make_token(invitation.public_id, invitation.token_nonce, secret=secret)
        if hash_token(token) == invitation.token_hash:
            return token
    raise ValueError("the invitation's token cannot be derived with the configured keys; "
                     "resend the invitation")


def url_for(invitation) -> str:
    return f"{settings.NESTOGY_BASE_URL}/invitations/{token_for(invitation)}/"
