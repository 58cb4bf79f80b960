"""The admin's sign-in: operators only, throttled like the portal's
(:mod:`nestogy.core.throttle`).

The Django admin is the platform operators' console: only active superusers may sign in or
open any admin page. An MSP's own staff (owners included) work in ``/app/``; at the admin
they get the same answer as a wrong password, which names where staff sign in, so the form
never tells a non-operator whether their password was right. Their session from
``/app/login/`` does not open the admin either (Django's "not authorized" page).

Five failed attempts for one email (or twenty from one client address) within fifteen
minutes lock further attempts for the rest of that window, even with the right password.
The lockout message is the same whether or not the account exists, and failures are counted
for unknown emails exactly as for known ones. A locked-out attempt answers 429. An account
with a second factor is not signed in here (this form asks no code): it signs in at
``/app/login/``, whose session the admin accepts.

:func:`install` puts the form (and the 429) on an admin site; ``nestogy.urls`` calls it for
Django's default site.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.views.decorators.debug import sensitive_variables

from nestogy.accounts.security import has_two_factor
from nestogy.core import throttle

LOGIN_LIMIT = throttle.Limit("admin.login", per_key=5, per_ip=20, window=timedelta(minutes=15))
LOCKED_OUT = ("Too many failed sign-in attempts. Wait {minutes} minutes and try again, or ask "
              "an administrator to reset your password.")
NOT_AN_OPERATOR = ("Please enter the e-mail address and password of a platform operator. "
                   "The admin is for the operators of this installation: the staff of an "
                   "MSP sign in to the workspace at /app/login/.")
TWO_FACTOR = ("This account signs in with two-factor authentication. Sign in at /app/login/ "
              "with your password and code; the admin then opens without a second sign-in.")


def operators_only(request) -> bool:
    """The admin site's ``has_permission``: an active superuser."""
    user = request.user
    return bool(user.is_active and user.is_superuser)


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": NOT_AN_OPERATOR,
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_superuser:
            raise ValidationError(NOT_AN_OPERATOR, code="invalid_login")

    @sensitive_variables()
    def clean(self):
        email = self.cleaned_data.get("username") or ""
        ip = throttle.client_ip(self.request) if self.request is not None else None
        if email and throttle.is_throttled(LOGIN_LIMIT, email, ip):
            raise ValidationError(LOCKED_OUT.format(minutes=LOGIN_LIMIT.minutes),
                                  code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            if email:
                throttle.hit(LOGIN_LIMIT, email, ip)
                if throttle.is_throttled(LOGIN_LIMIT, email, ip):
                    raise ValidationError(LOCKED_OUT.format(minutes=LOGIN_LIMIT.minutes),
                                          code="throttled") from exc
            raise
        user = self.get_user()
        if user is not None and has_two_factor(user):
            # The admin form has no code step: accounts with a second factor sign in at
            # /app/login/ (password, then code); that session opens the admin too.
            raise ValidationError(TWO_FACTOR, code="two_factor")
        return cleaned


def install(site) -> None:
    """Reserve ``site`` to operators, use the throttled form on it and answer a locked-out
    attempt with 429."""
    site.has_permission = operators_only
    site.login_form = ThrottledAdminAuthenticationForm
    if getattr(site.login, "nestogy_throttled", False):
        return
    original = site.login

    @functools.wraps(original)
    def login(request, extra_context=None):
        response = original(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if form is not None and form.has_error(NON_FIELD_ERRORS, code="throttled"):
            response.status_code = 429
        return response

    login.nestogy_throttled = True
    site.login = login
