"""The dashboard's sections: open tickets, unpaid invoices, active contracts.

Registered in :data:`nestogy.portal.dashboard.PROVIDERS` when the app is ready. Each runs a
fixed number of queries, inside the contact's company scope.
"""

from __future__ import annotations

from nestogy.contracts.models import Contract
from nestogy.portal import queries
from nestogy.portal.dashboard import PROVIDERS
from nestogy.tickets.models import CLOSED_STATUSES


def tickets_section(contact) -> dict:
    open_tickets = queries.visible_tickets(contact).exclude(status__in=CLOSED_STATUSES)
    return {"template": "portal/sections/tickets.html", "open_count": open_tickets.count(),
            "recent": list(queries.ticket_list(contact)[:5]),
            "scope": "your company's" if contact.portal_admin else "your"}


def invoices_section(contact) -> dict:
    return {"template": "portal/sections/invoices.html",
            "totals": queries.unpaid_totals(contact),
            "unpaid": list(queries.unpaid_invoices(contact)[:5])}


def contracts_section(contact) -> dict:
    active = [c for c in queries.client_contracts(contact)
              if c.status == Contract.Status.ACTIVE]
    return {"template": "portal/sections/contracts.html", "active": active}


def register() -> None:
    names = {name for name, _ in PROVIDERS}
    for name, provider in (("tickets", tickets_section), ("invoices", invoices_section),
                           ("contracts", contracts_section)):
        if name not in names:
            PROVIDERS.append((name, provider))
