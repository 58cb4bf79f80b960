"""Status, priority and policy changes are announced as events; tickets react to SLA ones."""

from __future__ import annotations

from contextlib import contextmanager

from django_scopes import scope

from nestogy.core import events as core_events
from nestogy.sla import actions as sla_actions
from nestogy.tickets import sla as ticket_sla
from nestogy.tickets.actions import add_reply, change_priority, change_status, create_ticket
from nestogy.tickets.models import Ticket


@contextmanager
def captured():
    seen: list[core_events.Event] = []
    core_events.subscribe(seen.append)
    try:
        yield seen
    finally:
        core_events.unsubscribe(seen.append)


def test_status_and_priority_changes_are_emitted(personas):
    p = personas
    with scope(company=p.company_a.pk):
        ticket = create_ticket(p.company_a, {"client": p.client_a, "subject": "Printer",
                                             "contact": p.contact_a})
        with captured() as seen:
            change_status(ticket, "waiting_on_client", actor=p.tech_a.user)
            change_priority(ticket, "critical", actor=p.tech_a.user)
            change_priority(ticket, "critical", actor=p.tech_a.user)  # no change, no event
            add_reply(ticket, "It works again?", contact=p.contact_a)  # back to open
    changes = [(e.type, e.data["from"], e.data["to"]) for e in seen
               if e.type in {"ticket.status_changed", "ticket.priority_changed"}]
    assert changes == [("ticket.status_changed", "new", "waiting_on_client"),
                       ("ticket.priority_changed", "medium", "critical"),
                       ("ticket.status_changed", "waiting_on_client", "open")]
    assert seen[0].actor_id == p.tech_a.user.pk and seen[0].data["ticket_id"] == \
        ticket.public_id


def test_policy_edit_emits_policy_changed_and_tickets_recompute(personas):
    p = personas
    assert ticket_sla.on_policy_changed in core_events.reactions("sla.policy_changed")
    assert ticket_sla.on_client_policy_changed in core_events.reactions(
        "sla.client_policy_changed")
    with scope(company=p.company_a.pk):
        ticket = create_ticket(p.company_a, {"client": p.client_a, "subject": "VPN",
                                             "priority": "high"})
        policy = ticket.policy
        due_before = Ticket.objects.get(pk=ticket.pk).resolution_due_at
        targets = {k: dict(v) for k, v in policy.targets.items()}
        targets["high"]["resolution_minutes"] *= 2
        with captured() as seen:
            sla_actions.update_policy(policy, {"targets": targets})
        assert [(e.type, e.data) for e in seen if e.type.startswith("sla.")] == [
            ("sla.policy_changed", {"policy_ids": [policy.pk]})]
        assert Ticket.objects.get(pk=ticket.pk).resolution_due_at > due_before


def test_client_assignment_emits_and_reselects(personas):
    p = personas
    with scope(company=p.company_a.pk):
        ticket = create_ticket(p.company_a, {"client": p.client_a, "subject": "Mail"})
        other = sla_actions.create_policy(p.company_a, {
            "name": "Gold", "calendar": ticket.policy.calendar,
            "targets": sla_actions.DEFAULT_TARGETS})
        with captured() as seen:
            sla_actions.set_client_policy(p.client_a, other)
        assert [e.data for e in seen if e.type == "sla.client_policy_changed"] == [
            {"client_ids": [p.client_a.pk]}]
        assert Ticket.objects.get(pk=ticket.pk).policy_id == other.pk
