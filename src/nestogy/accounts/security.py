"""Staff sign-in security: password reset and change, the second factor (TOTP), backup codes.

The actions behind the workspace's password-reset pages and account page (the workspace only
draws forms around them). Each change is audited in every company the account belongs to, so
each company's owners see it in their audit log.

- **Password reset.** :func:`request_password_reset_for_email` only enqueues
  :func:`nestogy.accounts.tasks.send_staff_password_reset_link`, which looks the account up,
  so the "forgot password" answer does the same work whether or not the address is known.
  The mail is the ``user.password_reset`` event (``accounts.events``), sent through the
  notification outbox like every other mail; its one-time link is built when it is rendered
  (``accounts.tokens``).
- **Passwords** are checked by Django's password validators (``AUTH_PASSWORD_VALIDATORS``).
  Setting one changes the password hash, which ends the account's other sessions and every
  reset link already sent.
- **Second factor** (django-otp): one TOTP device per account (an authenticator app), active
  only once a code from the app confirmed it, plus a static device holding ten one-time
  backup codes. A company may require it of its staff (the ``security.require_staff_2fa``
  setting). Wrong codes are counted by the caller with :mod:`nestogy.core.throttle`.
"""

from __future__ import annotations

import base64
import re

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scope, scopes_disabled

from nestogy.accounts.models import Membership, User
from nestogy.audit.actions import log_action
from nestogy.core.errors import PermissionDenied, ValidationError
from nestogy.core.events import emit
from nestogy.core.tasks import enqueue_on_commit
from nestogy.core.validation import clean_email

REQUIRE_2FA_SETTING = "security.require_staff_2fa"
BACKUP_CODE_COUNT = 10
TOTP_NAME = "Authenticator app"
BACKUP_NAME = "Backup codes"
_CODE_CLEANUP = re.compile(r"[\s-]+")
# The error code of a wrong password or code (callers count those as failed attempts).
WRONG = "wrong"


# -- who the account belongs to ---------------------------------------------------------------


def _company_ids(user: User) -> list[int]:
    with scopes_disabled():
        return list(Membership.objects.filter(user=user, is_active=True,
                                              company__is_active=True)
                    .order_by("created_at", "id").values_list("company_id", flat=True))


def _audit(user: User, action: str, *, actor: User | None, data: dict | None = None) -> None:
    for company_id in _company_ids(user):
        log_action(user, action, actor=actor, company=company_id, data=data or {})


# -- passwords ------------------------------------------------------------------------------


def check_new_password(user: User, password: str, field: str = "password") -> None:
    """Run Django's password validators; raise a ValidationError naming ``field``."""
    if not isinstance(password, str) or not password:
        raise ValidationError(field, "This field is required.")
    if len(password) > 128:
        raise ValidationError(field, "Use at most 128 characters.")
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationError(field, " ".join(exc.messages)) from None


@transaction.atomic
def set_password(user: User, password: str, *, actor: User | None,
                 reason: str = "reset") -> User:
    """Set a new password (through a reset link, or the account page after
    :func:`change_password` checked the current one)."""
    check_new_password(user, password)
    user.set_password(password)
    user.save(update_fields=["password"])
    _audit(user, "user.password_changed", actor=actor, data={"how": reason})
    return user


def change_password(user: User, current: str, new: str) -> User:
    """The account page's password change: the current password must be right."""
    if not current or not user.check_password(current):
        raise ValidationError("current_password", "This is not your current password.",
                              code=WRONG)
    if current == new:
        raise ValidationError("password", "Choose a password that differs from the current "
                                          "one.")
    return set_password(user, new, actor=user, reason="changed")


def reset_candidate(email: str) -> User | None:
    """The active account with ``email`` that belongs to an active company, or None."""
    user = User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()
    if user is None or not _company_ids(user):
        return None
    return user


def request_password_reset_for_email(email: str) -> None:
    """Ask for a reset link for ``email``, in the background (see the module docstring)."""
    from nestogy.accounts.tasks import send_staff_password_reset_link

    enqueue_on_commit(send_staff_password_reset_link, clean_email(email))


@transaction.atomic
def send_password_reset(user: User) -> None:
    """Mail ``user`` a reset link through their oldest company's outbox."""
    company_ids = _company_ids(user)
    if not user.is_active or not company_ids:
        return
    _audit(user, "user.password_reset", actor=None)
    with scope(company=company_ids[0]):
        emit("user.password_reset", company_id=company_ids[0], data={"user_pk": user.pk})


# -- second factor ----------------------------------------------------------------------------


def company_requires_two_factor(company) -> bool:
    return bool(company.get_setting(REQUIRE_2FA_SETTING))


def totp_device(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    return (TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("id").first())


def has_two_factor(user: User) -> bool:
    """True when the account signs in with a confirmed authenticator app."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def start_totp_enrolment(user: User) -> TOTPDevice:
    """The account's unconfirmed authenticator device (made once, so reloading the page keeps
    the same secret). Refused while a confirmed one exists."""
    if has_two_factor(user):
        raise ValidationError("code", "Two-factor sign-in is already on; turn it off first.")
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The device's secret as the base32 text authenticator apps accept, in groups of 4."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def normalise_code(code: str) -> str:
    return _CODE_CLEANUP.sub("", code or "").lower()


@transaction.atomic
def confirm_totp(user: User, code: str) -> list[str]:
    """Turn two-factor sign-in on once ``code`` from the app matches the pending device;
    return a fresh set of backup codes (shown once)."""
    device = totp_device(user, confirmed=False)
    if device is None or has_two_factor(user):
        raise ValidationError("code", "Start the set-up again: no authenticator app is "
                                      "waiting for confirmation.")
    code = normalise_code(code)
    if not code.isdigit() or len(code) != device.digits:
        raise ValidationError("code", f"Enter the {device.digits}-digit code your app shows.")
    if not device.verify_token(code):
        raise ValidationError("code", "This is not the code your app shows now. Check the "
                                      "time on your phone and try the next code.", code=WRONG)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    codes = _replace_backup_codes(user)
    _audit(user, "user.two_factor_enabled", actor=user)
    return codes


def _replace_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < BACKUP_CODE_COUNT:
        token = StaticToken.random_token()
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=t) for t in codes])
    return codes


@transaction.atomic
def new_backup_codes(user: User) -> list[str]:
    """Replace the account's backup codes (the old ones stop working); shown once."""
    if not has_two_factor(user):
        raise ValidationError("code", "Turn two-factor sign-in on first.")
    codes = _replace_backup_codes(user)
    _audit(user, "user.backup_codes_renewed", actor=user)
    return codes


def verify_second_factor(user: User, code: str):
    """The device that accepts ``code`` (a code from the app, or a backup code, which is used
    up), or None. The caller counts failures (:mod:`nestogy.core.throttle`)."""
    code = normalise_code(code)
    if not code or not has_two_factor(user):
        return None
    device = totp_device(user)
    if device is not None and code.isdigit() and len(code) == device.digits:
        return device if device.verify_token(code) else None
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code):
            _audit(user, "user.backup_code_used", actor=user,
                   data={"left": backup_codes_left(user)})
            return device
    return None


@transaction.atomic
def disable_two_factor(user: User, *, code: str = "", password: str = "",
                       required_by: str = "") -> None:
    """Turn two-factor sign-in off; needs a current code (or backup code) or the password.

    ``required_by`` names a company that requires it: then it is refused."""
    if required_by:
        raise ValidationError("code", f"{required_by} requires two-factor sign-in of its "
                                      "staff, so it cannot be turned off.")
    if not has_two_factor(user):
        raise ValidationError("code", "Two-factor sign-in is not on.")
    if not code and not password:
        raise ValidationError("code", "Enter a code from your app, or your password.")
    if code:
        if verify_second_factor(user, code) is None:
            raise ValidationError("code", "This code is not right.", code=WRONG)
    elif not user.check_password(password):
        raise ValidationError("password", "This is not your current password.", code=WRONG)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _audit(user, "user.two_factor_disabled", actor=user)


@transaction.atomic
def reset_two_factor(user: User, *, company, actor: User, actor_role: str | None) -> None:
    """An owner or admin turns a member's second factor off (a lost phone and lost backup
    codes): the member signs in with the password alone and sets up a new app (at once, when
    the company requires it). Allowed where the actor may change the account at all
    (:func:`nestogy.accounts.actions.account_change_refusal`: not an account that also
    belongs to another company, not above the actor's grant)."""
    from nestogy.accounts.actions import account_change_refusal

    refusal = account_change_refusal(company, user, actor=actor, actor_role=actor_role)
    if refusal:
        raise PermissionDenied(refusal)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _audit(user, "user.two_factor_reset", actor=actor)
