"""Reads of clients, sites and contacts. The active company scope filters every query."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from nestogy.clients.models import Client, Contact, Site
from nestogy.core.errors import NotFound


def clients(*, q: str | None = None, status: str | None = None) -> QuerySet[Client]:
    qs = Client.objects.all()
    if q:
        qs = qs.filter(name__icontains=q)
    if status:
        qs = qs.filter(status=status)
    return qs


def search_clients(q: str | None = None, *, status: str | None = None) -> QuerySet[Client]:
    """Clients whose name, or one of whose contacts' e-mail address, contains ``q``
    (case-insensitive; each client once)."""
    qs = clients(status=status)
    q = (q or "").strip()
    if q:
        by_contact = Contact.objects.filter(client=OuterRef("pk"), email__icontains=q)
        qs = qs.filter(Q(name__icontains=q) | Exists(by_contact))
    return qs


def get_client(public_id: str, field: str = "client") -> Client:
    client = Client.objects.filter(public_id=public_id).first()
    if client is None:
        raise NotFound(f"{field} not found")
    return client


def contacts(*, client: Client | None = None, q: str | None = None) -> QuerySet[Contact]:
    qs = Contact.objects.select_related("client")
    if client is not None:
        qs = qs.filter(client=client)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(email__icontains=q))
    return qs


def portal_contacts() -> QuerySet[Contact]:
    """Contacts who may use the client portal: access granted, their client active and their
    company (the MSP) active. Used by sign-in, open sessions, reset and invitation links."""
    return Contact.objects.filter(portal_access=True, client__status=Client.Status.ACTIVE,
                                  company__is_active=True)


def get_contact(public_id: str) -> Contact:
    contact = Contact.objects.select_related("client").filter(public_id=public_id).first()
    if contact is None:
        raise NotFound("contact not found")
    return contact


def get_site(public_id: str) -> Site:
    site = Site.objects.select_related("client").filter(public_id=public_id).first()
    if site is None:
        raise NotFound("site not found")
    return site
