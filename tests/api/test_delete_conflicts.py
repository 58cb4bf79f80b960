"""Deleting an object that business history still points at answers 409 naming what blocks
it, writes nothing, and never a 500 (every DELETE operation of the OpenAPI document)."""

from __future__ import annotations

import json

import pytest
from django_scopes import scope

from nestogy.audit.models import AuditEntry
from nestogy.clients.models import Client
from tests.test_api_contract import OPERATIONS, fill, object_ids, row_counts

DELETES = [path for method, path in OPERATIONS if method == "DELETE"]


def test_deleting_a_client_with_history_answers_409_naming_the_blockers(personas):
    ids = object_ids(personas)  # client A has tickets, a contract, an invoice, a payment
    api = personas.owner_a.api
    before = row_counts()
    response = api.delete(f"/clients/{ids['client_id']}")
    assert response.status_code == 409, response.content[:300]
    error = response.data["error"]
    assert error["code"] == "conflict"
    for blocker in ("tickets", "contracts", "invoices", "payments"):
        assert blocker in error["message"], error["message"]
    assert "archive" in error["message"]
    assert row_counts() == before
    with scope(company=personas.company_a.pk):
        assert Client.objects.filter(public_id=ids["client_id"]).exists()
        assert not AuditEntry.objects.filter(action="client.deleted").exists()


def test_a_client_without_history_is_deleted(personas):
    api = personas.owner_a.api
    created = api.post("/clients", {"name": "Short-lived"})
    assert api.delete(f"/clients/{created.data['id']}").status_code == 204
    assert api.get(f"/clients/{created.data['id']}").status_code == 404


@pytest.mark.parametrize("path", DELETES)
def test_every_delete_of_a_well_connected_object_answers_204_or_409(personas, path):
    """The objects of object_ids() have tickets, contracts, invoices, payments around them."""
    ids = object_ids(personas)
    api = personas.owner_a.api
    api.http.raise_request_exception = False
    before = row_counts()
    response = api.delete(fill(path, ids))
    assert response.status_code in {204, 409}, (path, response.status_code,
                                                response.content[:300])
    if response.status_code == 409:
        assert response.data["error"]["code"] == "conflict"
        assert row_counts() == before


def test_a_protected_delete_no_action_caught_still_answers_409_naming_the_blockers(personas):
    """The API's backstop: a ProtectedError reaching it is a 409 naming the kinds of rows."""
    from django.db.models import ProtectedError
    from django.test import RequestFactory
    from django_scopes import scope

    from nestogy.api.app import api
    from nestogy.tickets.actions import create_ticket

    with scope(company=personas.company_a.pk):
        ticket = create_ticket(personas.company_a, {"client": personas.client_a,
                                                    "subject": "Blocks"})
    error = ProtectedError("Cannot delete some instances of model 'Client' because they are "
                           "referenced through protected foreign keys", {ticket})
    response = api.on_exception(RequestFactory().delete("/api/v1/clients/x"), error)
    assert response.status_code == 409
    body = json.loads(response.content)
    assert body["error"]["code"] == "conflict"
    assert body["error"]["message"] == "client has tickets"
