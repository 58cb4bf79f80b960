"""Ticket actions called directly: history, timestamps, events, the scheduled task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django_scopes import scope

from nestogy.audit.models import AuditEntry
from nestogy.core import events as core_events
from nestogy.tickets import actions
from nestogy.tickets.models import PriorityChange, StatusChange, Ticket

MON_9 = datetime(2025, 3, 3, 14, tzinfo=UTC)  # Monday 09:00 EST (company A)


def test_reopen_clears_resolved_at_and_resolution_runs_again(in_a):
    p = in_a
    with time_machine.travel(MON_9, tick=False):
        t = actions.create_ticket(p.company_a, {"client": p.client_a, "subject": "Mail"})
    with time_machine.travel(MON_9 + timedelta(hours=1), tick=False):
        t = actions.change_status(t, "resolved", actor=p.tech_a.user)
        assert t.resolved_at == MON_9 + timedelta(hours=1) and t.resolution_state == "met"
    with time_machine.travel(MON_9 + timedelta(hours=3), tick=False):
        t = actions.change_status(t, "open", actor=p.tech_a.user)
    t.refresh_from_db()
    assert t.resolved_at is None and t.resolution_state in {"running", "warning"}
    assert t.paused_business_seconds == 2 * 3600
    history = list(StatusChange.objects.filter(ticket=t).values_list("from_status", "to_status"))
    assert history == [("new", "resolved"), ("resolved", "open")]
    # Unchanged status: no history row, no audit entry.
    count = AuditEntry.objects.filter(object_id=t.public_id).count()
    actions.change_status(t, "open")
    assert AuditEntry.objects.filter(object_id=t.public_id).count() == count


def test_change_priority_recomputes_due_times_and_records_history(in_a):
    p = in_a
    with time_machine.travel(MON_9, tick=False):
        t = actions.create_ticket(p.company_a, {"client": p.client_a, "subject": "VPN",
                                                "priority": "low"})
        low_due = t.resolution_due_at
    with time_machine.travel(MON_9 + timedelta(minutes=30), tick=False):
        t = actions.change_priority(t, "critical", actor=p.manager_a.user)
    t.refresh_from_db()
    assert t.resolution_due_at == MON_9 + timedelta(hours=4) < low_due
    assert list(PriorityChange.objects.filter(ticket=t)
                .values_list("from_priority", "to_priority")) == [("low", "critical")]


def test_contact_reply_does_not_meet_first_response(in_a):
    p = in_a
    t = actions.create_ticket(p.company_a, {"client": p.client_a, "subject": "Help",
                                            "contact": p.contact_a})
    reply = actions.add_reply(t, "Any update?", public=True, contact=p.contact_a)
    t.refresh_from_db()
    assert reply.by_staff is False and t.first_response_at is None
    assert t.first_response_state in {"running", "warning", "breached"}


def test_assignment_emits_ticket_assigned_once(in_a):
    p = in_a
    seen = []
    core_events.subscribe(seen.append)
    try:
        t = actions.create_ticket(p.company_a, {"client": p.client_a, "subject": "Laptop"})
        actions.update_ticket(t, {"assignee": p.tech_a.user}, actor=p.manager_a.user)
        actions.assign_ticket(t, p.tech_a.user, actor=p.manager_a.user)  # no change
        actions.assign_ticket(t, None, actor=p.manager_a.user)
    finally:
        core_events._subscribers.remove(seen.append)
    assert [e.type for e in seen] == ["ticket.created", "ticket.assigned"]
    assert core_events.REGISTRY["ticket.assigned"].recipients(seen[1])[0].user_id == \
        p.tech_a.user.pk
    t.refresh_from_db()
    assert t.assignee is None


def test_ticket_numbers_are_per_company(personas):
    p = personas
    with scope(company=p.company_a.pk):
        a = [actions.create_ticket(p.company_a, {"client": p.client_a, "subject": "x"}).number
             for _ in range(3)]
    with scope(company=p.company_b.pk):
        b = actions.create_ticket(p.company_b, {"client": p.client_b, "subject": "x"}).number
    assert a == [1, 2, 3] and b == 1


def test_scheduled_task_runs_the_checker(personas):
    from django_tasks_db.models import DBTaskResult

    from nestogy.tenancy.models import Company
    from nestogy.tickets.tasks import check_sla, check_sla_breaches

    with time_machine.travel(MON_9, tick=False), scope(company=personas.company_a.pk):
        actions.create_ticket(personas.company_a, {"client": personas.client_a,
                                                   "subject": "x", "priority": "high"})
    DBTaskResult.objects.all().delete()
    with time_machine.travel(MON_9 + timedelta(hours=5), tick=False):
        handed_out = check_sla_breaches.call()
        active = Company.objects.filter(is_active=True).count()
        assert handed_out == {"companies": active}
        queued = DBTaskResult.objects.filter(task_path="nestogy.tickets.tasks.check_sla")
        assert personas.company_a.pk in {row.args_kwargs["args"][0] for row in queued}
        result = check_sla.call(personas.company_a.pk)
    # First response breached (and past 150%: raised to critical, whose 4h resolution target
    # is breached too by 14:00).
    assert result["breaches"] == 2 and result["checked"] == 1
    with scope(company=personas.company_a.pk):
        assert Ticket.objects.get().sla_state == "breached"


def test_company_without_policies_gets_defaults_on_first_ticket(db):
    from nestogy.clients.actions import create_client
    from nestogy.tenancy.actions import create_company

    company = create_company(name="Bare MSP", timezone="UTC", currency="USD")
    with scope(company=company.pk):
        client = create_client(company, {"name": "Bare client"})
        ticket = actions.create_ticket(company, {"client": client, "subject": "x"})
        assert ticket.policy.is_default and ticket.resolution_due_at is not None


def test_contact_reply_hands_the_ticket_back_to_the_desk(in_a):
    """Waiting on client → open (clock runs again); resolved → reopened; on hold stays."""
    from nestogy.tickets.actions import add_reply, change_status

    p = in_a
    start = datetime(2025, 3, 3, 14, tzinfo=UTC)  # Monday 09:00 New York
    with time_machine.travel(start, tick=False):
        ticket = actions.create_ticket(p.company_a, {"client": p.client_a, "subject": "Mail",
                                                     "contact": p.contact_a,
                                                     "priority": "high"})
        change_status(ticket, "waiting_on_client")
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        add_reply(ticket, "Here is the screenshot", contact=p.contact_a)
        ticket.refresh_from_db()
        assert ticket.status == "open" and ticket.sla_state != "paused"
        change_status(ticket, "resolved")
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        add_reply(ticket, "It is broken again", contact=p.contact_a)
        ticket.refresh_from_db()
        assert ticket.status == "open" and ticket.resolved_at is None
        assert StatusChange.objects.filter(ticket=ticket, to_status="open").count() == 2
        change_status(ticket, "on_hold")
        add_reply(ticket, "Any news?", contact=p.contact_a)
        ticket.refresh_from_db()
        assert ticket.status == "on_hold"
        # A staff reply never changes the status.
        change_status(ticket, "waiting_on_client")
        add_reply(ticket, "Can you send the log?", actor=p.tech_a.user)
        ticket.refresh_from_db()
        assert ticket.status == "waiting_on_client"


def test_contract_policy_change_moves_open_tickets_in_constant_queries(in_a):
    """Re-selecting a client's policy updates and recomputes its open tickets set-based."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from nestogy.sla.actions import create_policy, set_client_policy
    from nestogy.sla.models import SLAPolicy

    p = in_a
    base = SLAPolicy.objects.get(is_default=True)
    premium = create_policy(p.company_a, {
        "name": "Premium", "calendar": base.calendar,
        "targets": {pr: {"first_response_minutes": 15, "resolution_minutes": 60}
                    for pr in ("critical", "high", "medium", "low")}})

    def measure(n):
        for t in Ticket.objects.filter(client=p.client_a):
            t.delete()
        for _ in range(n):
            actions.create_ticket(p.company_a, {"client": p.client_a, "subject": "x"})
        set_client_policy(p.client_a, None)
        with CaptureQueriesContext(connection) as ctx:
            set_client_policy(p.client_a, premium)
        assert set(Ticket.objects.filter(client=p.client_a)
                   .values_list("policy_id", flat=True)) == {premium.pk}
        return len(ctx.captured_queries)

    assert measure(3) == measure(30)
