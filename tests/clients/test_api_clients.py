from django_scopes import scope

from nestogy.audit.models import AuditEntry
from nestogy.clients.models import Client


def audit_actions(company, object_id):
    with scope(company=company.pk):
        return list(AuditEntry.objects.filter(object_id=object_id)
                    .order_by("id").values_list("action", flat=True))


def test_client_crud_round_trip(personas):
    api = personas.owner_a.api
    created = api.post("/clients", {"name": "  Cedar Law  ", "email": "AP@Cedar.test",
                                    "website": "https://cedar.test"})
    assert created.status_code == 201, created.data
    body = created.data
    assert body["name"] == "Cedar Law"
    assert body["email"] == "ap@cedar.test"
    assert body["status"] == "active"
    client_id = body["id"]

    fetched = api.get(f"/clients/{client_id}")
    assert fetched.status_code == 200 and fetched.data == body

    patched = api.patch(f"/clients/{client_id}", {"status": "archived", "notes": "moved"})
    assert patched.status_code == 200
    assert patched.data["status"] == "archived" and patched.data["notes"] == "moved"
    assert patched.data["name"] == "Cedar Law"

    listed = api.get("/clients", status="archived")
    assert [c["id"] for c in listed.data["items"]] == [client_id]

    assert api.delete(f"/clients/{client_id}").status_code == 204
    assert api.get(f"/clients/{client_id}").status_code == 404
    assert audit_actions(personas.company_a, client_id) == [
        "client.created", "client.updated", "client.deleted"]


def test_client_list_is_paginated_with_cursor(personas):
    api = personas.owner_a.api
    for i in range(7):
        assert api.post("/clients", {"name": f"Paged {i:02d}"}).status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": 3, "q": "Paged"}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/clients", **params)
        assert page.status_code == 200
        seen += [c["name"] for c in page.data["items"]]
        cursor = page.data["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Paged {i:02d}" for i in range(7)]


def test_client_list_shows_only_own_company(personas):
    names = {c["name"] for c in personas.owner_b.api.get("/clients").data["items"]}
    assert names == {"Bravo Client"}


def test_bad_client_input_names_the_field_and_writes_nothing(personas):
    api = personas.owner_a.api
    with scope(company=personas.company_a.pk):
        before = Client.objects.count()
    cases = [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Ok", "email": "not-an-email"}, "email"),
        ({"name": "Ok", "status": "deleted"}, "status"),
        ({"name": "Ok", "website": "nota url"}, "website"),
        ({"name": 12}, "name"),
    ]
    for body, field in cases:
        response = api.post("/clients", body)
        assert response.status_code == 422, (body, response.data)
        assert response.data["error"]["field"] == field, (body, response.data)
        assert response.data["error"]["message"]
    with scope(company=personas.company_a.pk):
        assert Client.objects.count() == before


def test_bad_query_parameters_answer_422(personas):
    api = personas.owner_a.api
    assert api.get("/clients", limit=0).data["error"]["field"] == "limit"
    assert api.get("/clients", limit=1000).data["error"]["field"] == "limit"
    response = api.get("/clients", cursor="garbage!!")
    assert response.status_code == 422 and response.data["error"]["field"] == "cursor"


def test_malformed_json_answers_4xx(personas):
    response = personas.owner_a.api.http.post(
        "/api/v1/clients", data="{not json", content_type="application/json",
        headers={"Authorization": f"Bearer {personas.owner_a.token}"})
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_sites_belong_to_a_client(personas):
    api = personas.manager_a.api
    client_id = personas.client_a.public_id
    created = api.post(f"/clients/{client_id}/sites",
                       {"name": "HQ", "city": "Boston", "country": "us",
                        "timezone": "America/New_York"})
    assert created.status_code == 201, created.data
    assert created.data["country"] == "US" and created.data["client_id"] == client_id
    site_id = created.data["id"]
    assert api.get(f"/clients/{client_id}/sites").data["items"][0]["id"] == site_id
    bad = api.patch(f"/sites/{site_id}", {"timezone": "Nowhere/Town"})
    assert bad.status_code == 422 and bad.data["error"]["field"] == "timezone"
    assert api.patch(f"/sites/{site_id}", {"city": "Cambridge"}).data["city"] == "Cambridge"
    assert api.delete(f"/sites/{site_id}").status_code == 204
    assert api.get(f"/sites/{site_id}").status_code == 404
