"""Who is working in the staff workspace (``/app/``): sign-in, the chosen company, the
access decorator.

Staff sign in with their e-mail and password (Django's authentication, the same accounts
as the admin and the API tokens' owners). A user who belongs to several companies picks
one; the choice is kept in the session and sets the company scope of every request.
Every view runs through :func:`staff_view`, which

- sends anonymous visitors to the sign-in page,
- loads the active membership of the chosen company (none: a page saying so),
- enters that company's scope (superusers too: the workspace never disables scopes, so
  another company's object is simply not found: 404),
- checks the view's permission in the one role matrix (``accounts.roles``), the same table
  the API and the admin ask,
- and activates the company's time zone, so pages show the company's local times.

Throttling (:mod:`nestogy.core.throttle`): five failed attempts for one e-mail (or twenty
from one client address) within fifteen minutes lock further attempts for the rest of that
window, even with the right password; the message does not tell whether the account exists.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import timedelta
from urllib.parse import quote

import django_otp
from django.contrib import auth as django_auth
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django_scopes import scope, scopes_disabled

from nestogy.accounts import security
from nestogy.accounts.middleware import SESSION_COMPANY_KEY
from nestogy.accounts.models import Membership, User
from nestogy.accounts.roles import allowed
from nestogy.core import throttle

LOGIN_LIMIT = throttle.Limit("workspace.login", per_key=5, per_ip=20,
                             window=timedelta(minutes=15))
CODE_LIMIT = throttle.Limit("workspace.code", per_key=5, per_ip=20,
                            window=timedelta(minutes=15))
HOME = "/app/"
ENROL = "/app/account/two-factor/"
PENDING_USER = "workspace_pending_user"
PENDING_HASH = "workspace_pending_hash"
PENDING_AT = "workspace_pending_at"
PENDING_LIFETIME = timedelta(minutes=5)


def memberships(user) -> list[Membership]:
    """The user's active memberships in active companies, oldest first."""
    with scopes_disabled():
        return list(Membership.objects.select_related("company")
                    .filter(user=user, is_active=True, company__is_active=True)
                    .order_by("created_at", "id"))


def chosen_membership(request: HttpRequest) -> Membership | None:
    """The membership of the company picked in this session (else the only one)."""
    found = memberships(request.user)
    wanted = request.session.get(SESSION_COMPANY_KEY)
    for membership in found:
        if membership.company.public_id == wanted:
            return membership
    return found[0] if len(found) == 1 else None


# Where sign-in may return to: the workspace, and a staff invitation's page.
NEXT_PREFIXES = (HOME, "/invitations/")


def safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or HOME
    if target.startswith(NEXT_PREFIXES) and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return HOME


def can(request: HttpRequest, permission: str) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and allowed(membership.role, permission)


def staff_view(permission: str | None = None, *, enrolment: bool = False):
    """Decorate a workspace view: signed-in staff, inside the chosen company's scope, with
    ``permission`` in the role matrix (403 page otherwise). ``enrolment``: the view stays
    reachable while the company requires a second factor the account has not set up."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect(f"/app/login/?next={request.get_full_path()}")
            membership = chosen_membership(request)
            if membership is None:
                if memberships(request.user):
                    return redirect(f"/app/company/?next={request.get_full_path()}")
                return render(request, "workspace/no_access.html",
                              {"reason": "no_company"}, status=403)
            request.membership = membership
            request.company = membership.company
            if not enrolment and security.company_requires_two_factor(membership.company) \
                    and not security.has_two_factor(request.user):
                return redirect(f"{ENROL}?next={quote(request.get_full_path())}")
            with scope(company=membership.company_id), timezone.override(
                    zoneinfo.ZoneInfo(membership.company.timezone or "UTC")):
                if permission and not allowed(membership.role, permission):
                    return render(request, "workspace/no_access.html",
                                  {"reason": "role", "permission": permission}, status=403)
                return view(request, *args, **kwargs)
        return wrapper
    return decorate


def sign_in(request: HttpRequest, email: str, password: str) -> tuple[object | None, str]:
    """Authenticate with throttling; returns (user, error message)."""
    ip = throttle.client_ip(request)
    locked = (f"Too many failed sign-in attempts. Wait {LOGIN_LIMIT.minutes} minutes and try "
              "again, or ask an administrator to reset your password.")
    if throttle.is_throttled(LOGIN_LIMIT, email, ip):
        return None, locked
    user = django_auth.authenticate(request, username=email, password=password)
    if user is None or not user.is_active:
        throttle.hit(LOGIN_LIMIT, email, ip)
        if throttle.is_throttled(LOGIN_LIMIT, email, ip):
            return None, locked
        return None, "The e-mail or password is not right."
    if not memberships(user):
        return None, "This account is not a member of any active company."
    if security.has_two_factor(user):
        # The password was right; the session is not signed in until a code matches.
        request.session.cycle_key()
        request.session[PENDING_USER] = user.pk
        request.session[PENDING_HASH] = user.get_session_auth_hash()
        request.session[PENDING_AT] = int(timezone.now().timestamp())
        return user, ""
    django_auth.login(request, user)
    return user, ""


def after_sign_in(request: HttpRequest) -> str:
    """Where a successful password step goes: the code page when a code is still due."""
    target = safe_next(request)
    if pending_user(request) is not None:
        return f"/app/login/code/?next={quote(target)}"
    return target


def pending_user(request: HttpRequest) -> User | None:
    """The account whose password was right and whose code is still due, if any."""
    user_id = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_AT) or 0
    if not user_id:
        return None
    if timezone.now().timestamp() - started > PENDING_LIFETIME.total_seconds():
        clear_pending(request)
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not constant_time_compare(request.session.get(PENDING_HASH, ""),
                                                 user.get_session_auth_hash()):
        clear_pending(request)
        return None
    return user


def clear_pending(request: HttpRequest) -> None:
    for key in (PENDING_USER, PENDING_HASH, PENDING_AT):
        request.session.pop(key, None)


def verify_code(request: HttpRequest, user: User, code: str) -> tuple[bool, str]:
    """Finish a pending sign-in with ``code`` (throttled); returns (signed in, error)."""
    ip = throttle.client_ip(request)
    locked = (f"Too many wrong codes. Wait {CODE_LIMIT.minutes} minutes and sign in again, "
              "or use a backup code later.")
    if throttle.is_throttled(CODE_LIMIT, user.email, ip):
        return False, locked
    device = security.verify_second_factor(user, code)
    if device is None:
        throttle.hit(CODE_LIMIT, user.email, ip)
        if throttle.is_throttled(CODE_LIMIT, user.email, ip):
            return False, locked
        return False, "That code is not right. Enter the current code from your app."
    clear_pending(request)
    django_auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    django_otp.login(request, device)
    return True, ""
