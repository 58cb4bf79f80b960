"""What the portal's dashboard shows: open tickets, unpaid invoices, active contracts.

Each section takes the signed-in contact and returns a dict for the template, or None to
hide itself; :data:`SECTIONS` lists them in the order they are shown. Each runs a fixed
number of queries, inside the contact's company scope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nestogy.contracts.models import Contract
from nestogy.portal import queries
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


SECTIONS: tuple[tuple[str, Callable[[Any], dict | None]], ...] = (
    ("tickets", tickets_section),
    ("invoices", invoices_section),
    ("contracts", contracts_section),
)


def dashboard_sections(contact) -> list[dict]:
    sections = []
    for name, section in SECTIONS:
        data = section(contact)
        if data is not None:
            sections.append({"name": name, **data})
    return sections
