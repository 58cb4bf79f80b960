"""Bulk actions on the queue: assign (a member, me, unassign, auto) and change the status of
the checked tickets in one POST; each ticket through the ticket actions, the refused ones
listed with their reason."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.core import events as core_events
from nestogy.tickets.actions import change_status
from nestogy.tickets.models import StatusChange, Ticket
from tests.workspace.helpers import signed_in, ticket

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


@pytest.fixture
def seen():
    events = []
    core_events.subscribe(events.append)
    yield events
    core_events.unsubscribe(events.append)


def _fresh(company, t) -> Ticket:
    with scope(company=company.pk):
        return Ticket.objects.get(pk=t.pk)


def _result_page(client, response) -> str:
    assert response.status_code == 302, response.content[:500]
    return client.get(response["Location"]).content.decode()


def test_bulk_assign_changes_what_it_may_and_lists_the_refused(personas, seen):
    p = personas
    one = ticket(p.company_a, p.client_a, "Printer offline")
    two = ticket(p.company_a, p.client_a, "Scanner offline")
    already = ticket(p.company_a, p.client_a, "VPN down", assignee=p.tech2_a.user)
    theirs = ticket(p.company_b, p.client_b, "Bravo server")
    client = signed_in("manager@alpha.test")
    seen.clear()
    response = client.post("/app/bulk/assign?view=all&priority=medium", {
        "ticket": [one.public_id, two.public_id, already.public_id, theirs.public_id,
                   "tkt_nonexistent", one.public_id],
        "assignee": p.tech2_a.user.public_id})
    assert response["Location"] == "/app/?view=all&priority=medium"  # back to the same view
    page = _result_page(client, response)
    assert "Assigned 2 tickets to Tech2." in page
    assert "1 ticket was already assigned to Tech2." in page
    assert "Refused (2)" in page
    assert f"<strong>Ticket {theirs.public_id}</strong>: not found in this company" in page
    assert "<strong>Ticket tkt_nonexistent</strong>: not found in this company" in page
    assert "Bravo server" not in page
    for t in (one, two, already):
        assert _fresh(p.company_a, t).assignee_id == p.tech2_a.user.pk
    with scopes_disabled():
        assert Ticket.objects.get(pk=theirs.pk).assignee_id is None
        assert not AuditEntry.objects.filter(object_id=theirs.public_id,
                                             action="ticket.assigned").exists()
    with scope(company=p.company_a.pk):
        audited = AuditEntry.objects.filter(action="ticket.assigned", actor=p.manager_a.user)
        assert sorted(audited.values_list("object_id", flat=True)) == sorted(
            [one.public_id, two.public_id])
    # one event per ticket that changed, exactly as when assigning one at a time
    assert sorted(e.data["ticket_id"] for e in seen if e.type == "ticket.assigned") == sorted(
        [one.public_id, two.public_id])
    # the result is shown once
    assert "Refused (2)" not in client.get("/app/?view=all").content.decode()


def test_bulk_assign_to_me_and_unassign(personas):
    p = personas
    a = ticket(p.company_a, p.client_a, "Laptop", assignee=p.tech2_a.user)
    b = ticket(p.company_a, p.client_a, "Phone")
    client = signed_in("tech1@alpha.test")
    page = _result_page(client, client.post("/app/bulk/assign", {
        "ticket": [a.public_id, b.public_id], "assignee": "me"}))
    assert "Assigned 2 tickets to Tech1." in page
    assert {_fresh(p.company_a, t).assignee_id for t in (a, b)} == {p.tech_a.user.pk}
    page = _result_page(client, client.post("/app/bulk/assign", {
        "ticket": [a.public_id], "assignee": "none"}))
    assert "Unassigned 1 ticket." in page
    assert _fresh(p.company_a, a).assignee_id is None


def test_bulk_auto_assign_follows_the_routing_suggestion_and_refuses_closed_tickets(personas):
    p = personas
    open_one = ticket(p.company_a, p.client_a, "Windows update broke Outlook")
    closed = ticket(p.company_a, p.client_a, "Old request")
    with scope(company=p.company_a.pk):
        change_status(closed, "closed")
    client = signed_in("manager@alpha.test")
    page = _result_page(client, client.post("/app/bulk/assign?view=all", {
        "ticket": [open_one.public_id, closed.public_id], "assignee": "auto"}))
    assert "Auto-assigned 1 ticket by the routing suggestion." in page
    routed = _fresh(p.company_a, open_one)
    assert routed.assignee_id in (p.tech_a.user.pk, p.tech2_a.user.pk)
    name = "Tech1" if routed.assignee_id == p.tech_a.user.pk else "Tech2"
    assert f"#{open_one.number} Windows update broke Outlook → {name}" in page
    assert f"<strong>#{closed.number} Old request</strong>: status: closed tickets are not routed" \
        in page
    assert _fresh(p.company_a, closed).assignee_id is None
    with scope(company=p.company_a.pk):
        entry = AuditEntry.objects.get(object_id=open_one.public_id, action="ticket.assigned")
        assert entry.data["routing"] == "auto" and entry.actor_id == p.manager_a.user.pk


def test_bulk_status_mixed_changed_unchanged_and_refused(personas, seen):
    p = personas
    new = ticket(p.company_a, p.client_a, "Printer offline")
    waiting = ticket(p.company_a, p.client_a, "Password reset")
    resolved = ticket(p.company_a, p.client_a, "Mouse broken")
    with scope(company=p.company_a.pk):
        change_status(waiting, "waiting_on_client")
        change_status(resolved, "resolved")
    theirs = ticket(p.company_b, p.client_b, "Bravo server")
    client = signed_in("tech1@alpha.test")
    seen.clear()
    page = _result_page(client, client.post("/app/bulk/status?view=all", {
        "ticket": [new.public_id, waiting.public_id, resolved.public_id, theirs.public_id],
        "status": "resolved"}))
    assert "Changed 2 tickets to Resolved." in page
    assert "1 ticket was already Resolved." in page
    assert f"<strong>Ticket {theirs.public_id}</strong>: not found in this company" in page
    for t in (new, waiting, resolved):
        assert _fresh(p.company_a, t).status == "resolved"
    with scope(company=p.company_a.pk):
        # the same history and audit as one at a time
        changes = StatusChange.objects.filter(to_status="resolved", actor=p.tech_a.user)
        assert sorted(changes.values_list("ticket_id", flat=True)) == sorted([new.pk, waiting.pk])
        assert AuditEntry.objects.filter(action="ticket.status_changed",
                                         actor=p.tech_a.user).count() == 2
        assert _fresh(p.company_a, new).resolved_at is not None
    assert sorted(e.data["ticket_id"] for e in seen if e.type == "ticket.status_changed") == \
        sorted([new.public_id, waiting.public_id])
    with scopes_disabled():
        assert Ticket.objects.get(pk=theirs.pk).status == "new"
        assert not StatusChange.objects.filter(ticket=theirs).exists()


@pytest.mark.parametrize(("url", "data", "message"), [
    ("/app/bulk/assign", {"assignee": "me"}, "Tickets: select at least one ticket."),
    ("/app/bulk/status", {"ticket": [], "status": "open"}, "Tickets: select at least one ticket."),
    ("/app/bulk/assign", {"ticket": "T", "assignee": ""},
     "Assign to: choose who gets the tickets."),
    ("/app/bulk/assign", {"ticket": "T", "assignee": "usr_nobody"},
     "Assign to: choose a member of this company, me, auto or unassign."),
    ("/app/bulk/assign", {"ticket": "T", "assignee": "BILLING"},
     "Assign to: choose a member of this company, me, auto or unassign."),
    ("/app/bulk/assign", {"ticket": "T", "assignee": "BRAVO"},
     "Assign to: choose a member of this company, me, auto or unassign."),
    ("/app/bulk/status", {"ticket": "T", "status": "done"},
     "Status: Select a valid choice. done is not one of the available choices."),
    ("/app/bulk/status", {"ticket": "T"}, "Status: choose a status."),
    ("/app/bulk/status", {"ticket": ["x" * 41], "status": "open"},
     "Tickets: that is not a ticket id."),
    ("/app/bulk/status", {"ticket": [f"tkt_{n}" for n in range(201)], "status": "open"},
     "Tickets: select at most 200 at a time."),
])
def test_bad_input_names_the_field_and_writes_nothing(personas, url, data, message):
    p = personas
    t = ticket(p.company_a, p.client_a, "Laptop")
    swap = {"T": t.public_id, "BILLING": p.billing_a.user.public_id,
            "BRAVO": p.owner_b.user.public_id}
    data = {k: (swap.get(v, v) if isinstance(v, str) else v) for k, v in data.items()}
    client = signed_in("manager@alpha.test")
    response = client.post(url + "?view=all", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "Laptop" in body  # the queue is shown again with its filters
    fresh = _fresh(p.company_a, t)
    assert (fresh.status, fresh.assignee_id) == ("new", None)
    with scope(company=p.company_a.pk):
        assert not AuditEntry.objects.filter(object_id=t.public_id).exclude(
            action="ticket.created").exists()


def test_bulk_results_escape_ticket_subjects(personas):
    p = personas
    evil = ticket(p.company_a, p.client_a, XSS)
    closed = ticket(p.company_a, p.client_a, XSS + " closed")
    with scope(company=p.company_a.pk):
        change_status(closed, "closed")
    client = signed_in("manager@alpha.test")
    page = _result_page(client, client.post("/app/bulk/assign", {
        "ticket": [evil.public_id, closed.public_id, "<b>x</b>"], "assignee": "auto"}))
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;alert" in page and "Ticket &lt;b&gt;x&lt;/b&gt;" in page


@pytest.mark.parametrize("role", ROLES)
def test_bulk_actions_ask_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    t = ticket(p.company_a, p.client_a)
    client = signed_in(persona.email)
    for url, data, permission in (
            ("/app/bulk/assign", {"ticket": t.public_id, "assignee": "none"}, "tickets.assign"),
            ("/app/bulk/status", {"ticket": t.public_id, "status": "open"}, "tickets.update")):
        response = client.post(url, data)
        if allowed(persona.role, permission):
            assert response.status_code == 302, (role, url)
        else:
            assert response.status_code == 403, (role, url)
            assert "does not allow this page" in response.content.decode()
    expected = "open" if allowed(persona.role, "tickets.update") else "new"
    assert _fresh(p.company_a, t).status == expected


def test_bulk_actions_need_the_csrf_token(personas):
    p = personas
    t = ticket(p.company_a, p.client_a)
    client = signed_in("manager@alpha.test", csrf=True)
    assert client.post("/app/bulk/status", {"ticket": t.public_id,
                                            "status": "closed"}).status_code == 403
    assert client.post("/app/bulk/assign", {"ticket": t.public_id,
                                            "assignee": "me"}).status_code == 403
    fresh = _fresh(p.company_a, t)
    assert (fresh.status, fresh.assignee_id) == ("new", None)


def test_the_queue_offers_checkboxes_and_the_bulk_bar(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Printer offline")
    body = signed_in("tech1@alpha.test").get("/app/?view=all").content.decode()
    assert f'id="pick-{t.public_id}"' in body and 'form="bulk"' in body
    assert 'aria-label="Select all tickets on this page"' in body
    assert 'id="bulk"' in body and "Assign to…" in body and "Change status to…" in body
    assert '<option value="auto">Auto (routing suggestion)</option>' in body
    assert p.billing_a.user.public_id not in body.split('id="bulk"')[1].split("</form>")[0]
