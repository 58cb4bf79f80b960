"""Builders for the portal suites: tickets, invoices and a contract for the personas."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from django.test import Client as HttpClient
from django.utils import timezone
from django_scopes import scope

from nestogy.billing.actions import create_invoice, issue_invoice, void_invoice
from nestogy.contracts.actions import create_contract
from nestogy.tickets.actions import add_reply, create_ticket
from tests.conftest import PASSWORD, portal_contact

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% test\n"


def signed_in(email: str, **kw) -> HttpClient:
    http = HttpClient(**kw)
    response = http.post("/portal/login/", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return http


def invoice(client, amount="120.00", *, issue=True):
    draft = create_invoice(client.company, client, {"items": [
        {"description": "Managed workstation", "quantity": "4", "unit_price": "25.00"},
        {"description": "Onsite visit", "unit_price": str(float(amount) - 100),
         "taxable": False}]})
    return issue_invoice(draft) if issue else draft


def contract(client, *, start=None, end=None, auto_renew=True):
    today = timezone.localdate()
    return create_contract(client.company, client, {
        "name": f"Managed services {client.name}",
        "start_date": (start or today - timedelta(days=90)).isoformat(),
        "end_date": (end or today + timedelta(days=275)).isoformat(),
        "billing_cycle": "monthly", "auto_renew": auto_renew,
        "items": [{"kind": "fixed", "description": "Managed workstation", "quantity": "12",
                   "unit_price": "35.00"},
                  {"kind": "fixed", "description": "Microsoft 365 seat", "quantity": "12",
                   "unit_price": "12.50"}]})


def world(p) -> SimpleNamespace:
    """Company A data: Dana (client_a, not portal admin) and a colleague Gus at the same
    client, Eli at client_a2; tickets, invoices and a contract. Company B: Finn's ticket and
    invoice. Every object the portal shows, plus the ones it must hide."""
    w = SimpleNamespace()
    with scope(company=p.company_a.pk):
        w.gus = portal_contact(p.client_a, {"name": "Gus Colleague",
                                            "email": "gus@acme.test"})
        w.dana_ticket = create_ticket(p.company_a, {
            "client": p.client_a, "contact": p.contact_a, "subject": "Printer offline",
            "description": "The front desk printer shows offline.", "priority": "high"})
        add_reply(w.dana_ticket, "We are looking at it.", public=True, actor=p.tech_a.user)
        add_reply(w.dana_ticket, "INTERNAL: toner vendor owes us", public=False,
                  actor=p.tech_a.user)
        w.gus_ticket = create_ticket(p.company_a, {
            "client": p.client_a, "contact": w.gus, "subject": "VPN drops",
            "description": "Every hour.", "priority": "medium"})
        w.eli_ticket = create_ticket(p.company_a, {
            "client": p.client_a2, "contact": p.contact_a2, "subject": "Eli's secret ticket",
            "description": "Blue Ridge only."})
        w.contract = contract(p.client_a)
        w.invoice = invoice(p.client_a, "150.00")
        w.draft = invoice(p.client_a, "999.00", issue=False)
        w.void = void_invoice(invoice(p.client_a, "130.00"), reason="duplicate")
        w.eli_invoice = invoice(p.client_a2, "200.00")
    with scope(company=p.company_b.pk):
        w.finn_ticket = create_ticket(p.company_b, {
            "client": p.client_b, "contact": p.contact_b, "subject": "Bravo ticket"})
        w.finn_invoice = invoice(p.client_b, "175.00")
    return w
