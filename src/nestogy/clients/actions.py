"""Every change to clients, sites and contacts: validated, atomic, audited."""

from __future__ import annotations

from typing import Any

from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from nestogy.accounts.roles import allowed
from nestogy.audit.actions import log_action
from nestogy.clients.models import Client, Contact, Site
from nestogy.core.errors import Conflict, PermissionDenied, ValidationError, delete_blocked
from nestogy.core.events import emit
from nestogy.core.tasks import enqueue_on_commit
from nestogy.core.timeutil import validate_timezone
from nestogy.core.validation import clean_bool as _bool
from nestogy.core.validation import clean_email
from nestogy.core.validation import clean_text as _text

CLIENT_FIELDS = {"name", "status", "email", "phone", "website", "notes"}


def _apply_client_fields(client: Client, data: dict[str, Any]) -> None:
    unknown = set(data) - CLIENT_FIELDS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a client field")
    if "name" in data:
        client.name = _text(data["name"], "name", max_length=200, required=True)
    if "status" in data:
        if data["status"] not in Client.Status.values:
            raise ValidationError("status", f"must be one of {', '.join(Client.Status.values)}")
        client.status = data["status"]
    if "email" in data:
        client.email = clean_email(data["email"]) if data["email"] else ""
    if "phone" in data:
        client.phone = _text(data["phone"], "phone", max_length=50)
    if "website" in data:
        website = _text(data["website"], "website", max_length=200)
        if website:
            try:
                URLValidator()(website)
            except Exception:
                raise ValidationError("website", "is not a valid URL") from None
        client.website = website
    if "notes" in data:
        client.notes = _text(data["notes"], "notes", max_length=10_000)


@transaction.atomic
def create_client(company, data: dict[str, Any], *, actor=None) -> Client:
    if "name" not in data:
        raise ValidationError("name", "is required")
    client = Client(company=company)
    _apply_client_fields(client, data)
    client.save()
    log_action(client, "client.created", actor=actor, data={"name": client.name})
    return client


@transaction.atomic
def update_client(client: Client, changes: dict[str, Any], *, actor=None) -> Client:
    _apply_client_fields(client, changes)
    client.save()
    log_action(client, "client.updated", actor=actor, data=changes)
    return client


@transaction.atomic
def delete_client(client: Client, *, actor=None) -> None:
    """Delete a client with no business history; otherwise refuse (archive it instead)."""
    log_action(client, "client.deleted", actor=actor, data={"name": client.name})
    try:
        with transaction.atomic():
            client.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise delete_blocked(exc, "client", "archive it (status=archived) instead of "
                             "deleting") from None


SITE_FIELDS = {"name", "address", "city", "postal_code", "country", "timezone"}


def _apply_site_fields(site: Site, data: dict[str, Any]) -> None:
    unknown = set(data) - SITE_FIELDS - {"client_id"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a site field")
    if "name" in data:
        site.name = _text(data["name"], "name", max_length=200, required=True)
    for key, limit in (("address", 300), ("city", 100), ("postal_code", 20)):
        if key in data:
            setattr(site, key, _text(data[key], key, max_length=limit))
    if "country" in data:
        country = _text(data["country"], "country", max_length=2).upper()
        if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
            raise ValidationError("country", "must be a two-letter ISO 3166 code")
        site.country = country
    if "timezone" in data:
        site.timezone = validate_timezone(data["timezone"]) if data["timezone"] else ""


@transaction.atomic
def create_site(client: Client, data: dict[str, Any], *, actor=None) -> Site:
    if "name" not in data:
        raise ValidationError("name", "is required")
    site = Site(company_id=client.company_id, client=client)
    _apply_site_fields(site, data)
    site.save()
    log_action(site, "site.created", actor=actor, data={"name": site.name})
    return site


@transaction.atomic
def update_site(site: Site, changes: dict[str, Any], *, actor=None) -> Site:
    _apply_site_fields(site, changes)
    site.save()
    log_action(site, "site.updated", actor=actor, data=changes)
    return site


@transaction.atomic
def delete_site(site: Site, *, actor=None) -> None:
    log_action(site, "site.deleted", actor=actor, data={"name": site.name})
    site.delete()


CONTACT_FIELDS = {"name", "email", "phone", "title", "timezone", "portal_access",
                  "portal_admin"}
NO_STAFF_PASSWORDS = ("staff do not set a contact's password: invite the contact "
                      "(POST /contacts/{id}/invite) or let them use the portal's reset link")


def check_portal_change(contact: Contact, data: dict[str, Any], actor_role: str | None) -> None:
    """Portal access, portal admin, and the e-mail of a contact who can sign in to the portal
    (the reset link goes there) change only with the ``contacts.portal`` permission.
    ``actor_role`` None is the system (imports, the demo, tests of actions)."""
    if actor_role is None or allowed(actor_role, "contacts.portal"):
        return
    for flag in ("portal_access", "portal_admin"):
        if flag in data and bool(data[flag]) != getattr(contact, flag):
            raise PermissionDenied(f"{flag}: the {actor_role} role may not change portal "
                                   "access (contacts.portal)")
    can_sign_in = contact.pk is not None and (contact.portal_access or contact.has_password)
    if can_sign_in and "email" in data and data["email"] != contact.email:
        try:
            same = clean_email(data["email"]) == contact.email
        except ValidationError:
            same = False
        if not same:
            raise PermissionDenied(f"email: the {actor_role} role may not change the e-mail of a "
                                   "contact with portal access (contacts.portal)")


def _apply_contact_fields(contact: Contact, data: dict[str, Any], *,
                          actor_role: str | None = None) -> None:
    if "password" in data:
        raise ValidationError("password", NO_STAFF_PASSWORDS, code="not_allowed")
    unknown = set(data) - CONTACT_FIELDS - {"client_id"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a contact field")
    check_portal_change(contact, data, actor_role)
    if "name" in data:
        contact.name = _text(data["name"], "name", max_length=200, required=True)
    if "email" in data:
        contact.email = clean_email(data["email"])
    if "phone" in data:
        contact.phone = _text(data["phone"], "phone", max_length=50)
    if "title" in data:
        contact.title = _text(data["title"], "title", max_length=100)
    if "timezone" in data:
        contact.timezone = validate_timezone(data["timezone"]) if data["timezone"] else ""
    if "portal_access" in data:
        contact.portal_access = _bool(data["portal_access"], "portal_access")
    if "portal_admin" in data:
        contact.portal_admin = _bool(data["portal_admin"], "portal_admin")


@transaction.atomic
def create_contact(client: Client, data: dict[str, Any], *, actor=None,
                   actor_role: str | None = None, send_invitation: bool = True) -> Contact:
    """Create a contact. With portal access, the contact is e-mailed an invitation to choose
    a password (``send_invitation=False`` lets the demo and tests set one with
    :func:`set_contact_password` instead)."""
    for required in ("name", "email"):
        if required not in data:
            raise ValidationError(required, "is required")
    contact = Contact(company_id=client.company_id, client=client)
    _apply_contact_fields(contact, data, actor_role=actor_role)
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise ValidationError("email", "another contact of this client has this email") from None
    log_action(contact, "contact.created", actor=actor,
               data={"email": contact.email, "portal_access": contact.portal_access})
    if send_invitation and contact.portal_access and not contact.has_password:
        # Portal access without a password: the contact chooses one through an invitation.
        invite_contact(contact, actor=actor)
    return contact


@transaction.atomic
def update_contact(contact: Contact, changes: dict[str, Any], *, actor=None,
                   actor_role: str | None = None) -> Contact:
    _apply_contact_fields(contact, changes, actor_role=actor_role)
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise ValidationError("email", "another contact of this client has this email") from None
    log_action(contact, "contact.updated", actor=actor, data=changes)
    return contact


@transaction.atomic
def delete_contact(contact: Contact, *, actor=None) -> None:
    log_action(contact, "contact.deleted", actor=actor, data={"email": contact.email})
    try:
        with transaction.atomic():
            contact.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise delete_blocked(exc, "contact", "remove portal access instead of deleting") \
            from None


# --- portal access ------------------------------------------------------------------------------
#
# Invitations and password resets are mailed through the notification outbox (events in
# ``clients/events.py``): retried like every notification, logged, and sent only after the
# action commits. A contact cannot opt out of them (contacts have no preferences; the events
# default to email for contacts).


@transaction.atomic
def invite_contact(contact: Contact, *, actor=None, actor_role: str | None = None) -> Contact:
    """Give a contact portal access and email them a link to choose their password."""
    if actor_role is not None and not allowed(actor_role, "contacts.portal"):
        raise PermissionDenied(f"the {actor_role} role may not invite contacts to the portal "
                               "(contacts.portal)")
    from nestogy.clients.events import INVITED

    if contact.client.status == Client.Status.ARCHIVED:
        raise Conflict(f"{contact.client.name} is archived: its contacts cannot sign in to the "
                       "portal; restore the client first")
    if not contact.portal_access:
        contact.portal_access = True
        contact.save(update_fields=["portal_access", "updated_at"])
    log_action(contact, INVITED, actor=actor, data={"email": contact.email})
    emit(INVITED, company_id=contact.company_id, actor=actor, data={"contact_id": contact.pk})
    return contact


@transaction.atomic
def request_password_reset(contact: Contact) -> None:
    """Email a password-reset link (only to contacts who may use the portal)."""
    from nestogy.clients.events import PASSWORD_RESET
    from nestogy.clients.queries import portal_contacts

    if not portal_contacts().filter(pk=contact.pk).exists():
        return
    log_action(contact, PASSWORD_RESET, actor=None, data={})
    emit(PASSWORD_RESET, company_id=contact.company_id, data={"contact_id": contact.pk})


def request_password_reset_for_email(email: str) -> None:
    """Ask for reset links for every portal account with ``email``, in the background.

    The caller (the portal's "forgot password" form) does the same work whether or not the
    address is known: it only enqueues :func:`nestogy.clients.tasks.send_password_reset_links`,
    which looks the contacts up. The answer therefore takes the same time either way.
    """
    from nestogy.clients.tasks import send_password_reset_links

    enqueue_on_commit(send_password_reset_links, clean_email(email))


@transaction.atomic
def set_contact_password(contact: Contact, password: str) -> Contact:
    """Set a portal password: the one way a contact's password is set, used by the portal's
    invitation and reset links (and by the demo seed and test personas). Staff never set it."""
    if not isinstance(password, str) or len(password) < 10:
        raise ValidationError("password", "must be at least 10 characters")
    if len(password) > 128:
        raise ValidationError("password", "must be at most 128 characters")
    contact.set_password(password)
    contact.save(update_fields=["password", "updated_at"])
    log_action(contact, "contact.password_set", actor=None, data={})
    return contact


def record_contact_login(contact: Contact) -> None:
    contact.last_login = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(last_login=contact.last_login)
