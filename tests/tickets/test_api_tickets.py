"""The ticket API: bodies with `sla`, replies, filters, sorting, bulk operations, import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_scopes import scope, scopes_disabled

from nestogy.audit.models import AuditEntry
from nestogy.tickets.models import Ticket

# Company A (Alpha IT) is in America/New_York; its default calendar is Mon-Fri 09:00-17:00.
MON_9 = datetime(2025, 3, 3, 14, tzinfo=UTC)  # Monday 09:00 EST


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def open_ticket(p, api=None, **body):
    body = {"client_id": p.client_a.public_id, "subject": "Server down", "priority": "high",
            **body}
    response = (api or p.owner_a.api).post("/tickets", body)
    assert response.status_code == 201, response.data
    return response.data


def test_create_ticket_has_sla_from_default_policy(personas):
    with time_machine.travel(MON_9 + timedelta(hours=1), tick=False):
        body = open_ticket(personas, api=personas.tech_a.api)
    assert body["number"] == 1 and body["status"] == "new"
    sla = body["sla"]
    assert sla["policy_id"].startswith("slp_") and sla["state"] == "running"
    # High: first response 2h, resolution 8h business time, from Monday 10:00 EST.
    assert parse(sla["first_response"]["due_at"]) == MON_9 + timedelta(hours=3)
    assert parse(sla["resolution"]["due_at"]) == MON_9 + timedelta(days=1, hours=1)
    assert sla["first_response"] == {**sla["first_response"], "met_at": None,
                                     "state": "running", "breached": False, "breached_by": 0}
    assert sla["resolution"]["paused_business_seconds"] == 0
    second = open_ticket(personas)
    assert second["number"] == 2


def test_public_staff_reply_is_the_first_response(personas):
    with time_machine.travel(MON_9, tick=False):
        ticket = open_ticket(personas)
    api = personas.tech_a.api
    with time_machine.travel(MON_9 + timedelta(minutes=30), tick=False):
        note = api.post(f"/tickets/{ticket['id']}/replies", {"body": "internal", "public": False})
        assert note.status_code == 201 and note.data["author"] == "staff"
        assert api.get(f"/tickets/{ticket['id']}").data["sla"]["first_response"]["met_at"] \
            is None
    with time_machine.travel(MON_9 + timedelta(minutes=45), tick=False):
        api.post(f"/tickets/{ticket['id']}/replies", {"body": "Looking now", "public": True})
    body = api.get(f"/tickets/{ticket['id']}").data
    fr = body["sla"]["first_response"]
    assert parse(fr["met_at"]) == MON_9 + timedelta(minutes=45)
    assert fr["state"] == "met" and fr["business_seconds"] == 45 * 60
    replies = api.get(f"/tickets/{ticket['id']}/replies").data["items"]
    assert [r["public"] for r in replies] == [False, True]


def test_status_pause_and_resolve_through_patch(personas):
    api = personas.manager_a.api
    with time_machine.travel(MON_9, tick=False):
        ticket = open_ticket(personas)
    with time_machine.travel(MON_9 + timedelta(hours=1), tick=False):
        api.patch(f"/tickets/{ticket['id']}", {"status": "waiting_on_client"})
    with time_machine.travel(MON_9 + timedelta(hours=3), tick=False):
        paused = api.get(f"/tickets/{ticket['id']}").data["sla"]
        assert paused["state"] == "paused"
        api.patch(f"/tickets/{ticket['id']}", {"status": "in_progress"})
    with time_machine.travel(MON_9 + timedelta(hours=4), tick=False):
        done = api.patch(f"/tickets/{ticket['id']}", {"status": "resolved"}).data
    res = done["sla"]["resolution"]
    assert res["paused_business_seconds"] == 2 * 3600
    assert res["state"] == "met" and res["business_seconds"] == 2 * 3600
    assert parse(res["due_at"]) == MON_9 + timedelta(days=1, hours=2)  # 8h + 2h paused
    assert done["resolved_at"] is not None


def test_bad_input_answers_422_naming_the_field_and_writes_nothing(personas):
    api = personas.owner_a.api
    before = _ticket_count()
    for body, field in [
        ({"client_id": personas.client_a.public_id, "subject": "x", "priority": "urgent"},
         "priority"),
        ({"client_id": "cli_nope", "subject": "x"}, "client_id"),
        ({"client_id": personas.client_a.public_id, "subject": " "}, "subject"),
        ({"client_id": personas.client_a.public_id, "subject": "x",
          "contact_id": personas.contact_a2.public_id}, "contact_id"),
        ({"client_id": personas.client_a.public_id, "subject": "x",
          "opened_at": "2999-01-01T00:00:00+00:00"}, "opened_at"),
        ({"client_id": personas.client_b.public_id, "subject": "x"}, "client_id"),
    ]:
        response = api.post("/tickets", body)
        assert response.status_code == 422, (body, response.data)
        assert response.data["error"]["field"] == field
    assert _ticket_count() == before
    ticket = open_ticket(personas)
    bad = api.patch(f"/tickets/{ticket['id']}", {"status": "done"})
    assert bad.status_code == 422 and bad.data["error"]["field"] == "status"
    assert api.get(f"/tickets/{ticket['id']}").data["status"] == "new"


def _ticket_count():
    with scopes_disabled():
        return Ticket.objects.count()


def test_list_filters_sort_and_pagination(personas, django_assert_max_num_queries):
    p = personas
    api = p.owner_a.api
    with time_machine.travel(MON_9, tick=False):
        a = open_ticket(p, subject="Printer jam", priority="low")
        b = open_ticket(p, subject="VPN down", priority="critical",
                        assignee_id=p.tech_a.user.public_id)
        c = open_ticket(p, subject="New laptop", priority="medium",
                        client_id=p.client_a2.public_id, description="needs a printer too")
    with scope(company=p.company_b.pk):
        from nestogy.tickets.actions import create_ticket

        create_ticket(p.company_b, {"client": p.client_b, "subject": "Bravo printer"})

    def ids(**params):
        response = api.get("/tickets", **params)
        assert response.status_code == 200, response.data
        return [t["id"] for t in response.data["items"]]

    assert set(ids()) == {a["id"], b["id"], c["id"]}
    assert ids(priority="critical") == [b["id"]]
    assert set(ids(priority="low,medium")) == {a["id"], c["id"]}
    assert ids(assignee_id=p.tech_a.user.public_id) == [b["id"]]
    assert set(ids(assignee_id="none")) == {a["id"], c["id"]}
    assert ids(client_id=p.client_a2.public_id) == [c["id"]]
    assert set(ids(q="printer")) == {a["id"], c["id"]}
    assert ids(sort="-priority") == [b["id"], c["id"], a["id"]]
    assert ids(sort="number") == [a["id"], b["id"], c["id"]]
    assert ids(sla_state="running", sort="number") == [a["id"], b["id"], c["id"]]
    assert ids(opened_after=iso(MON_9 + timedelta(minutes=1))) == []
    assert ids(status="new", opened_before=iso(MON_9 + timedelta(minutes=1)),
               sort="number") == [a["id"], b["id"], c["id"]]
    page1 = api.get("/tickets", limit=2, sort="number").data
    page2 = api.get("/tickets", limit=2, sort="number", cursor=page1["next_cursor"]).data
    assert [t["id"] for t in page1["items"] + page2["items"]] == [a["id"], b["id"], c["id"]]
    assert page2["next_cursor"] is None
    assert api.get("/tickets", sort="colour").status_code == 422
    assert api.get("/tickets", status="done").data["error"]["field"] == "status"
    with django_assert_max_num_queries(6):
        api.get("/tickets", limit=50)


def test_list_query_count_does_not_grow_with_tickets(personas, django_assert_max_num_queries):
    for _ in range(12):
        open_ticket(personas, assignee_id=personas.tech_a.user.public_id,
                    contact_id=personas.contact_a.public_id)
    with django_assert_max_num_queries(6):
        response = personas.owner_a.api.get("/tickets", limit=50, sort="-priority")
    assert len(response.data["items"]) == 12


def test_bulk_assign_reports_per_ticket_and_audits_each_success(personas):
    p = personas
    t1, t2 = open_ticket(p), open_ticket(p)
    api = p.manager_a.api
    response = api.post("/tickets/bulk/assign", {
        "ticket_ids": [t1["id"], "tkt_missing", t2["id"]],
        "assignee_id": p.tech2_a.user.public_id})
    assert response.status_code == 200
    assert response.data["results"] == [
        {"id": t1["id"], "ok": True, "error": None, "assignee_id": p.tech2_a.user.public_id},
        {"id": "tkt_missing", "ok": False, "error": "not found", "assignee_id": None},
        {"id": t2["id"], "ok": True, "error": None, "assignee_id": p.tech2_a.user.public_id}]
    assert api.get(f"/tickets/{t2['id']}").data["assignee_id"] == p.tech2_a.user.public_id
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="ticket.assigned").count() == 2
    bogus = api.post("/tickets/bulk/assign", {"ticket_ids": [t1["id"]],
                                              "assignee_id": "everyone"})
    assert bogus.status_code == 422 and bogus.data["error"]["field"] == "assignee_id"
    billing = api.post("/tickets/bulk/assign", {"ticket_ids": [t1["id"]],
                                                "assignee_id": p.billing_a.user.public_id})
    assert billing.status_code == 422 and billing.data["error"]["field"] == "assignee_id"


def test_bulk_status_one_failure_does_not_undo_the_others(personas):
    p = personas
    t1, t2 = open_ticket(p), open_ticket(p)
    with scope(company=p.company_a.pk):
        Ticket.objects.filter(public_id=t2["id"]).update(status="in_progress")
    response = p.owner_a.api.post("/tickets/bulk/status", {
        "ticket_ids": [t1["id"], t2["id"], "tkt_gone"], "status": "resolved"})
    results = response.data["results"]
    assert [r["ok"] for r in results] == [True, True, False]
    assert p.owner_a.api.get(f"/tickets/{t1['id']}").data["status"] == "resolved"
    bad = p.owner_a.api.post("/tickets/bulk/status", {"ticket_ids": [t1["id"]],
                                                     "status": "finished"})
    assert bad.status_code == 422 and bad.data["error"]["field"] == "status"


def test_delete_ticket(personas):
    t = open_ticket(personas)
    assert personas.tech_a.api.delete(f"/tickets/{t['id']}").status_code == 403
    assert personas.manager_a.api.delete(f"/tickets/{t['id']}").status_code == 204
    assert personas.manager_a.api.get(f"/tickets/{t['id']}").status_code == 404


HISTORY = [  # (offset from opening, kind, detail)
    (timedelta(minutes=20), "reply", {"public": False}),
    (timedelta(minutes=40), "reply", {"public": True, "author": "contact"}),
    (timedelta(hours=1), "reply", {"public": True}),
    (timedelta(hours=2), "status", {"status": "waiting_on_client"}),
    (timedelta(hours=5), "status", {"status": "in_progress"}),
    (timedelta(hours=6), "priority", {"priority": "critical"}),
    (timedelta(days=1, hours=2), "status", {"status": "resolved"}),
    (timedelta(days=1, hours=4), "status", {"status": "open"}),
    (timedelta(days=2, hours=1), "status", {"status": "resolved"}),
]


def test_import_replay_equals_live_calls_at_the_same_times(personas):
    """The same history through POST /tickets/import and through live calls gives the same SLA."""
    p = personas
    api = p.owner_a.api
    opened = MON_9 + timedelta(hours=1)  # Monday 10:00 EST
    with time_machine.travel(opened, tick=False):
        live = open_ticket(p, priority="medium", contact_id=p.contact_a.public_id)
    for offset, kind, detail in HISTORY:
        with time_machine.travel(opened + offset, tick=False):
            if kind == "reply" and detail.get("author") == "contact":
                from nestogy.clients.models import Contact
                from nestogy.tickets.actions import add_reply

                with scope(company=p.company_a.pk):
                    ticket = Ticket.objects.get(public_id=live["id"])
                    add_reply(ticket, "Any news?", public=True,
                              contact=Contact.objects.get(pk=p.contact_a.pk))
            elif kind == "reply":
                api.post(f"/tickets/{live['id']}/replies", {"body": "x", **detail})
            else:
                assert api.patch(f"/tickets/{live['id']}", detail).status_code == 200
    final = opened + timedelta(days=3)
    events = [{"at": iso(opened + offset), "type": kind, **detail}
              for offset, kind, detail in HISTORY]
    with time_machine.travel(final, tick=False):
        imported = api.post("/tickets/import", {
            "client_id": p.client_a.public_id, "subject": "Server down", "priority": "medium",
            "contact_id": p.contact_a.public_id, "opened_at": iso(opened),
            "events": list(reversed(events))})
        assert imported.status_code == 201, imported.data
        from nestogy.tickets.actions import recompute_sla

        with scope(company=p.company_a.pk):
            recompute_sla(Ticket.objects.select_related("policy__calendar")
                          .get(public_id=live["id"]))
        live_body = api.get(f"/tickets/{live['id']}").data
    imported_sla, live_sla = imported.data["sla"], live_body["sla"]
    assert imported_sla == live_sla
    assert imported.data["priority"] == "critical" and imported.data["status"] == "resolved"
    res = imported_sla["resolution"]
    assert res["state"] in {"met", "met_late"}
    assert res["paused_business_seconds"] == 5 * 3600  # 3h waiting + 2h resolved before reopen
    assert imported_sla["first_response"]["met_at"] == iso(opened + timedelta(hours=1)) \
        or parse(imported_sla["first_response"]["met_at"]) == opened + timedelta(hours=1)


@pytest.mark.parametrize(("event", "field"), [
    ({"at": "2025-03-01T00:00:00+00:00", "type": "status", "status": "open"}, "events[0].at"),
    ({"at": "2025-03-03T15:00:00+00:00", "type": "status", "status": "done"},
     "events[0].status"),
    ({"at": "2025-03-03T15:00:00+00:00", "type": "note"}, "events.0.type"),
])
def test_import_rejects_bad_history_and_writes_nothing(personas, event, field):
    before = _ticket_count()
    response = personas.owner_a.api.post("/tickets/import", {
        "client_id": personas.client_a.public_id, "subject": "Old", "priority": "low",
        "opened_at": "2025-03-03T14:00:00+00:00", "events": [event]})
    assert response.status_code == 422
    assert response.data["error"]["field"].replace("[0]", ".0") == field.replace("[0]", ".0")
    assert _ticket_count() == before


def test_client_policy_assignment_selects_the_ticket_policy(personas):
    p = personas
    api = p.owner_a.api
    cal = api.post("/calendars", {"name": "24x7", "timezone": "UTC", "is_24x7": True}).data
    policy = api.post("/sla-policies", {
        "name": "Premium", "calendar_id": cal["id"],
        "targets": {pr: {"first_response_minutes": 30, "resolution_minutes": 120}
                    for pr in ("critical", "high", "medium", "low")}}).data
    assert policy["is_default"] is False
    updated = api.patch(f"/clients/{p.client_a.public_id}", {"sla_policy_id": policy["id"]})
    assert updated.status_code == 200 and updated.data["sla_policy_id"] == policy["id"]
    listed = {c["id"]: c for c in api.get("/clients").data["items"]}
    assert listed[p.client_a.public_id]["sla_policy_id"] == policy["id"]
    assert listed[p.client_a2.public_id]["sla_policy_id"] is None
    with time_machine.travel(MON_9 - timedelta(hours=12), tick=False):  # Sunday night
        t = open_ticket(p)
        other = open_ticket(p, client_id=p.client_a2.public_id)
    assert t["sla"]["policy_id"] == policy["id"]
    assert parse(t["sla"]["first_response"]["due_at"]) == MON_9 - timedelta(hours=11, minutes=30)
    assert other["sla"]["policy_id"] != policy["id"]
    # Moving the ticket to the other client re-selects the policy.
    moved = api.patch(f"/tickets/{t['id']}", {"client_id": p.client_a2.public_id}).data
    assert moved["sla"]["policy_id"] == other["sla"]["policy_id"]
    bad = api.post("/clients", {"name": "X", "sla_policy_id": "slp_nope"})
    assert bad.status_code == 422 and bad.data["error"]["field"] == "sla_policy_id"


def test_active_contract_policy_wins_and_contract_changes_reselect(personas):
    """Contract policy → client policy → company default, re-selected when the contract
    changes (open tickets move, due times recomputed); docs/semantics.md
    #policies-and-their-selection."""
    p = personas
    api = p.owner_a.api
    cal = api.post("/calendars", {"name": "24x7", "timezone": "UTC", "is_24x7": True}).data
    targets = {pr: {"first_response_minutes": 30, "resolution_minutes": 120}
               for pr in ("critical", "high", "medium", "low")}
    client_policy = api.post("/sla-policies", {"name": "Client", "calendar_id": cal["id"],
                                               "targets": targets}).data
    contract_policy = api.post("/sla-policies", {
        "name": "Contract", "calendar_id": cal["id"],
        "targets": {pr: {"first_response_minutes": 15, "resolution_minutes": 60}
                    for pr in targets}}).data
    api.patch(f"/clients/{p.client_a.public_id}", {"sla_policy_id": client_policy["id"]})
    before = open_ticket(p)
    assert before["sla"]["policy_id"] == client_policy["id"]
    contract = api.post("/contracts", {
        "client_id": p.client_a.public_id, "name": "Managed services",
        "start_date": "2020-01-01", "billing_cycle": "monthly", "currency": "USD",
        "sla_policy_id": contract_policy["id"]})
    assert contract.status_code == 201, contract.data
    assert contract.data["sla_policy_id"] == contract_policy["id"]
    # The open ticket moved to the contract's policy with recomputed (shorter) due times.
    moved = api.get(f"/tickets/{before['id']}").data
    assert moved["sla"]["policy_id"] == contract_policy["id"]
    assert moved["sla"]["first_response"]["due_at"] < before["sla"]["first_response"]["due_at"]
    assert open_ticket(p)["sla"]["policy_id"] == contract_policy["id"]
    # Ending the contract falls back to the client's policy for open tickets.
    ended = api.patch(f"/contracts/{contract.data['id']}", {"status": "ended"})
    assert ended.status_code == 200
    assert api.get(f"/tickets/{before['id']}").data["sla"]["policy_id"] == client_policy["id"]
    bad = api.patch(f"/contracts/{contract.data['id']}", {"sla_policy_id": "slp_nope"})
    assert bad.status_code == 422 and bad.data["error"]["field"] == "sla_policy_id"
def test_history_lists_status_and_priority_changes(personas):
    p = personas
    api = p.tech_a.api
    with time_machine.travel(MON_9, tick=False):
        t = open_ticket(p)
    with time_machine.travel(MON_9 + timedelta(minutes=5), tick=False):
        api.patch(f"/tickets/{t['id']}", {"status": "in_progress", "priority": "critical"})
    with time_machine.travel(MON_9 + timedelta(minutes=9), tick=False):
        api.patch(f"/tickets/{t['id']}", {"status": "resolved"})
    items = api.get(f"/tickets/{t['id']}/history").data["items"]
    assert [(i["kind"], i["from_value"], i["to_value"]) for i in items] == [
        ("priority", "high", "critical"), ("status", "new", "in_progress"),
        ("status", "in_progress", "resolved")]
    assert items[0]["actor_id"] == p.tech_a.user.public_id
