"""Who is looking at the portal: contact sessions, login throttling, the access decorator.

A contact signs in with email and password (Django's password hashers). The session stores
the contact's id and a hash of its password hash, so changing the password signs out every
other session, as Django does for staff. Every portal view runs through
:func:`contact_required`, which loads the contact, checks that portal access is still granted
and enters the contact's company scope: queries outside it raise instead of leaking. It also
activates the contact's time zone (else the company's) so pages show local times.

A contact signs in only while their client is active and their MSP (the company) is active:
deactivating a company ends its contacts' open sessions at their next request.

Throttling (:mod:`nestogy.core.throttle`): five failed attempts for one email (or twenty from
one client address) within fifteen minutes lock further attempts for the rest of that window,
even with the right password; password-reset requests are limited to three per email (ten
per address) an hour. The client address is the one the trusted proxies report
(``NESTOGY_TRUSTED_PROXY_COUNT``).
"""

from __future__ import annotations

import functools
from datetime import timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django_scopes import scope, scopes_disabled

from nestogy.clients.actions import record_contact_login
from nestogy.clients.models import Contact
from nestogy.clients.queries import portal_contacts
from nestogy.core import throttle

SESSION_CONTACT = "portal_contact_id"
SESSION_HASH = "portal_contact_hash"
LOGIN_LIMIT = throttle.Limit("portal.login", per_key=5, per_ip=20,
                             window=timedelta(minutes=15))
RESET_LIMIT = throttle.Limit("portal.reset", per_key=3, per_ip=10, window=timedelta(hours=1))
# A hash that no password matches, checked when no contact exists, so timing does not tell
# whether an email is known.
_DUMMY_HASH = make_password("nestogy-timing-equaliser")


def client_ip(request: HttpRequest) -> str | None:
    return throttle.client_ip(request)


def is_throttled(email: str, ip: str | None) -> bool:
    return throttle.is_throttled(LOGIN_LIMIT, email, ip)


def reset_throttled(email: str, ip: str | None) -> bool:
    return throttle.is_throttled(RESET_LIMIT, email, ip)


def count_reset_request(email: str, ip: str | None) -> None:
    """Every reset request counts (known address or not), so nobody floods an inbox."""
    throttle.hit(RESET_LIMIT, email, ip)


def authenticate(request: HttpRequest, email: str, password: str) -> Contact | None:
    """The contact with portal access whose email and password match, or None."""
    email = (email or "").strip().lower()
    with scopes_disabled():
        candidates = list(portal_contacts().select_related("client")
                          .filter(email__iexact=email)
                          .exclude(Q(password="") | Q(password__startswith="!"))  # noqa: S106 (unusable)
                          .order_by("created_at"))
    for contact in candidates:
        if contact.check_password(password):
            return contact
    if not candidates:
        check_password(password, _DUMMY_HASH)
    throttle.hit(LOGIN_LIMIT, email, client_ip(request))
    return None


def _session_hash(contact: Contact) -> str:
    return salted_hmac("nestogy.portal.session", contact.password,
                       algorithm="sha256").hexdigest()


def login(request: HttpRequest, contact: Contact) -> None:
    request.session.cycle_key()
    request.session[SESSION_CONTACT] = contact.pk
    request.session[SESSION_HASH] = _session_hash(contact)
    with scope(company=contact.company_id):
        record_contact_login(contact)


def logout(request: HttpRequest) -> None:
    request.session.flush()


def current_contact(request: HttpRequest) -> Contact | None:
    contact_id = request.session.get(SESSION_CONTACT)
    if not contact_id:
        return None
    with scopes_disabled():
        contact = portal_contacts().select_related("client").filter(pk=contact_id).first()
    if contact is None or not constant_time_compare(request.session.get(SESSION_HASH, ""),
                                                    _session_hash(contact)):
        return None
    return contact


def contact_required(view):
    """Run ``view`` as the signed-in contact, inside their company's scope."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        contact = current_contact(request)
        if contact is None:
            logout(request)
            return redirect(f"/portal/login/?next={request.path}")
        request.contact = contact
        with scope(company=contact.company_id):
            from nestogy.portal.queries import contact_timezone

            # Templates show times in the contact's zone (else the company's).
            with timezone.override(contact_timezone(contact)):
                return view(request, *args, **kwargs)

    return wrapper
