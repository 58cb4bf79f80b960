"""What a signed-in contact may see. Every read of the portal goes through these helpers.

They run inside the contact's company scope (``auth.contact_required``) and add the client
filter on top: a contact sees its own client's invoices and contracts; tickets are the
contact's own unless the contact is the client's portal admin, who sees all of the client's
tickets. Anything else is "not found" (404), never "forbidden", so ids of other clients
cannot be probed.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Q, QuerySet, Sum
from django.http import Http404

from nestogy.billing.models import Invoice
from nestogy.contracts.models import Contract
from nestogy.contracts.queries import contracts as contract_rows
from nestogy.tenancy.models import Company
from nestogy.tenancy.queries import company_today
from nestogy.tickets.models import CLOSED_STATUSES, Priority, Reply, Ticket


def contact_timezone(contact) -> ZoneInfo:
    """The contact's own time zone, else the company's, else UTC."""
    for name in (contact.timezone,
                 Company.objects.filter(pk=contact.company_id)
                 .values_list("timezone", flat=True).first()):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


# -- tickets ----------------------------------------------------------------------------------

def visible_tickets(contact) -> QuerySet[Ticket]:
    qs = Ticket.objects.filter(client_id=contact.client_id)
    if not contact.portal_admin:
        qs = qs.filter(contact_id=contact.pk)
    return qs


def ticket_list(contact, *, status: str = "") -> QuerySet[Ticket]:
    qs = visible_tickets(contact).select_related("contact")
    if status == "open":
        qs = qs.exclude(status__in=CLOSED_STATUSES)
    elif status == "closed":
        qs = qs.filter(status__in=CLOSED_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("-opened_at", "-id")


def get_ticket(contact, public_id: str) -> Ticket:
    ticket = visible_tickets(contact).select_related("client", "contact").filter(
        public_id=public_id).first()
    if ticket is None:
        raise Http404("ticket not found")
    return ticket


def public_replies(ticket: Ticket) -> list[Reply]:
    """The replies a client may read: public ones only, never internal notes."""
    return list(Reply.objects.filter(ticket=ticket, public=True)
                .select_related("author_user", "author_contact").order_by("posted_at", "id"))


def has_active_contract(client, on: date | None = None) -> bool:
    on = on or company_today(client.company)
    return (Contract.objects.filter(client=client, status=Contract.Status.ACTIVE,
                                    start_date__lte=on)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=on)).exists())


def allowed_priorities(client, on: date | None = None) -> list[tuple[str, str]]:
    """Priorities a contact may choose: low, medium and high always; critical only while
    the client has a contract in force (active, started, not ended)."""
    choices = [(p.value, p.label) for p in Priority]
    if not has_active_contract(client, on):
        choices = [c for c in choices if c[0] != Priority.CRITICAL]
    return choices


# -- billing ----------------------------------------------------------------------------------

def visible_invoices(contact) -> QuerySet[Invoice]:
    """The client's invoices and credit notes, drafts never (they are not issued yet)."""
    return (Invoice.objects.filter(client_id=contact.client_id)
            .exclude(status=Invoice.Status.DRAFT))


def get_invoice(contact, public_id: str) -> Invoice:
    invoice = visible_invoices(contact).select_related("client", "company").filter(
        public_id=public_id).first()
    if invoice is None:
        raise Http404("invoice not found")
    return invoice


def unpaid_invoices(contact) -> QuerySet[Invoice]:
    return (visible_invoices(contact).filter(status__in=Invoice.OPEN_STATUSES, balance__gt=0)
            .order_by("due_date", "id"))


def unpaid_totals(contact) -> list[dict]:
    """Open balance per currency (a client is normally billed in one currency)."""
    return list(unpaid_invoices(contact).order_by().values("currency")
                .annotate(balance=Sum("balance")).order_by("currency"))


def client_contracts(contact) -> QuerySet[Contract]:
    """The client's contracts that are or were in force (no drafts, no cancelled ones)."""
    return (contract_rows(client=contact.client)
            .filter(status__in=[Contract.Status.ACTIVE, Contract.Status.ENDED])
            .order_by("status", "-start_date", "-id"))
