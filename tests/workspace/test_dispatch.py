"""The dispatch board (/app/dispatch/): roles, tenant isolation, bad input, suggestions,
single assignments, the auto-assign preview against the engine, applying it, stale
previews, escaping and the board's query count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from nestogy.accounts.models import TechnicianProfile
from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.core.timeutil import now as utc_now
from nestogy.routing.actions import (
    add_out_of_office,
    set_category_skills,
    set_technician_calendar,
    weights_for,
)
from nestogy.routing.engine import assign_batch
from nestogy.sla.actions import create_calendar
from nestogy.tickets.actions import assign_ticket, change_priority
from nestogy.tickets.models import Ticket
from nestogy.tickets.routing import gather
from nestogy.workspace.views_dispatch import PLAN_SALT
from tests.workspace.helpers import opened_ago, signed_in, ticket

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def _capacity(persona, max_open):
    with scopes_disabled():
        TechnicianProfile.objects.filter(membership=persona.membership).update(
            max_open_tickets=max_open)


def _assignee(t):
    with scopes_disabled():
        return Ticket.objects.get(pk=t.pk).assignee_id


def _token(html: str) -> str:
    found = re.search(r'name="plan" value="([^"]+)"', html)
    assert found, "the preview offers no Apply form"
    return unescape(found.group(1))


def _audits(t) -> int:
    with scopes_disabled():
        return AuditEntry.objects.filter(object_id=t.public_id, action="ticket.assigned").count()


def scenario(p):
    """tech1 (networking 4, windows 3) has one free place; tech2 (windows 5) is nearly full.
    Greedy gives the older windows ticket to tech1 and then has nobody for the networking
    ticket; the optimal batch gives windows to tech2 and networking to tech1."""
    with scope(company=p.company_a.pk):
        set_category_skills(p.company_a, "networking", {"networking": 3})
        set_category_skills(p.company_a, "windows", {"windows": 1})
    _capacity(p.tech_a, 1)
    for i in range(9):
        ticket(p.company_a, p.client_a2, f"Old work {i}", assignee=p.tech2_a.user)
    win = opened_ago(p.company_a, p.client_a, 0.3, subject="Laptop will not boot",
                     category="windows")
    net = opened_ago(p.company_a, p.client_a, 0.2, subject="Switch port flapping",
                     category="networking")
    return win, net


@pytest.mark.parametrize("role", ROLES)
def test_every_dispatch_view_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    t = ticket(p.company_a, p.client_a, "Unassigned printer")
    client = signed_in(persona.email)
    may = allowed(persona.role, "tickets.dispatch")
    queue = client.get("/app/").content.decode() if allowed(persona.role, "tickets.view") else ""
    assert ('href="/app/dispatch/"' in queue) == (may and bool(queue))
    for method, url, data in [
        ("get", "/app/dispatch/", {}),
        ("get", "/app/dispatch/auto/", {}),
        ("post", "/app/dispatch/assign", {"ticket": t.public_id,
                                           "assignee": p.tech_a.user.public_id, "seen": ""}),
    ]:
        response = getattr(client, method)(url, data)
        if may:
            assert response.status_code in (200, 302), (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
            assert "does not allow this page" in response.content.decode()
    if may:
        assert _assignee(t) == p.tech_a.user.pk
        token = signing.dumps({"company": p.company_a.public_id, "by": persona.user.public_id,
                               "plan": []}, salt=PLAN_SALT)
        assert client.post("/app/dispatch/auto/apply", {"plan": token}).status_code == 302
    else:
        assert _assignee(t) is None
        assert client.post("/app/dispatch/auto/apply", {"plan": "x"}).status_code == 403


# Wednesday 3 March 2027, 10:00 in New York: inside Tech1's day shift whatever the hour the
# suite runs at.
@time_machine.travel(datetime(2027, 3, 3, 15, 0, tzinfo=UTC), tick=True)
def test_board_lists_unassigned_and_at_risk_in_urgency_order_with_the_team(personas):
    p = personas
    with scope(company=p.company_a.pk):
        set_category_skills(p.company_a, "networking", {"networking": 3})
        shift = create_calendar(p.company_a, {
            "name": "Day shift", "timezone": "America/New_York",
            "hours": {d: [["09:00", "17:00"]] for d in
                      ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
        set_technician_calendar(p.company_a, p.tech_a.user, shift)
        add_out_of_office(p.tech2_a.user, p.company_a, utc_now() - timedelta(hours=1),
                          utc_now() + timedelta(hours=5), "Dentist")
    breached = opened_ago(p.company_a, p.client_a, 72, subject="VPN down since Friday",
                          priority="high", assignee=p.tech2_a.user)
    fresh = ticket(p.company_a, p.client_a2, "Shared drive slow", priority="low",
                   category="networking")
    urgent = opened_ago(p.company_a, p.client_a, 0.1, subject="Firewall blocks payroll",
                        priority="critical")
    calm = ticket(p.company_a, p.client_a, "Order new mouse", priority="low",
                  assignee=p.tech_a.user)
    with scope(company=p.company_a.pk):
        calm = Ticket.objects.get(pk=calm.pk)
        assert calm.first_response_due_at is None or \
            calm.first_response_due_at > utc_now() + timedelta(hours=4)
    body = signed_in("manager@alpha.test").get("/app/dispatch/").content.decode()
    order = [body.index(s) for s in ("VPN down since Friday", "Firewall blocks payroll",
                                     "Shared drive slow")]
    assert order == sorted(order), "breached first, then the earliest deadline"
    assert "Order new mouse" not in body  # assigned and not at risk
    assert f"#{breached.number} VPN down since Friday" in body
    assert "with Tech2" in body  # an at-risk ticket shows who has it
    assert "Needs: " in body and "networking ≥ 3" in body
    card = body[body.index(f'data-ticket="{fresh.public_id}"'):]
    card = card[:card.index("</li>")]
    assert "Acme" not in card and "Blue Ridge Accounting" in card and "Low" in card
    assert "Best: <strong>Tech1</strong>" in card  # only tech1 has networking 3
    assert "score " in card
    tech1 = body[body.index(f'data-drop-tech="{p.tech_a.user.public_id}"'):]
    tech1 = tech1[:tech1.index("</li>")]
    assert "1 / 10 open" in tech1 and "networking 4" in tech1 and "windows 3" in tech1
    assert "Today:" in tech1 and "09:00–17:00" in tech1 and "Day shift" in tech1
    tech2 = body[body.index(f'data-drop-tech="{p.tech2_a.user.public_id}"'):]
    tech2 = tech2[:tech2.index("</li>")]
    assert "Away" in tech2 and "Dentist" in tech2 and "always available" in tech2
    assert urgent.public_id in body


def test_assign_by_suggestion_goes_through_the_assign_action(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Printer jammed")
    client = signed_in("manager@alpha.test")
    response = client.post("/app/dispatch/assign", {"ticket": t.public_id, "seen": "",
                                                    "assignee": p.tech2_a.user.public_id})
    assert response.status_code == 302 and response["Location"] == "/app/dispatch/"
    assert _assignee(t) == p.tech2_a.user.pk
    assert _audits(t) == 1
    page = client.get("/app/dispatch/").content.decode()
    assert f"#{t.number} Printer jammed assigned to Tech2." in page
    assert f'data-ticket="{t.public_id}"' not in page  # assigned, not at risk: off the board


def test_another_companys_ticket_or_technician_is_404_and_nothing_is_written(personas):
    p = personas
    theirs = ticket(p.company_b, p.client_b, "Bravo secret")
    ours = ticket(p.company_a, p.client_a, "Alpha printer")
    client = signed_in("owner@alpha.test")
    assert client.post("/app/dispatch/assign", {
        "ticket": theirs.public_id, "assignee": p.tech_a.user.public_id,
        "seen": ""}).status_code == 404
    assert client.post("/app/dispatch/assign", {
        "ticket": ours.public_id, "assignee": p.tech_b.user.public_id,
        "seen": ""}).status_code == 404
    # a manager is a member but not a technician: refused the same way
    assert client.post("/app/dispatch/assign", {
        "ticket": ours.public_id, "assignee": p.manager_a.user.public_id,
        "seen": ""}).status_code == 404
    assert _assignee(theirs) is None and _assignee(ours) is None
    assert _audits(theirs) == 0 and _audits(ours) == 0
    body = client.get("/app/dispatch/").content.decode()
    assert "Bravo secret" not in body and p.tech_b.user.public_id not in body
    # a preview signed for company B is refused in company A
    foreign = signing.dumps({"company": p.company_b.public_id, "by": p.owner_a.user.public_id,
                             "plan": [[ours.public_id, p.tech_a.user.public_id, "medium", "",
                                       p.client_a.public_id]]}, salt=PLAN_SALT)
    response = client.post("/app/dispatch/auto/apply", {"plan": foreign})
    assert response.status_code == 400
    assert "Plan: this preview was made for another company or person" in \
        response.content.decode()
    # a plan naming company B's ticket inside a company A preview finds nothing
    sneaky = signing.dumps({"company": p.company_a.public_id, "by": p.owner_a.user.public_id,
                            "plan": [[theirs.public_id, p.tech_a.user.public_id, "medium", "",
                                      p.client_b.public_id]]}, salt=PLAN_SALT)
    response = client.post("/app/dispatch/auto/apply", {"plan": sneaky}, follow=True)
    assert "no longer exists" in response.content.decode()
    assert _assignee(theirs) is None and _assignee(ours) is None


def test_bad_input_names_the_field_and_writes_nothing(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Printer jammed")
    client = signed_in("manager@alpha.test")
    response = client.post("/app/dispatch/assign", {"ticket": t.public_id, "assignee": ""})
    assert response.status_code == 400
    assert "Technician: choose a technician." in response.content.decode()
    response = client.post("/app/dispatch/assign", {"assignee": p.tech_a.user.public_id})
    assert response.status_code == 400
    assert "Ticket: choose a ticket to assign." in response.content.decode()
    response = client.post("/app/dispatch/auto/apply", {"plan": "not-a-plan"})
    assert response.status_code == 400
    assert "Plan: this is not a preview made by this board" in response.content.decode()
    malformed = signing.dumps({"company": p.company_a.public_id,
                               "by": p.manager_a.user.public_id, "plan": [[1, 2]]},
                              salt=PLAN_SALT)
    response = client.post("/app/dispatch/auto/apply", {"plan": malformed})
    assert response.status_code == 400 and "Plan: is not a preview" in response.content.decode()
    assert client.get("/app/dispatch/assign").status_code == 405
    assert _assignee(t) is None and _audits(t) == 0


def test_a_ticket_reassigned_since_the_board_loaded_is_not_overwritten(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Printer jammed")
    with scope(company=p.company_a.pk):
        assign_ticket(t, p.tech2_a.user)
    response = signed_in("manager@alpha.test").post("/app/dispatch/assign", {
        "ticket": t.public_id, "assignee": p.tech_a.user.public_id, "seen": ""})
    assert response.status_code == 400
    assert f"Ticket: #{t.number} was reassigned to Tech2 since the board was loaded" in \
        response.content.decode()
    assert _assignee(t) == p.tech2_a.user.pk


def test_preview_shows_what_the_engine_decides_optimal_against_greedy(personas):
    p = personas
    win, net = scenario(p)
    page = signed_in("manager@alpha.test").get("/app/dispatch/auto/").content.decode()
    with scope(company=p.company_a.pk):
        tickets = list(Ticket.objects.filter(assignee__isnull=True)
                       .order_by("opened_at", "id"))
        inputs = gather(tickets)
        expected = assign_batch(inputs.tickets, inputs.techs, weights_for(p.company_a))
    assert expected.assignments == {win.pk: p.tech2_a.user.pk, net.pk: p.tech_a.user.pk}
    assert expected.greedy_assignments == {win.pk: p.tech_a.user.pk}
    assert expected.improvement > 0
    assert f'data-total="optimal">{expected.total_score}<' in page
    assert f'data-total="greedy">{expected.greedy_total_score}<' in page
    assert f'data-total="improvement">{expected.improvement}<' in page
    rows = page[page.index("<tbody>"):page.index("</tbody>")]
    win_row = rows[rows.index("Laptop will not boot"):]
    assert re.search(r'data-col="optimal">Tech2<.*data-col="greedy">Tech1', win_row, re.S)
    net_row = rows[rows.index("Switch port flapping"):]
    assert re.search(r'data-col="optimal">Tech1<.*data-col="greedy"><span class="muted">'
                     r"nobody", net_row, re.S)
    assert "Apply: assign 2 tickets" in page
    assert _assignee(win) is None and _assignee(net) is None  # the preview writes nothing


def test_preview_lists_tickets_nobody_can_take_with_the_reason(personas):
    p = personas
    with scope(company=p.company_a.pk):
        set_category_skills(p.company_a, "linux", {"linux": 2})
    t = ticket(p.company_a, p.client_a, "Kernel panic on web01", category="linux")
    page = signed_in("manager@alpha.test").get("/app/dispatch/auto/").content.decode()
    assert "Left unassigned" in page
    assert f"#{t.number} Kernel panic on web01</a>: nobody qualifies (missing skill)" in page
    assert "Nothing to assign" in page


def test_apply_assigns_exactly_the_preview(personas):
    p = personas
    win, net = scenario(p)
    client = signed_in("manager@alpha.test")
    token = _token(client.get("/app/dispatch/auto/").content.decode())
    # a ticket that arrives after the preview is not part of it
    late = ticket(p.company_a, p.client_a, "Arrived after the preview", category="windows")
    response = client.post("/app/dispatch/auto/apply", {"plan": token}, follow=True)
    body = response.content.decode()
    assert "Auto-assign: 2 tickets assigned as previewed." in body
    assert _assignee(win) == p.tech2_a.user.pk and _assignee(net) == p.tech_a.user.pk
    assert _assignee(late) is None
    assert _audits(win) == 1 and _audits(net) == 1
    assert "Arrived after the preview" in body  # still waiting on the board


def test_stale_preview_skips_what_changed_and_says_so(personas):
    p = personas
    win, net = scenario(p)
    client = signed_in("manager@alpha.test")
    token = _token(client.get("/app/dispatch/auto/").content.decode())
    with scope(company=p.company_a.pk):
        assign_ticket(net, p.tech2_a.user)
        change_priority(win, "critical")
    body = client.post("/app/dispatch/auto/apply", {"plan": token}, follow=True) \
        .content.decode()
    assert "Auto-assign: 0 tickets assigned as previewed." in body
    assert (f"Skipped #{net.number} Switch port flapping: it was assigned to Tech2 since "
            "the preview.") in body
    assert (f"Skipped #{win.number} Laptop will not boot: its priority changed from medium "
            "to critical.") in body
    assert _assignee(net) == p.tech2_a.user.pk and _assignee(win) is None


def test_expired_preview_assigns_nothing_and_offers_a_new_one(personas, monkeypatch):
    p = personas
    win, _ = scenario(p)
    client = signed_in("manager@alpha.test")
    token = _token(client.get("/app/dispatch/auto/").content.decode())
    monkeypatch.setattr("nestogy.workspace.views_dispatch.PLAN_MAX_AGE", -1)
    response = client.post("/app/dispatch/auto/apply", {"plan": token})
    assert response.status_code == 302 and response["Location"] == "/app/dispatch/auto/"
    assert _assignee(win) is None


def test_ticket_subjects_and_names_are_escaped(personas):
    p = personas
    with scopes_disabled():
        p.tech_a.user.name = '<img src=x onerror="alert(1)">'
        p.tech_a.user.save()
        p.client_a.name = "<b>Acme</b>"
        p.client_a.save()
    with scope(company=p.company_a.pk):
        set_category_skills(p.company_a, "<i>cat</i>", {"<u>skill</u>": 1})
        TechnicianProfile.objects.filter(membership=p.tech_a.membership).update(
            skills={"<u>skill</u>": 3})
        add_out_of_office(p.tech2_a.user, p.company_a, utc_now() - timedelta(hours=1),
                          utc_now() + timedelta(hours=1), "<em>gone</em>")
    ticket(p.company_a, p.client_a, "<script>alert('x')</script>", category="<i>cat</i>")
    client = signed_in("manager@alpha.test")
    for url in ("/app/dispatch/", "/app/dispatch/auto/"):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body and "&lt;script&gt;alert" in body, url
        assert "<img src=x" not in body and "&lt;img src=x" in body, url
        assert "<b>Acme</b>" not in body and "&lt;b&gt;Acme&lt;/b&gt;" in body, url
        assert "<i>cat</i>" not in body, url
    board = client.get("/app/dispatch/").content.decode()
    assert "<u>skill</u>" not in board and "&lt;u&gt;skill&lt;/u&gt;" in board
    assert "<em>gone</em>" not in board and "&lt;em&gt;gone&lt;/em&gt;" in board


def _board_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/app/dispatch/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_board_costs_the_same_queries_with_5_or_50_tickets(personas):
    p = personas
    with scope(company=p.company_a.pk):
        set_category_skills(p.company_a, "networking", {"networking": 3})
    client = signed_in("manager@alpha.test")

    def add(n, start):
        for i in range(start, start + n):
            opened_ago(p.company_a, [p.client_a, p.client_a2][i % 2], (i % 7) * 0.5,
                       subject=f"Ticket {i}", priority=["low", "medium", "high"][i % 3],
                       category=["networking", "", "windows"][i % 3],
                       assignee=p.tech2_a.user if i % 5 == 0 else None)

    add(5, 0)
    small = _board_queries(client)
    add(45, 5)
    large = _board_queries(client)
    assert small == large, (small, large)
    assert client.get("/app/dispatch/").content.decode().count("data-dispatch-card") >= 40


def test_dispatch_posts_need_the_csrf_token(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Printer jammed")
    client = signed_in("manager@alpha.test", csrf=True)
    response = client.post("/app/dispatch/assign", {"ticket": t.public_id, "seen": "",
                                                    "assignee": p.tech_a.user.public_id})
    assert response.status_code == 403
    assert client.post("/app/dispatch/auto/apply", {"plan": "x"}).status_code == 403
    assert _assignee(t) is None


def test_the_board_says_how_many_are_waiting_beyond_what_it_shows(personas, monkeypatch):
    p = personas
    monkeypatch.setattr("nestogy.workspace.views_dispatch.BOARD_LIMIT", 2)
    for i in range(3):
        opened_ago(p.company_a, p.client_a, i, subject=f"Waiting {i}")
    body = signed_in("manager@alpha.test").get("/app/dispatch/").content.decode()
    assert "3 unassigned · 2 shown of 3 · most urgent first" in body
    assert body.count("data-dispatch-card") == 2
