"""A list's ``cursor`` is attacker input: any tampered cursor answers 422 naming ``cursor``.

The cursor is base64 of the JSON list of the last row's sort key. A client can send back
anything: other arity, other types, values that overflow the column, NUL characters,
megabytes. Each answer must be the JSON error naming ``cursor`` (never a 500), on every list
endpoint of the OpenAPI document.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django_scopes import scope

from tests.test_api_contract import fill, object_ids, operations


def encode(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


LIST_ENDPOINTS = sorted(path for method, path, spec in operations()
                        if method == "GET" and any(p["name"] == "cursor"
                                                   for p in spec.get("parameters", [])))


def tampered_cursors() -> list[tuple[str, str]]:
    """(label, cursor) pairs; none of them can be a cursor the server handed out."""
    cursors = [
        ("not base64", "%%%not-base64%%%"),
        ("base64 of garbage", base64.urlsafe_b64encode(b"\xff\xfe garbage").decode()),
        ("base64 of a JSON object", encode({"id": 1})),
        ("empty list", encode([])),
        ("huge", encode(["x" * 20_000, 1])),
        ("too many values", encode([1, 2, 3, 4, 5])),
    ]
    wrong = {
        "strings": "abc",
        "nested list": [1],
        "unknown object": {"x": 1},
        "bad datetime": {"dt": "yesterday"},
        "naive datetime": {"dt": "2025-01-01T00:00:00"},
        "bad date": {"d": "2025-13-45"},
        "bad decimal": {"dec": "NaN"},
        "overflowing int": 10 ** 40,
        "negative overflowing int": -(10 ** 40),
        "float": 1.5,
        "boolean": True,
        "null": None,
        "NUL character": "a\x00b",
    }
    for label, value in wrong.items():
        for arity in (1, 2, 3):
            cursors.append((f"{label} x{arity}", encode([value] * arity)))
    cursors.append(("datetime of year 10000", encode([{"dt": "+10000-01-01T00:00:00+00:00"}, 1])))
    return cursors


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_tampered_cursor_answers_422_naming_cursor(personas, path):
    ids = object_ids(personas)
    url = fill(path, ids)
    api = personas.owner_a.api
    api.http.raise_request_exception = False  # a 500 is a failure to report, not to raise
    assert api.get(url).status_code == 200
    failures = []
    for label, cursor in tampered_cursors():
        response = api.get(url, cursor=cursor)
        if response.status_code != 422 or not response.data \
                or response.data["error"]["field"] != "cursor":
            failures.append(f"{label}: {response.status_code} {response.content[:200]!r}")
    assert not failures, f"GET {path}:\n" + "\n".join(failures)


def test_list_endpoints_are_found():
    assert {"/clients", "/tickets", "/payments", "/invoices", "/contracts"} <= set(
        LIST_ENDPOINTS)


def test_every_sort_pages_through_null_sort_keys(personas):
    """Tickets sorted by a due time some tickets lack (NULL) still page through all."""
    from nestogy.tickets.actions import create_ticket
    from nestogy.tickets.models import Ticket

    with scope(company=personas.company_a.pk):
        tickets = [create_ticket(personas.company_a, {"client": personas.client_a,
                                                      "subject": f"T{i}"}) for i in range(5)]
        # Two tickets without due times (no policy), three with.
        Ticket.objects.filter(pk__in=[t.pk for t in tickets[:2]]).update(
            resolution_due_at=None, first_response_due_at=None)
        for i, t in enumerate(tickets[2:]):
            Ticket.objects.filter(pk=t.pk).update(
                resolution_due_at=datetime(2030, 1, 1, tzinfo=UTC) + timedelta(hours=i))
    api = personas.owner_a.api
    expected = {t.public_id for t in tickets}
    for sort in ("resolution_due_at", "-resolution_due_at", "first_response_due_at",
                 "-first_response_due_at", "priority", "-priority", "number", "-opened_at"):
        seen, cursor = [], None
        for _ in range(10):
            params = {"limit": 1, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = api.get("/tickets", **params)
            assert page.status_code == 200, (sort, page.content[:300])
            seen += [t["id"] for t in page.data["items"]]
            cursor = page.data["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 5 and set(seen) == expected, sort
