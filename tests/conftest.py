"""Shared fixtures: the personas every suite uses, and an API client per persona.

Personas (see ARCHITECTURE.md, Tests): company A ("Alpha IT") has an owner, an admin, a
manager, two technicians and a billing clerk, two clients with a contact each; company B
("Bravo IT") has an owner and a technician, one client and one contact. B must never see A.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from django.test import Client as HttpClient
from django_scopes import scope, scopes_disabled

from nestogy.accounts.actions import add_member, issue_api_token
from nestogy.clients.actions import create_client, create_contact, set_contact_password
from nestogy.ops.provisioning import provision_company

pytest_plugins = ["tests.browser"]

PASSWORD = "correct-horse-battery"


class Api:
    """A JSON client for /api/v1 authenticated as one persona."""

    def __init__(self, token: str | None):
        self.http = HttpClient()
        self.token = token

    def _headers(self, extra=None):
        headers = dict(extra or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def request(self, method: str, path: str, body=None, *, headers=None, params=None):
        url = path if path.startswith(("/api/", "/healthz")) else "/api/v1" + path
        kwargs = {"headers": self._headers(headers)}
        if method == "get":
            response = self.http.get(url, params or {}, **kwargs)
        else:
            data = json.dumps(body) if body is not None else ""
            response = getattr(self.http, method)(url, data=data,
                                                  content_type="application/json", **kwargs)
        try:
            response.data = response.json()
        except (ValueError, json.JSONDecodeError):
            response.data = None
        return response

    def get(self, path, **params):
        return self.request("get", path, params=params)

    def post(self, path, body=None, **kw):
        return self.request("post", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("patch", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("put", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("delete", path, **kw)


def portal_contact(client, data: dict, password: str = PASSWORD):
    """A contact with portal access and a known password, set through the same action the
    portal's invitation and reset links use (staff never set contacts' passwords)."""
    contact = create_contact(client, {**data, "portal_access": True}, send_invitation=False)
    return set_contact_password(contact, password)


def _member(company, email, role, **extra):
    membership = add_member(company, email=email, name=email.split("@")[0].title(), role=role,
                            password=PASSWORD, **extra)
    _, token = issue_api_token(membership, name="tests")
    return SimpleNamespace(membership=membership, user=membership.user, token=token,
                           api=Api(token), role=role, email=email)


@pytest.fixture
def personas(db):
    a = provision_company(name="Alpha IT", owner_email="owner@alpha.test",
                          timezone="America/New_York", currency="USD",
                          owner_password=PASSWORD)
    b = provision_company(name="Bravo IT", owner_email="owner@bravo.test",
                          timezone="Europe/Berlin", currency="EUR", owner_password=PASSWORD)
    p = SimpleNamespace(company_a=a.company, company_b=b.company)
    p.owner_a = SimpleNamespace(membership=a.owner, user=a.owner.user, token=a.api_token,
                                api=Api(a.api_token), role="owner", email="owner@alpha.test")
    p.owner_b = SimpleNamespace(membership=b.owner, user=b.owner.user, token=b.api_token,
                                api=Api(b.api_token), role="owner", email="owner@bravo.test")
    with scope(company=a.company.pk):
        p.admin_a = _member(a.company, "admin@alpha.test", "admin")
        p.manager_a = _member(a.company, "manager@alpha.test", "manager")
        p.tech_a = _member(a.company, "tech1@alpha.test", "technician",
                           skills={"networking": 4, "windows": 3}, max_open_tickets=10)
        p.tech2_a = _member(a.company, "tech2@alpha.test", "technician",
                            skills={"windows": 5}, max_open_tickets=10)
        p.billing_a = _member(a.company, "billing@alpha.test", "billing")
        p.client_a = create_client(a.company, {"name": "Acme Dental"})
        p.client_a2 = create_client(a.company, {"name": "Blue Ridge Accounting"})
        p.contact_a = portal_contact(p.client_a, {"name": "Dana Contact",
                                                  "email": "dana@acme.test"})
        p.contact_a2 = portal_contact(p.client_a2, {"name": "Eli Contact",
                                                    "email": "eli@blueridge.test"})
    with scope(company=b.company.pk):
        p.tech_b = _member(b.company, "tech@bravo.test", "technician")
        p.client_b = create_client(b.company, {"name": "Bravo Client"})
        p.contact_b = portal_contact(p.client_b, {"name": "Finn Contact",
                                                  "email": "finn@bravoclient.test"})
    p.anonymous = Api(None)
    return p


@pytest.fixture
def in_a(personas):
    """Run the test body inside company A's scope (for direct ORM/action calls)."""
    with scope(company=personas.company_a.pk):
        yield personas


@pytest.fixture
def unscoped():
    with scopes_disabled():
        yield


@pytest.fixture
def no_private(settings):
    """Outgoing requests may reach public addresses only (the test settings otherwise allow
    loopback, where the tests' receivers listen)."""
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = []
    settings.NESTOGY_NOTIFY_ALLOW_PRIVATE_TARGETS = False
