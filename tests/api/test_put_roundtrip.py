"""What GET answers, PUT on the same path accepts, and it changes nothing.

Generated clients read a resource, change a field and write it back; a write of the
unchanged body must be accepted (no "unknown field" for read-only parts) and must leave
the resource, and the rows behind it (audit log included), exactly as they were. Every
GET/PUT pair of the OpenAPI document is checked, after the resource was changed once so
that the body carries stored values and not only defaults.
"""

from __future__ import annotations

import pytest

from tests.test_api_contract import fill, object_ids, operations, row_counts

PAIRS = sorted({path for method, path, _ in operations() if method == "PUT"}
               & {path for method, path, _ in operations() if method == "GET"})

# A first change per path, so that GET answers stored (non-default) values.
SETUP = {
    "/notification-preferences": {
        "preferences": [{"event": "ticket.created", "channel": "sms", "enabled": True},
                        {"event": "ticket.created", "channel": "email", "enabled": False}],
        "addresses": {"sms": "+15551234567"}},
    "/routing/category-skills": {"category": "network", "skills": {"networking": 3}},
    "/routing/weights": {"weights": {"load": 40}},
}


def test_pairs_are_found():
    assert {"/notification-preferences", "/routing/category-skills",
            "/routing/weights"} <= set(PAIRS)


@pytest.mark.parametrize("path", PAIRS)
def test_put_of_what_get_answers_is_accepted_and_changes_nothing(personas, path):
    if path not in SETUP:
        raise AssertionError(f"add a first change for PUT {path} to SETUP")
    url = fill(path, object_ids(personas))
    api = personas.owner_a.api
    first = api.put(url, SETUP[path])
    assert first.status_code == 200, first.data
    before = api.get(url)
    assert before.status_code == 200
    rows = row_counts()
    again = api.put(url, before.data)
    assert again.status_code == 200, (path, again.data)
    assert again.data == before.data
    assert api.get(url).data == before.data
    assert row_counts() == rows, "a PUT of the unchanged body wrote rows"


def test_put_category_table_replaces_the_whole_table(personas):
    api = personas.owner_a.api
    api.put("/routing/category-skills", {"category": "network", "skills": {"networking": 3}})
    api.put("/routing/category-skills", {"category": "printers", "skills": {"windows": 2}})
    table = api.put("/routing/category-skills", {"items": [
        {"category": "network", "skills": {"networking": 4}}]})
    assert table.status_code == 200
    assert table.data == {"items": [{"category": "network", "skills": {"networking": 4}}]}
    twice = api.put("/routing/category-skills", {"items": [
        {"category": "a", "skills": {}}, {"category": "a", "skills": {}}]})
    assert twice.status_code == 422 and twice.data["error"]["field"] == "items[1].category"


def test_put_preferences_items_form_changes_only_what_differs(personas):
    api = personas.tech_a.api
    body = api.get("/notification-preferences").data
    created = next(i for i in body["items"] if i["event"] == "ticket.created")
    created["channels"]["sms"] = not created["channels"]["sms"]
    changed = api.put("/notification-preferences", {"items": [created]})
    assert changed.status_code == 200
    after = next(i for i in changed.data["items"] if i["event"] == "ticket.created")
    assert after["channels"] == created["channels"]
    others = [i for i in changed.data["items"] if i["event"] != "ticket.created"]
    assert others == [i for i in body["items"] if i["event"] != "ticket.created"]
    bad = api.put("/notification-preferences", {"items": [
        {"event": "ticket.created", "channels": {"fax": True}}]})
    assert bad.status_code == 422 and bad.data["error"]["field"] == "items[0].channels.fax"
