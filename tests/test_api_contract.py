"""Cross-cutting API guarantees, checked for every operation of the OpenAPI document:

- another company's object answers 404, exactly like a missing one;
- a body with an unknown field answers 422 naming it, and writes nothing;
- no bearer token answers 401;
- the role matrix: each role gets 403 exactly where accounts.roles.MATRIX says so.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest
from django.apps import apps
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import MATRIX
from nestogy.api.app import api
from nestogy.clients.actions import create_site
from tests.api_catalog import PERMISSIONS, PUBLIC, SAMPLE_BODIES, SELF_SERVICE

PREFIX = "/api/v1"
_counter = itertools.count(1)


def operations():
    schema = api.get_openapi_schema(path_prefix="")
    for path, methods in schema["paths"].items():
        for method, spec in methods.items():
            yield method.upper(), path.removeprefix(PREFIX) or "/", spec


OPERATIONS = sorted((m, p) for m, p, _ in operations())


def has_body(method, path):
    for m, p, spec in operations():
        if (m, p) == (method, path):
            return "requestBody" in spec
    return False


def object_ids(p) -> dict[str, str]:
    """One object of company A for every path parameter name used by the API."""
    with scope(company=p.company_a.pk):
        site = create_site(p.client_a, {"name": "Server room"})
        token = p.tech_a.membership.user.api_tokens.first()
    ids = {
        "client_id": p.client_a.public_id,
        "contact_id": p.contact_a.public_id,
        "user_id": p.tech2_a.user.public_id,
        "site_id": site.public_id,
        "token_id": token.public_id,
    }
    with scope(company=p.company_a.pk):
        from nestogy.notifications.models import Notification

        ids["notification_id"] = Notification.objects.create(
            company=p.company_a, user=p.tech_a.user, event_type="ticket.created",
            title="Matrix notification").public_id
    ids.update(desk_object_ids(p))
    ids.update(billing_object_ids(p))
    ids["absence_id"] = _absence(p)
    ids["invitation_id"] = _invitation(p)
    ids.update(payments_object_ids(p))
    return ids


def _absence(p) -> str:
    """Routing: an out-of-office period of a company A technician."""
    from datetime import UTC, datetime

    from nestogy.routing.actions import add_out_of_office

    with scope(company=p.company_a.pk):
        return add_out_of_office(p.tech2_a.user, p.company_a,
                                 datetime(2026, 8, 1, tzinfo=UTC),
                                 datetime(2026, 8, 8, tzinfo=UTC)).public_id


def _invitation(p) -> str:
    """A pending invitation of company A to an account that exists elsewhere."""
    from nestogy.accounts.actions import invite_member
    from nestogy.accounts.models import User

    n = next(_counter)
    User.objects.create_user(f"invitee{n}@elsewhere.test")
    with scope(company=p.company_a.pk):
        return invite_member(p.company_a, email=f"invitee{n}@elsewhere.test",
                             role="technician").public_id


def desk_object_ids(p) -> dict[str, str]:
    """Service desk objects of company A: a calendar, a policy, a ticket."""
    from nestogy.sla.models import SLAPolicy
    from nestogy.tickets.actions import create_ticket

    with scope(company=p.company_a.pk):
        policy = SLAPolicy.objects.select_related("calendar").get(is_default=True)
        ticket = create_ticket(p.company_a, {"client": p.client_a, "subject": "Printer"})
    return {"calendar_id": policy.calendar.public_id, "policy_id": policy.public_id,
            "ticket_id": ticket.public_id}


def payments_object_ids(p) -> dict[str, str]:
    """Payments step: a check payment of client A kept as credit (refundable)."""
    from nestogy.payments.recording import record_client_payment

    with scope(company=p.company_a.pk):
        payment = record_client_payment(p.client_a, {"amount": "100.00", "method": "check"},
                                        allocations=[])
    return {"payment_id": payment.public_id}


def billing_object_ids(p) -> dict[str, str]:
    """Billing step: a contract (fixed + metered item) and an issued invoice of company A."""
    from nestogy.billing.actions import create_invoice, issue_invoice
    from nestogy.contracts.actions import create_contract

    with scope(company=p.company_a.pk):
        contract = create_contract(p.company_a, p.client_a, {
            "name": "Matrix", "start_date": "2025-01-01", "billing_cycle": "monthly",
            "items": [{"kind": "fixed", "description": "Seats", "quantity": "2",
                       "unit_price": "10"},
                      {"kind": "metered", "description": "Backup", "metric": "GB",
                       "pricing": {"mode": "volume", "tiers": [{"up_to": None,
                                                                "unit_price": "0.1"}]}}]})
        fixed, metered = contract.items.order_by("position")
        invoice = create_invoice(p.company_a, p.client_a,
                                 {"items": [{"description": "Setup", "unit_price": "50"}]})
        issue_invoice(invoice)
    return {"contract_id": contract.public_id, "item_id": fixed.public_id,
            "metered_item_id": metered.public_id, "invoice_id": invoice.public_id}


def fill(path: str, ids: dict[str, str]) -> str:
    def sub(match):
        name = match.group(1)
        if name not in ids:
            raise AssertionError(f"no test object for path parameter {name!r} in {path}")
        return ids[name]
    return re.sub(r"\{(\w+)\}", sub, path)


def body_for(method, path, ids):
    raw = json.dumps(SAMPLE_BODIES.get((method, path), {}))
    raw = raw.replace("{n}", str(next(_counter)))
    for name, value in ids.items():
        raw = raw.replace("{" + name + "}", value)
    return json.loads(raw)


def row_counts():
    with scopes_disabled():
        return {m._meta.label: m._default_manager.count() for m in apps.get_models()
                if m._meta.app_label not in {"sessions", "contenttypes", "admin"}}


def test_catalog_covers_every_operation():
    known = set(PERMISSIONS) | SELF_SERVICE | PUBLIC
    missing = [op for op in OPERATIONS if op not in known]
    assert not missing, f"add these operations to tests/api_catalog.py: {missing}"
    stale = [op for op in known if op not in OPERATIONS]
    assert not stale, f"operations in the catalog but not in the API: {stale}"
    for permission in PERMISSIONS.values():
        assert permission in MATRIX


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if "{" in op[1]])
def test_other_companys_objects_answer_404(personas, method, path):
    ids = object_ids(personas)
    url = fill(path, ids)
    response = personas.owner_b.api.request(method.lower(), url,
                                            body_for(method, path, ids)
                                            if method != "GET" else None)
    assert response.status_code == 404, (method, url, response.status_code, response.data)
    assert response.data["error"]["code"] == "not_found"
    missing = personas.owner_a.api.request(
        method.lower(), re.sub(r"\{(\w+)\}", "xyz_00000000000000000000000000", path),
        body_for(method, path, ids) if method != "GET" else None)
    assert missing.status_code == 404
    assert missing.data == response.data, "another company's object must look exactly missing"


@pytest.mark.parametrize(("method", "path"),
                         [op for op in OPERATIONS if op[0] in {"POST", "PATCH", "PUT"}
                          and op not in PUBLIC])
def test_unknown_body_field_is_rejected_and_nothing_written(personas, method, path):
    if not has_body(method, path):
        pytest.skip("operation takes no body")
    ids = object_ids(personas)
    body = body_for(method, path, ids)
    body["no_such_field"] = 1
    before = row_counts()
    response = personas.owner_a.api.request(method.lower(), fill(path, ids), body)
    assert response.status_code == 422, (method, path, response.data)
    assert response.data["error"]["field"] == "no_such_field"
    assert row_counts() == before


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op not in PUBLIC])
def test_missing_token_answers_401(personas, method, path):
    ids = object_ids(personas)
    response = personas.anonymous.request(method.lower(), fill(path, ids),
                                          body_for(method, path, ids)
                                          if method != "GET" else None)
    assert response.status_code == 401
    assert response.data["error"]["code"] == "not_authenticated"


def test_revoked_or_garbage_token_answers_401(personas):
    from nestogy.api.auth import ApiScopeMiddleware  # noqa: F401  (middleware in use)
    from tests.conftest import Api

    assert Api("nst_not-a-real-token").get("/clients").status_code == 401
    with scope(company=personas.company_a.pk):
        from nestogy.accounts.actions import revoke_api_token

        token = personas.tech_a.membership.user.api_tokens.first()
        revoke_api_token(token)
    assert personas.tech_a.api.get("/clients").status_code == 401


ROLES = ["owner", "admin", "manager", "technician", "billing"]


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(personas, role):
    persona = {"owner": personas.owner_a, "admin": personas.admin_a,
               "manager": personas.manager_a, "technician": personas.tech_a,
               "billing": personas.billing_a}[role]
    failures = []
    for (method, path), permission in sorted(PERMISSIONS.items()):
        ids = object_ids(personas)
        if method == "DELETE":
            # Delete a fresh object so the other checks keep theirs.
            ids = fresh_for_delete(personas, path, ids)
        response = persona.api.request(method.lower(), fill(path, ids),
                                       body_for(method, path, ids) if method != "GET" else None)
        allowed = role in MATRIX[permission]
        if allowed and response.status_code == 403:
            failures.append(f"{method} {path}: {role} should be allowed ({permission})")
        if not allowed and response.status_code != 403:
            failures.append(f"{method} {path}: {role} should get 403, got "
                            f"{response.status_code} ({permission})")
    assert not failures, "\n".join(failures)


def fresh_for_delete(p, path, ids):
    from nestogy.clients.actions import create_client, create_contact

    with scope(company=p.company_a.pk):
        if path == "/clients/{client_id}":
            ids["client_id"] = create_client(p.company_a, {"name": "Doomed"}).public_id
        elif path == "/contacts/{contact_id}":
            ids["contact_id"] = create_contact(
                p.client_a, {"name": "Doomed", "email": f"doomed{next(_counter)}@x.test"}
            ).public_id
        elif path == "/users/{user_id}":
            from nestogy.accounts.actions import add_member

            ids["user_id"] = add_member(p.company_a, email=f"doomed{next(_counter)}@alpha.test",
                                        role="technician").user.public_id
        elif path == "/sites/{site_id}":
            ids["site_id"] = create_site(p.client_a, {"name": "Doomed"}).public_id
        elif path == "/routing/absences/{absence_id}":
            ids["absence_id"] = _absence(p)
        elif path == "/tickets/{ticket_id}":
            from nestogy.tickets.actions import create_ticket

            ids["ticket_id"] = create_ticket(p.company_a, {"client": p.client_a,
                                                           "subject": "Doomed"}).public_id
    return ids
