"""The demo's portal contacts can sign in with the documented password and find their
client's tickets, invoices and contracts."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient
from django_scopes import scopes_disabled

from nestogy.clients.models import Contact
from nestogy.ops.demo import PORTAL_PASSWORD, seed_demo

pytestmark = pytest.mark.django_db


def test_demo_portal_contact_sees_their_clients_data():
    seed_demo(report=lambda line: None)
    assert PORTAL_PASSWORD == "portal-demo-2024"
    with scopes_disabled():
        contact = (Contact.objects.filter(portal_access=True, company__slug="northwind-managed-it")
                   .select_related("client").order_by("id").first())
    http = HttpClient()
    response = http.post("/portal/login/", {"email": contact.email, "password": PORTAL_PASSWORD})
    assert response.status_code == 302, contact.email
    tickets = http.get("/portal/tickets/").content.decode()
    assert re.findall(r'href="/portal/tickets/tkt_', tickets), "demo contact has no tickets"
    invoices = http.get("/portal/invoices/").content.decode()
    numbers = re.findall(r'href="/portal/invoices/(inv_[^/]+)/"', invoices)
    assert numbers, "demo contact has no invoices"
    assert http.get(f"/portal/invoices/{numbers[0]}/").status_code == 200
    assert "No contracts on file." not in http.get("/portal/contracts/").content.decode()
    assert contact.client.name in http.get("/portal/").content.decode()
