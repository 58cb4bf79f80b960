"""Text with a NUL character: PostgreSQL cannot store or even compare it (a 500 before).
A body field answers 422 naming it, a query parameter 422 naming it, a path 404; nothing
is written."""

from __future__ import annotations

from tests.test_api_contract import object_ids, row_counts


def test_nul_in_a_body_field_answers_422_naming_it(personas):
    ids = object_ids(personas)
    api = personas.owner_a.api
    before = row_counts()
    response = api.post("/clients", {"name": "Acme\x00Evil"})
    assert response.status_code == 422 and response.data["error"]["field"] == "name"
    nested = api.post("/invoices", {"client_id": ids["client_id"], "items": [
        {"description": "ok", "unit_price": "1"}, {"description": "bad\x00", "unit_price": "1"}]})
    assert nested.status_code == 422
    assert nested.data["error"]["field"] == "items[1].description"
    key = api.put("/routing/category-skills", {"category": "net", "skills": {"a\x00b": 3}})
    assert key.status_code == 422 and key.data["error"]["field"] == "skills.a\x00b"
    assert row_counts() == before


def test_nul_in_a_query_parameter_answers_422_naming_it(personas):
    response = personas.owner_a.api.get("/clients", q="Acme\x00")
    assert response.status_code == 422 and response.data["error"]["field"] == "q"


def test_nul_in_a_path_answers_404(personas):
    api = personas.owner_a.api
    for path in ("/clients/cli_\x00", "/tickets/%00", "/invoices/\x00/pdf"):
        response = api.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert response.data["error"]["code"] == "not_found"
