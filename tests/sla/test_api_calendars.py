"""/calendars and /sla-policies."""

from __future__ import annotations

from django_scopes import scopes_disabled

from nestogy.sla.models import BusinessCalendar, SLAPolicy

SPLIT = {d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
TARGETS = {p: {"first_response_minutes": 60, "resolution_minutes": 480}
           for p in ("critical", "high", "medium", "low")}


def test_calendar_maths_endpoints(personas):
    api = personas.manager_a.api
    created = api.post("/calendars", {"name": "Berlin office", "timezone": "Europe/Berlin",
                                      "hours": SPLIT, "holidays": ["2025-12-24"],
                                      "holiday_country": "DE"})
    assert created.status_code == 201, created.data
    cal = created.data
    assert cal["hours"]["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    due = api.post(f"/calendars/{cal['id']}/add-business-time",
                   {"start": "2025-12-23T15:00:00+00:00", "seconds": 7200})
    # Tue 23rd 16:00 CET: 1h left that day; the 24th (explicit), 25th and 26th (DE) are closed.
    assert due.status_code == 200 and due.data["due_at"].startswith("2025-12-29T09:00:00")
    seconds = api.post(f"/calendars/{cal['id']}/business-seconds",
                       {"start": "2025-12-22T00:00:00+00:00", "end": "2025-12-27T00:00:00+00:00"})
    assert seconds.data == {"seconds": 14 * 3600}
    naive = api.post(f"/calendars/{cal['id']}/business-seconds",
                     {"start": "2025-12-22T00:00:00", "end": "2025-12-27T00:00:00+00:00"})
    assert naive.status_code == 422 and naive.data["error"]["field"] == "start"
    negative = api.post(f"/calendars/{cal['id']}/add-business-time",
                        {"start": "2025-12-22T00:00:00+00:00", "seconds": -1})
    assert negative.status_code == 422 and negative.data["error"]["field"] == "seconds"


def test_bad_calendars_are_rejected_naming_the_field(personas):
    api = personas.owner_a.api
    with scopes_disabled():
        before = BusinessCalendar.objects.count()
    for body, field in [
        ({"name": "x", "timezone": "Mars/Base", "hours": SPLIT}, "timezone"),
        ({"name": "x", "hours": {"mon": [["10:00", "09:00"]]}}, "hours.mon[0]"),
        ({"name": "x", "hours": {}}, "hours"),
        ({"name": "x", "hours": SPLIT, "holiday_country": "XX"}, "holiday_country"),
        ({"name": "x", "hours": SPLIT, "holidays": ["2025-13-01"]}, "holidays[0]"),
    ]:
        response = api.post("/calendars", body)
        assert response.status_code == 422, (body, response.data)
        assert response.data["error"]["field"] == field
    with scopes_disabled():
        assert BusinessCalendar.objects.count() == before


def test_exactly_one_default_policy(personas):
    api = personas.owner_a.api
    calendar_id = api.get("/calendars").data["items"][0]["id"]
    default = [p for p in api.get("/sla-policies").data["items"] if p["is_default"]]
    assert len(default) == 1 and default[0]["name"] == "Standard"
    assert [lv["level"] for lv in default[0]["escalation_ladder"]] == [1, 2, 3]
    new = api.post("/sla-policies", {"name": "Gold", "calendar_id": calendar_id,
                                     "targets": TARGETS, "is_default": True,
                                     "pause_statuses": ["on_hold"]})
    assert new.status_code == 201, new.data
    policies = api.get("/sla-policies").data["items"]
    assert [p["name"] for p in policies if p["is_default"]] == ["Gold"]
    demote = api.patch(f"/sla-policies/{new.data['id']}", {"is_default": False})
    assert demote.status_code == 422 and demote.data["error"]["field"] == "is_default"
    missing = dict(TARGETS)
    missing.pop("low")
    bad = api.post("/sla-policies", {"name": "Bad", "calendar_id": calendar_id,
                                     "targets": missing})
    assert bad.status_code == 422 and bad.data["error"]["field"] == "targets.low"
    other = api.post("/sla-policies", {"name": "Bad", "calendar_id": "cal_nope",
                                       "targets": TARGETS})
    assert other.status_code == 422 and other.data["error"]["field"] == "calendar_id"
    with scopes_disabled():
        assert SLAPolicy.objects.filter(company=personas.company_a, name="Bad").count() == 0
    assert personas.tech_a.api.post("/sla-policies", {
        "name": "T", "calendar_id": calendar_id, "targets": TARGETS}).status_code == 403


def test_editing_a_calendar_recomputes_open_tickets(personas):
    api = personas.owner_a.api
    ticket = api.post("/tickets", {"client_id": personas.client_a.public_id,
                                   "subject": "x", "priority": "low"}).data
    policy = api.get(f"/sla-policies/{ticket['sla']['policy_id']}").data
    before = ticket["sla"]["resolution"]["due_at"]
    api.patch(f"/calendars/{policy['calendar_id']}", {"is_24x7": True})
    after = api.get(f"/tickets/{ticket['id']}").data["sla"]["resolution"]["due_at"]
    assert after != before
    api.patch(f"/sla-policies/{policy['id']}", {"targets": {
        **policy["targets"], "low": {"first_response_minutes": 1, "resolution_minutes": 2}}})
    assert api.get(f"/tickets/{ticket['id']}").data["sla"]["resolution"]["due_at"] < after


def test_policy_edit_recomputes_open_tickets_in_batches(personas, django_assert_max_num_queries):
    from django_scopes import scope

    from nestogy.tickets.actions import create_ticket
    from nestogy.tickets.models import Ticket
    from nestogy.tickets.sla import recompute_policies

    p = personas
    with scope(company=p.company_a.pk):
        tickets = [create_ticket(p.company_a, {"client": p.client_a, "subject": f"T{i}",
                                               "priority": "low"}) for i in range(7)]
        create_ticket(p.company_a, {"client": p.client_a, "subject": "done",
                                    "status": "resolved"})
        policy = tickets[0].policy
        policy.targets = {**policy.targets, "low": {"first_response_minutes": 5,
                                                    "resolution_minutes": 10}}
        policy.save()
        # 3 batches x 6 queries (tickets, 3 histories, fired levels, one write) + 1 empty;
        # on PostgreSQL the write is a COPY into a temporary table and one UPDATE (3).
        from django.db import connection

        per_batch = 8 if connection.vendor == "postgresql" else 6
        with django_assert_max_num_queries(3 * per_batch + 1):
            assert recompute_policies([policy.pk], batch_size=3) == 7
        calendar = policy.calendar.as_calendar()
        for ticket in tickets:
            fresh = Ticket.objects.get(pk=ticket.pk)
            assert fresh.resolution_due_at == calendar.add_business_time(fresh.opened_at, 600)
