"""One-time links for client contacts: portal invitations and password resets.

Built on Django's ``PasswordResetTokenGenerator``: a token embeds a timestamp and a hash of
the contact's id, password hash, last login and email, so it stops working as soon as the
password is set (or the contact logs in, or the email changes) and after
``PASSWORD_RESET_TIMEOUT`` seconds. Nothing about it is stored.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator


class ContactTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "nestogy.clients.tokens.ContactTokenGenerator"

    def _make_hash_value(self, contact, timestamp: int) -> str:
        login = "" if contact.last_login is None else contact.last_login.replace(
            microsecond=0, tzinfo=None).isoformat()
        return f"{contact.pk}{contact.password}{login}{timestamp}{contact.email.lower()}"


contact_tokens = ContactTokenGenerator()


def set_password_url(contact) -> str:
    """The absolute link a contact follows to choose a portal password."""
    token = contact_tokens.make_token(contact)
    return f"{settings.NESTOGY_BASE_URL}/portal/set-password/{contact.public_id}/{token}/"
