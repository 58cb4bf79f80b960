"""Every service-desk event type is registered with templates that render its context."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django_scopes import scope

from nestogy.core.events import REGISTRY, Event
from nestogy.tickets.actions import create_ticket

TYPES = ["ticket.created", "ticket.assigned", "ticket.unassignable", "sla.warning",
         "sla.breached", "ticket.escalated"]


@pytest.mark.parametrize("event_type", TYPES)
def test_event_templates_render_with_context(personas, event_type):
    p = personas
    with scope(company=p.company_a.pk):
        ticket = create_ticket(p.company_a, {"client": p.client_a, "subject": "Mail down",
                                             "priority": "high", "assignee": p.tech_a.user})
    event = Event(type=event_type, company_id=p.company_a.pk, data={
        "ticket_id": ticket.public_id, "ticket_pk": ticket.pk, "number": ticket.number,
        "assignee_user_id": ticket.assignee_id, "clock": "first_response",
        "clock_label": "first response", "level": 3, "percent": 150,
        "due_at": "2025-03-03T16:00:00+00:00", "raised_priority": "critical",
        "reason": "everyone is at capacity"})
    definition = REGISTRY[event_type]
    context = definition.context(event)
    title = render_to_string(f"notifications/{event_type}/title.txt", context).strip()
    body = render_to_string(f"notifications/{event_type}/body.txt", context)
    assert f"#{ticket.number}" in title
    assert "Acme Dental" in body or "Mail down" in title
    recipients = definition.recipients(event)
    assert recipients and all(r.user_id for r in recipients)


def test_public_replies_notify_the_other_side_and_internal_notes_nobody(personas):
    from nestogy.notifications.models import Delivery
    from nestogy.tickets.actions import add_reply, create_ticket

    p = personas
    with scope(company=p.company_a.pk):
        ticket = create_ticket(p.company_a, {"client": p.client_a, "contact": p.contact_a,
                                             "subject": "VPN drops", "assignee": p.tech_a.user})
        Delivery.objects.all().delete()
        add_reply(ticket, "Internal: check the firewall logs", public=False,
                  actor=p.tech_a.user)
        assert not Delivery.objects.filter(event_type="ticket.replied").exists()
        add_reply(ticket, "We are on it <b>now</b>", public=True, actor=p.tech_a.user)
        to_contact = Delivery.objects.get(event_type="ticket.replied")
        assert (to_contact.channel, to_contact.target) == ("email", "dana@acme.test")
        add_reply(ticket, "Still dropping", public=True, contact=p.contact_a)
        to_staff = Delivery.objects.filter(event_type="ticket.replied").exclude(
            pk=to_contact.pk)
        assert {d.recipient_user_id for d in to_staff} == {p.tech_a.user.pk}
        assert {d.channel for d in to_staff} == {"email", "inapp"}
