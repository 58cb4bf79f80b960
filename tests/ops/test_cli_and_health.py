import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import Api


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_tenant_prints_ids_and_a_working_token():
    out = run("create_tenant", "--name", "A", "--owner-email", "a@example.test", "--json")
    data = json.loads(out)
    assert set(data) == {"company_id", "owner_id", "api_token"}
    api = Api(data["api_token"])
    created = api.post("/clients", {"name": "First client"})
    assert created.status_code == 201
    client_id = created.data["id"]
    assert [c["id"] for c in api.get("/clients").data["items"]] == [client_id]
    assert api.patch(f"/clients/{client_id}", {"name": "Renamed"}).data["name"] == "Renamed"

    other = json.loads(run("create_tenant", "--name", "B", "--owner-email", "b@example.test",
                           "--timezone", "Europe/Berlin", "--currency", "EUR", "--json"))
    intruder = Api(other["api_token"])
    assert intruder.get(f"/clients/{client_id}").status_code == 404
    assert intruder.patch(f"/clients/{client_id}", {"name": "x"}).status_code == 404
    assert intruder.delete(f"/clients/{client_id}").status_code == 404
    assert intruder.get("/clients").data["items"] == []
    assert api.delete(f"/clients/{client_id}").status_code == 204


@pytest.mark.django_db
def test_create_tenant_rejects_bad_input_naming_the_field():
    with pytest.raises(CommandError, match="timezone"):
        run("create_tenant", "--name", "A", "--owner-email", "a@x.test", "--timezone", "Nope")
    with pytest.raises(CommandError, match="email"):
        run("create_tenant", "--name", "A", "--owner-email", "not-an-email")
    from nestogy.tenancy.models import Company

    assert not Company.objects.exists()


@pytest.mark.django_db
def test_healthz_answers_without_auth(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_openapi_document_and_docs_page(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    for path in ["/api/v1/clients", "/api/v1/clients/{client_id}", "/api/v1/contacts",
                 "/api/v1/contacts/{contact_id}", "/api/v1/users", "/api/v1/users/{user_id}"]:
        assert path in paths
    assert spec.json()["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    assert b"cdn.jsdelivr" not in docs.content  # assets shipped with the package
