"""One-time password-reset links for staff accounts.

Built on Django's ``PasswordResetTokenGenerator`` (with its own salt, so a staff token is
never a client contact's and vice versa): a token embeds a timestamp and a hash of the
account's id, password hash, last sign-in and e-mail, so it stops working as soon as the
password is set (the link works once), the account signs in, or the e-mail changes. It also
stops after :data:`LINK_LIFETIME`, shorter than Django's default for client contacts, since a
staff account opens every client's data. Nothing about it is stored.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.http import base36_to_int

LINK_LIFETIME = timedelta(hours=1)


class StaffTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "nestogy.accounts.tokens.StaffTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        login = "" if user.last_login is None else user.last_login.replace(
            microsecond=0, tzinfo=None).isoformat()
        return f"{user.pk}{user.password}{login}{timestamp}{user.email.lower()}"

    def check_token(self, user, token) -> bool:
        if not super().check_token(user, token):
            return False
        try:
            issued = base36_to_int(token.split("-", 1)[0])
        except ValueError:
            return False
        age = self._num_seconds(self._now()) - issued
        return 0 <= age <= LINK_LIFETIME.total_seconds()


staff_tokens = StaffTokenGenerator()


def reset_url(user) -> str:
    """The absolute link a staff member follows to choose a new password."""
    token = staff_tokens.make_token(user)
    return f"{settings.NESTOGY_BASE_URL}/app/password-reset/{user.public_id}/{token}/"
