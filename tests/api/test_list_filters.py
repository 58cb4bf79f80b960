"""A list filter naming an object (``client_id``, ``assignee_id``, ...) that is another
company's, or does not exist, answers 404 like every other foreign reference; it never
answers an empty 200 page (which would confirm nothing, but hides a client's mistake)."""

from __future__ import annotations

import pytest

from tests.test_api_contract import fill, object_ids, operations

UNKNOWN = "xyz_00000000000000000000000000"

# Filters with a documented special value besides ids.
SPECIAL = {("/tickets", "assignee_id"): "none"}


def id_filters() -> list[tuple[str, str]]:
    return sorted((path, param["name"]) for method, path, spec in operations()
                  if method == "GET"
                  for param in spec.get("parameters", [])
                  if param["in"] == "query" and param["name"].endswith("_id"))


def foreign_object(personas, name: str) -> str:
    """An object of company B for the filter ``name``."""
    objects = {"client_id": personas.client_b.public_id,
               "assignee_id": personas.tech_b.user.public_id,
               "user_id": personas.tech_b.user.public_id,
               "contact_id": personas.contact_b.public_id}
    if name not in objects:
        raise AssertionError(f"add company B's object for the filter {name!r} to this test")
    return objects[name]


def test_id_filters_are_found():
    assert ("/tickets", "client_id") in id_filters()
    assert ("/tickets", "assignee_id") in id_filters()


@pytest.mark.parametrize(("path", "name"), id_filters())
def test_foreign_or_unknown_id_in_a_list_filter_answers_404(personas, path, name):
    ids = object_ids(personas)
    url = fill(path, ids)
    api = personas.owner_a.api
    for value in (foreign_object(personas, name), UNKNOWN):
        response = api.get(url, **{name: value})
        assert response.status_code == 404, (path, name, value, response.status_code,
                                             response.data)
        assert response.data["error"]["code"] == "not_found"
        assert name in response.data["error"]["message"]
    # The company's own object filters as before.
    own = {"client_id": personas.client_a.public_id,
           "assignee_id": personas.tech_a.user.public_id}.get(name)
    if own:
        assert api.get(url, **{name: own}).status_code == 200
    if (path, name) in SPECIAL:
        assert api.get(url, **{name: SPECIAL[(path, name)]}).status_code == 200


def test_tickets_assignee_none_still_lists_unassigned(personas):
    from django_scopes import scope

    from nestogy.tickets.actions import create_ticket

    with scope(company=personas.company_a.pk):
        mine = create_ticket(personas.company_a, {"client": personas.client_a,
                                                  "subject": "Unassigned"})
    page = personas.owner_a.api.get("/tickets", assignee_id="none")
    assert page.status_code == 200
    assert [t["id"] for t in page.data["items"]] == [mine.public_id]
