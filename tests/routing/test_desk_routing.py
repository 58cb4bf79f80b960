"""Routing against the database: exclusions, the routing endpoint, auto-assignment in
batches (bounded queries), the nobody-qualifies path and escalation reassignment."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from nestogy.accounts.actions import add_member
from nestogy.core import events as core_events
from nestogy.routing.actions import (
    add_out_of_office,
    set_category_skills,
    set_technician_calendar,
)
from nestogy.sla.actions import create_calendar
from nestogy.tickets import escalation
from nestogy.tickets.actions import change_status, create_ticket
from nestogy.tickets.models import Ticket
from nestogy.tickets.routing import auto_assign, gather

MON_10 = datetime(2025, 3, 3, 15, tzinfo=UTC)  # Monday 10:00 in New York (company A)


@contextmanager
def captured_events():
    seen: list[core_events.Event] = []
    core_events.subscribe(seen.append)
    try:
        yield seen
    finally:
        core_events.unsubscribe(seen.append)


def ticket(p, category="", priority="medium", client=None, **extra):
    return create_ticket(p.company_a, {"client": client or p.client_a, "subject": "Help",
                                       "category": category, "priority": priority, **extra})


def routing(p, t):
    response = p.manager_a.api.get(f"/tickets/{t.public_id}/routing")
    assert response.status_code == 200, response.data
    return response.data


def test_routing_endpoint_ranks_with_breakdowns_and_names_exclusions(personas):
    p = personas
    with scope(company=p.company_a.pk), time_machine.travel(MON_10, tick=False):
        set_category_skills(p.company_a, "network", {"networking": 3})
        t = ticket(p, category="network")
        data = routing(p, t)
    # tech_a has networking 4; tech2_a has only windows: excluded for the missing skill.
    assert [c["user_id"] for c in data["candidates"]] == [p.tech_a.user.public_id]
    best = data["candidates"][0]
    assert sum(Decimal(v) for v in best["breakdown"].values()) == Decimal(best["score"])
    [excluded] = data["excluded"]
    assert excluded["user_id"] == p.tech2_a.user.public_id
    assert excluded["reason"] == "missing_skill"
    assert excluded["detail"] == "missing required skill networking (needs 3, has 0)"


def test_out_of_office_off_hours_and_capacity_exclude(personas):
    p = personas
    with scope(company=p.company_a.pk), time_machine.travel(MON_10, tick=False):
        add_out_of_office(p.tech_a.user, p.company_a, MON_10 - timedelta(days=1),
                          MON_10 + timedelta(days=2), "Holiday")
        night_shift = create_calendar(p.company_a, {
            "name": "Nights", "timezone": "America/New_York",
            "hours": {d: [["22:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}})
        set_technician_calendar(p.company_a, p.tech2_a.user, night_shift)
        third = add_member(p.company_a, email="tech3@alpha.test", role="technician",
                           skills={"windows": 2}, max_open_tickets=1)
        busy = ticket(p, assignee=third.user)
        t = ticket(p)
        data = routing(p, t)
        reasons = {e["user_id"]: e["reason"] for e in data["excluded"]}
        assert reasons == {p.tech_a.user.public_id: "out_of_office",
                           p.tech2_a.user.public_id: "off_hours",
                           third.user.public_id: "at_capacity"}
        assert data["candidates"] == []
        # A paused ticket's clock does not run: it does not count against capacity.
        change_status(busy, "waiting_on_client")
        data = routing(p, t)
        assert [c["user_id"] for c in data["candidates"]] == [third.user.public_id]


def test_bulk_auto_assign_solves_the_batch_and_reports_against_greedy(personas):
    p = personas
    with scope(company=p.company_a.pk), time_machine.travel(MON_10, tick=False):
        set_category_skills(p.company_a, "firewall", {"networking": 4})
        # Only tech_a can take firewall tickets; give each technician one free place.
        from nestogy.accounts.models import TechnicianProfile

        TechnicianProfile.objects.update(max_open_tickets=1)
        easy = ticket(p, category="")
        firewall = ticket(p, category="firewall")
    response = p.manager_a.api.post("/tickets/bulk/assign", {
        "ticket_ids": [easy.public_id, firewall.public_id], "assignee_id": "auto"})
    assert response.status_code == 200, response.data
    results = {r["id"]: r for r in response.data["results"]}
    assert results[firewall.public_id]["assignee_id"] == p.tech_a.user.public_id
    assert results[easy.public_id]["assignee_id"] == p.tech2_a.user.public_id
    opt = response.data["optimisation"]
    assert opt["assigned"] == 2 and opt["unassigned"] == 0
    assert Decimal(opt["total_score"]) > Decimal(opt["greedy_total_score"])
    with scope(company=p.company_a.pk):
        assert Ticket.objects.get(pk=firewall.pk).assignee_id == p.tech_a.user.pk


def test_nobody_qualifies_leaves_ticket_unassigned_and_tells_dispatchers(personas):
    p = personas
    with scope(company=p.company_a.pk), time_machine.travel(MON_10, tick=False):
        set_category_skills(p.company_a, "mainframe", {"cobol": 5})
        t = ticket(p, category="mainframe")
        with captured_events() as seen:
            outcome = auto_assign([t])
        assert outcome.unassigned == [t.pk]
        assert "missing skill" in outcome.reasons[t.pk]
        assert Ticket.objects.get(pk=t.pk).assignee_id is None
    [event] = [e for e in seen if e.type == "ticket.unassignable"]
    assert event.data["ticket_id"] == t.public_id and "missing skill" in event.data["reason"]
    response = p.manager_a.api.post("/tickets/bulk/assign", {"ticket_ids": [t.public_id],
                                                             "assignee_id": "auto"})
    [result] = response.data["results"]
    assert result["ok"] is False and "nobody qualifies" in result["error"]


def test_company_setting_auto_assigns_new_tickets(personas):
    p = personas
    with scope(company=p.company_a.pk), time_machine.travel(MON_10, tick=False):
        p.company_a.set_setting("routing.auto_assign", True)
        p.company_a.save()
        t = ticket(p, category="")
        assert t.assignee_id in {p.tech_a.user.pk, p.tech2_a.user.pk}


def test_ties_rotate_through_least_recently_assigned(personas):
    p = personas
    with scope(company=p.company_a.pk), time_machine.travel(MON_10, tick=False):
        from nestogy.accounts.models import TechnicianProfile

        TechnicianProfile.objects.update(skills={"windows": 3}, max_open_tickets=50)
        first = ticket(p)
        auto_assign([first])
        second = ticket(p)
        auto_assign([second])
        owners = {Ticket.objects.get(pk=first.pk).assignee_id,
                  Ticket.objects.get(pk=second.pk).assignee_id}
    assert owners == {p.tech_a.user.pk, p.tech2_a.user.pk}


def test_auto_assign_query_count_does_not_grow_with_tickets_or_technicians(personas):
    p = personas

    def measure(n_tickets, n_techs, tag):
        with scope(company=p.company_a.pk), time_machine.travel(MON_10, tick=False):
            for i in range(n_techs):
                add_member(p.company_a, email=f"bulk{tag}{i}@alpha.test", role="technician",
                           skills={"windows": 1 + i % 5}, max_open_tickets=100)
            tickets = [ticket(p, priority=("low", "medium", "high")[i % 3])
                       for i in range(n_tickets)]
            with CaptureQueriesContext(connection) as ctx:
                outcome = auto_assign(tickets)
            assert len(outcome.assigned) == n_tickets
            return len(ctx.captured_queries)

    small = measure(5, 2, "s")
    large = measure(120, 20, "l")
    assert large <= small + 2, (small, large)  # +2: extra bulk-update/audit batches


def test_gather_reads_everything_in_six_queries(personas, django_assert_num_queries):
    p = personas
    with scope(company=p.company_a.pk), time_machine.travel(MON_10, tick=False):
        tickets = [ticket(p, category="network") for _ in range(10)]
        with django_assert_num_queries(6):
            inputs = gather(tickets)
    assert len(inputs.tickets) == 10 and len(inputs.techs) == 2


def test_level_three_reassigns_when_the_assignee_is_away(personas):
    p = personas
    opened = datetime(2025, 3, 3, 14, tzinfo=UTC)  # Monday 09:00 New York
    with scope(company=p.company_a.pk), time_machine.travel(opened, tick=False):
        t = create_ticket(p.company_a, {"client": p.client_a, "subject": "Server down",
                                        "priority": "high", "assignee": p.tech_a.user})
        add_out_of_office(p.tech_a.user, p.company_a, opened, opened + timedelta(days=3))
    # High: first response 2 h; 150 % (level 3) at 12:00 local.
    with time_machine.travel(opened + timedelta(hours=3, minutes=5), tick=False):
        report = escalation.check_company(p.company_a)
    level3 = [f for f in report.findings if f.level == 3]
    assert level3 and level3[0].actions["reassign"] == "reassigned to tech2@alpha.test"
    with scope(company=p.company_a.pk):
        assert Ticket.objects.get(pk=t.pk).assignee_id == p.tech2_a.user.pk


def test_routing_endpoints_refuse_bad_input_naming_the_field_and_write_nothing(personas):
    from django_scopes import scopes_disabled

    from nestogy.routing.models import CategorySkill, OutOfOffice
    from nestogy.tenancy.models import Company

    p = personas
    api = p.manager_a.api
    tech = p.tech_a.user.public_id
    cases = [
        ("put", "/routing/category-skills", {"category": "net", "skills": {"networking": 9}},
         "skills.networking"),
        ("put", "/routing/category-skills", {"category": "  ", "skills": {}}, "category"),
        ("put", "/routing/weights", {"weights": {"charisma": 3}}, "weights.charisma"),
        ("put", "/routing/weights", {"weights": {"load": -1}}, "weights.load"),
        ("post", f"/routing/users/{tech}/absences",
         {"starts_at": "2026-07-10T00:00:00+00:00", "ends_at": "2026-07-01T00:00:00+00:00"},
         "ends_at"),
        ("post", f"/routing/users/{tech}/absences",
         {"starts_at": "2026-07-10T00:00:00", "ends_at": "2026-07-11T00:00:00+00:00"},
         "starts_at"),
    ]
    for method, path, body, field in cases:
        response = api.request(method, path, body)
        assert response.status_code == 422, (path, body, response.data)
        assert response.data["error"]["field"] == field, (path, response.data)
    with scopes_disabled():
        assert not CategorySkill.objects.exists() and not OutOfOffice.objects.exists()
        assert Company.objects.get(pk=p.company_a.pk).get_setting("routing.weights") == {}
    bad_calendar = p.owner_a.api.patch(f"/users/{tech}", {"calendar_id": "cal_nope"})
    assert bad_calendar.status_code == 422
    assert bad_calendar.data["error"]["field"] == "calendar_id"
