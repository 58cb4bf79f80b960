"""What staff see and do in the queue and on the ticket page (Django test client)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from nestogy.notifications.models import Delivery
from nestogy.tickets.actions import assign_ticket, change_status
from nestogy.tickets.models import Reply, Ticket
from tests.portal.helpers import signed_in as contact_signed_in
from tests.workspace.helpers import opened_ago, signed_in, ticket

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _row_order(body: str, subjects: list[str]) -> list[str]:
    return sorted(subjects, key=body.index)


def test_queue_puts_breached_first_then_the_earliest_deadline(personas):
    p = personas
    ticket(p.company_a, p.client_a, "Fresh ticket", priority="low")
    opened_ago(p.company_a, p.client_a, 30, subject="Long overdue", priority="critical")
    ticket(p.company_a, p.client_a, "Urgent new", priority="critical")
    client = signed_in("owner@alpha.test")
    response = client.get("/app/?view=all")
    assert response.status_code == 200
    body = response.content.decode()
    assert _row_order(body, ["Fresh ticket", "Long overdue", "Urgent new"]) == [
        "Long overdue", "Urgent new", "Fresh ticket"]
    assert "Overdue" in body
    # the counts of the views
    assert 'data-count="all">3<' in body
    assert 'data-count="breached">1<' in body
    assert 'data-count="unassigned">3<' in body
    assert 'data-count="mine">0<' in body


def test_my_work_shows_only_my_tickets(personas):
    p = personas
    ticket(p.company_a, p.client_a, "Mine", assignee=p.tech_a.user)
    ticket(p.company_a, p.client_a, "Theirs", assignee=p.tech2_a.user)
    body = signed_in("tech1@alpha.test").get("/app/").content.decode()
    assert "Mine" in body and "Theirs" not in body


def test_queue_filters_and_bad_filter_values(personas):
    p = personas
    ticket(p.company_a, p.client_a, "Acme printer", category="printing")
    ticket(p.company_a, p.client_a2, "Blue Ridge VPN")
    client = signed_in("manager@alpha.test")
    body = client.get(f"/app/?view=all&client={p.client_a2.public_id}").content.decode()
    assert "Blue Ridge VPN" in body and "Acme printer" not in body
    body = client.get("/app/?view=all&q=printer").content.decode()
    assert "Acme printer" in body and "Blue Ridge VPN" not in body
    body = client.get("/app/?view=all&category=printing").content.decode()
    assert "Acme printer" in body and "Blue Ridge VPN" not in body
    bad = client.get("/app/?view=all&priority=urgent&client=cli_unknown")
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "Priority: Select a valid choice." in text
    assert "Client: Select a valid choice." in text


def notify_many(company, user, n):
    from nestogy.notifications.models import Notification

    with scope(company=company.pk):
        Notification.objects.bulk_create(
            Notification(company=company, user=user, event_type="ticket.created",
                         title=f"Note {i}") for i in range(n))


def test_queue_page_takes_the_same_queries_for_few_or_many_tickets(personas):
    p = personas
    client = signed_in("owner@alpha.test")
    for n in range(3):
        ticket(p.company_a, p.client_a, f"Few {n}")
    client.get("/app/?view=all")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get("/app/?view=all").status_code == 200
    for n in range(30):
        ticket(p.company_a, p.client_a2 if n % 2 else p.client_a, f"Many {n}",
               assignee=p.tech_a.user if n % 3 else None)
    # The header's unread badge is one COUNT in both runs (0 entries, then 30 unread).
    notify_many(p.company_a, p.owner_a.user, 30)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/app/?view=all")
        assert response.status_code == 200
        assert "data-unread>30<" in response.content.decode()
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_reply_meets_the_first_response_and_mails_the_contact(
        personas, django_capture_on_commit_callbacks):
    p = personas
    t = ticket(p.company_a, p.client_a, "Outlook keeps asking for a password",
               contact=p.contact_a)
    client = signed_in("tech1@alpha.test")
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/app/tickets/{t.public_id}/reply",
                               {"body": "Please restart Outlook.", "kind": "reply"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Reply sent to the client." in page
    assert "Please restart Outlook." in page
    assert "Met" in page  # the first-response clock
    with scope(company=p.company_a.pk):
        assert Ticket.objects.get(pk=t.pk).first_response_state == "met"
        targets = [d.target for d in Delivery.objects.filter(event_type="ticket.replied")]
        assert targets == ["dana@acme.test"]


def test_internal_note_is_kept_from_the_client(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Server disk", contact=p.contact_a)
    client = signed_in("tech1@alpha.test")
    client.post(f"/app/tickets/{t.public_id}/reply",
                {"body": "Customer's RAID is degraded", "kind": "note"})
    page = client.get(f"/app/tickets/{t.public_id}/").content.decode()
    assert "Internal note" in page and "Customer&#x27;s RAID is degraded" in page
    with scope(company=p.company_a.pk):
        reply = Reply.objects.get(ticket=t)
        assert reply.public is False
        assert Ticket.objects.get(pk=t.pk).first_response_state != "met"
        assert not Delivery.objects.filter(event_type="ticket.replied").exists()
    portal = contact_signed_in("dana@acme.test")
    assert "RAID is degraded" not in portal.get(f"/portal/tickets/{t.public_id}/").content.decode()


def test_bad_input_in_every_form_names_the_field_and_writes_nothing(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Laptop")
    client = signed_in("manager@alpha.test")
    base = f"/app/tickets/{t.public_id}"
    empty = client.post(base + "/reply", {"body": "   ", "kind": "reply"})
    assert empty.status_code == 400
    assert "Message: Write a message first." in empty.content.decode()
    kind = client.post(base + "/reply", {"body": "hello", "kind": "shout"})
    assert kind.status_code == 400 and "Kind: Select a valid choice." in kind.content.decode()
    status = client.post(base + "/update", {"status": "done", "priority": "urgent",
                                            "category": "x" * 101})
    assert status.status_code == 400
    text = status.content.decode()
    assert "Status: Select a valid choice." in text
    assert "Priority: Select a valid choice." in text
    assert "Category: Ensure this value has at most 100 characters" in text
    assignee = client.post(base + "/assign", {"assignee": p.owner_b.user.public_id})
    assert assignee.status_code == 400
    assert "Assignee: choose a member of this company." in assignee.content.decode()
    billing = client.post(base + "/assign", {"assignee": p.billing_a.user.public_id})
    assert billing.status_code == 400
    assert "Assignee: must be an active staff member who works tickets" in \
        billing.content.decode()
    with scope(company=p.company_a.pk):
        t.refresh_from_db()
        assert (t.status, t.priority, t.category, t.assignee_id) == ("new", "medium", "", None)
        assert not Reply.objects.filter(ticket=t).exists()


def test_controls_change_the_ticket_and_the_timeline_says_who(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Wi-Fi drops")
    client = signed_in("manager@alpha.test")
    base = f"/app/tickets/{t.public_id}"
    client.post(base + "/update", {"status": "in_progress", "priority": "high",
                                   "category": "network"})
    client.post(base + "/assign", {"assignee": p.tech_a.user.public_id})
    page = client.get(base + "/").content.decode()
    assert "Status New → In progress" in page
    assert "Priority medium → high" in page
    assert "Assigned to Tech1" in page
    assert "Manager" in page  # who did it
    client.post(base + "/assign", {"assignee": "me"})
    with scope(company=p.company_a.pk):
        t.refresh_from_db()
        assert (t.status, t.priority, t.category) == ("in_progress", "high", "network")
        assert t.assignee_id == p.manager_a.user.pk


def test_routing_panel_ranks_technicians_with_their_scores(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Switch down")
    page = signed_in("manager@alpha.test").get(f"/app/tickets/{t.public_id}/").content.decode()
    assert "Suggested technicians" in page
    assert "Assign to Tech1" in page and "Assign to Tech2" in page
    assert "score " in page and "0 open" in page


def test_an_assigned_tickets_routing_panel_is_ranked_when_opened(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Switch down")
    with scope(company=p.company_a.pk):
        assign_ticket(t, p.tech_a.user)
    client = signed_in("manager@alpha.test")
    page = client.get(f"/app/tickets/{t.public_id}/").content.decode()
    assert "Suggest another technician" in page and "Suggested technicians" not in page
    assert f'hx-get="/app/tickets/{t.public_id}/routing"' in page
    panel = client.get(f"/app/tickets/{t.public_id}/routing").content.decode()
    assert "Suggested technicians" in panel and "Assign to Tech2" in panel
    assert "<html" not in panel  # the fragment alone
    # without JavaScript the page ranks them itself
    page = client.get(f"/app/tickets/{t.public_id}/?routing=1").content.decode()
    assert "Suggested technicians" in page
    with scope(company=p.company_a.pk):
        change_status(t, "resolved")
    closed = client.get(f"/app/tickets/{t.public_id}/routing").content.decode()
    assert "The ticket is closed" in closed


def test_every_user_provided_field_is_escaped(personas):
    p = personas
    with scope(company=p.company_a.pk):
        from nestogy.clients.actions import create_client

        evil_client = create_client(p.company_a, {"name": XSS})
    t = ticket(p.company_a, evil_client, XSS, description=XSS, category="c<b>x</b>")
    client = signed_in("owner@alpha.test")
    client.post(f"/app/tickets/{t.public_id}/reply", {"body": XSS, "kind": "note"})
    for url in ("/app/?view=all", f"/app/tickets/{t.public_id}/"):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body and "<b>x</b>" not in body
        assert "&lt;script&gt;alert" in body


def test_ticket_page_takes_the_same_queries_for_a_short_or_long_history(personas):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from nestogy.tickets.actions import add_reply, change_priority
    from nestogy.tickets.attachments import attach
    from tests.portal.helpers import PNG

    p = personas
    t = ticket(p.company_a, p.client_a, "Mail flow", contact=p.contact_a)
    client = signed_in("manager@alpha.test")

    def count():
        client.get(f"/app/tickets/{t.public_id}/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/app/tickets/{t.public_id}/").status_code == 200
        return len(queries)

    with scope(company=p.company_a.pk):
        assign_ticket(t, p.tech_a.user)  # an unassigned ticket also ranks technicians
        add_reply(t, "First look", public=False, actor=p.tech_a.user)
    few = count()
    with scope(company=p.company_a.pk):
        for i in range(15):
            reply = add_reply(t, f"Update {i}", public=bool(i % 2), actor=p.tech_a.user)
            attach(t, SimpleUploadedFile(f"shot{i}.png", PNG, content_type="image/png"),
                   user=p.tech_a.user, reply=reply)
            change_priority(t, "high" if i % 2 else "medium", actor=p.manager_a.user)
            assign_ticket(t, p.tech_a.user if i % 2 else p.tech2_a.user,
                          actor=p.manager_a.user)
    assert count() == few
