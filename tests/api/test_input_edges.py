"""Inputs the fuzzer found or that PostgreSQL treats differently from Python:

- text with a NUL character (PostgreSQL cannot store or even compare it: a 500 before): a
  body field answers 422 naming it, a query parameter 422 naming it, a path 404;
- errors inside unions (contract items, the category-skills forms) and dict keys name the
  exact field;
- a timestamp offset PostgreSQL refuses (beyond ±15:59) is kept as the same instant.
"""

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


def test_errors_inside_unions_and_dict_keys_name_the_exact_field(personas):
    api = personas.owner_a.api
    skill = api.post("/users", {"email": "x@alpha.test", "role": "technician",
                                "skills": {"c-sharp": 9}})
    assert skill.status_code == 422 and skill.data["error"]["field"] == "skills.c-sharp"
    item = api.post("/contracts", {"client_id": personas.client_a.public_id, "name": "C",
                                   "start_date": "2025-01-01", "billing_cycle": "monthly",
                                   "items": [{"kind": "fixed", "description": "Seats",
                                              "quantity": "x", "unit_price": "1"}]})
    assert item.status_code == 422 and item.data["error"]["field"] == "items[0].quantity"
    table = api.put("/routing/category-skills", {"items": [{"category": "a",
                                                            "skills": {"net": 7}}]})
    assert table.status_code == 422
    assert table.data["error"]["field"] == "items[0].skills.net"


def test_timestamps_with_offsets_postgresql_refuses_are_kept_as_the_same_instant(personas):
    """ISO 8601 allows offsets up to ±23:59; PostgreSQL refuses more than ±15:59 (a 500)."""
    from tests.test_api_contract import object_ids

    ids = object_ids(personas)
    response = personas.owner_a.api.post("/usage", {
        "contract_item_id": ids["metered_item_id"], "idempotency_key": "far-offset",
        "occurred_at": "2099-06-06T14:30:31-19:45", "quantity": "1"})
    assert response.status_code == 201, response.data
    assert response.data["occurred_at"] == "2099-06-07T10:15:31Z"
