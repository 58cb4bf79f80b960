"""Every change to clients, sites and contacts: validated, atomic, audited."""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.template.loader import render_to_string
from django.utils import timezone

from nestogy.accounts.actions import clean_email
from nestogy.audit.actions import log_action
from nestogy.clients.models import Client, Contact, Site
from nestogy.clients.tokens import set_password_url
from nestogy.core.errors import ValidationError, delete_blocked
from nestogy.core.timeutil import validate_timezone
from nestogy.core.validation import clean_text as _text


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(field, "must be true or false")
    return value


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
                  "portal_admin", "password"}


def _apply_contact_fields(contact: Contact, data: dict[str, Any]) -> None:
    unknown = set(data) - CONTACT_FIELDS - {"client_id"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a contact field")
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
    if data.get("password") is not None:
        password = data["password"]
        if not isinstance(password, str) or len(password) < 10:
            raise ValidationError("password", "must be at least 10 characters")
        if len(password) > 128:
            raise ValidationError("password", "must be at most 128 characters")
        contact.set_password(password)


@transaction.atomic
def create_contact(client: Client, data: dict[str, Any], *, actor=None) -> Contact:
    for required in ("name", "email"):
        if required not in data:
            raise ValidationError(required, "is required")
    contact = Contact(company_id=client.company_id, client=client)
    _apply_contact_fields(contact, data)
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise ValidationError("email", "another contact of this client has this email") from None
    log_action(contact, "contact.created", actor=actor,
               data={"email": contact.email, "portal_access": contact.portal_access})
    if contact.portal_access and not contact.has_password:
        # Portal access without a password: the contact chooses one through an invitation.
        invite_contact(contact, actor=actor)
    return contact


@transaction.atomic
def update_contact(contact: Contact, changes: dict[str, Any], *, actor=None) -> Contact:
    _apply_contact_fields(contact, changes)
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise ValidationError("email", "another contact of this client has this email") from None
    audit = {k: v for k, v in changes.items() if k != "password"}
    if "password" in changes:
        audit["password_changed"] = True
    log_action(contact, "contact.updated", actor=actor, data=audit)
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
# Invitations and password resets are authentication messages: like Django's own password
# reset, they are sent straight through Django's mail (after commit), not through the
# notification preferences, because a contact cannot opt out of the link that lets them in.


def _send_contact_link(contact: Contact, template: str, subject: str) -> None:
    context = {"contact": contact, "company_name": _company_name(contact),
               "link": set_password_url(contact)}
    text = render_to_string(f"clients/email/{template}.txt", context)
    html = render_to_string(f"clients/email/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[contact.email])
    message.attach_alternative(html, "text/html")
    message.send()


@transaction.atomic
def invite_contact(contact: Contact, *, actor=None) -> Contact:
    """Give a contact portal access and email them a link to choose their password."""
    if not contact.portal_access:
        contact.portal_access = True
        contact.save(update_fields=["portal_access", "updated_at"])
    log_action(contact, "contact.invited", actor=actor, data={"email": contact.email})
    company_name = _company_name(contact)
    transaction.on_commit(lambda: _send_contact_link(
        contact, "portal_invitation", f"{company_name}: your client portal access"))
    return contact


def request_password_reset(contact: Contact) -> None:
    """Email a password-reset link (only to contacts who may use the portal)."""
    if not contact.portal_access:
        return
    log_action(contact, "contact.password_reset_requested", actor=None, data={})
    company_name = _company_name(contact)
    transaction.on_commit(lambda: _send_contact_link(
        contact, "portal_password_reset", f"{company_name}: reset your portal password"))


@transaction.atomic
def set_contact_password(contact: Contact, password: str) -> Contact:
    """Set a portal password chosen through an invitation or reset link."""
    _apply_contact_fields(contact, {"password": password})
    contact.save(update_fields=["password", "updated_at"])
    log_action(contact, "contact.password_set", actor=None, data={})
    return contact


def record_contact_login(contact: Contact) -> None:
    contact.last_login = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(last_login=contact.last_login)


def _company_name(contact: Contact) -> str:
    from nestogy.tenancy.models import Company

    names = Company.objects.filter(pk=contact.company_id).values_list("name", flat=True)
    return names.first() or ""
