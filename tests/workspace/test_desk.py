"""The front-desk pages of the workspace (Django test client): a new ticket for a phone call
with its SLA preview, the clients list and client page, the in-app inbox and its badge."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.clients.actions import create_client, create_contact, create_site, update_client
from nestogy.core.timeutil import now as utc_now
from nestogy.notifications.models import Delivery, Notification, StoredEvent
from nestogy.notifications.sending import send_due
from nestogy.tickets.actions import change_status
from nestogy.tickets.models import Ticket
from tests.conftest import portal_contact
from tests.portal.helpers import contract, invoice
from tests.workspace.helpers import check_role_matrix, signed_in, ticket

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def notify(company, user, title, *, event_type="ticket.created", context=None, read=False,
           body="Details"):
    """An inbox entry as the in-app channel writes it: event, delivery, notification."""
    with scope(company=company.pk):
        event = StoredEvent.objects.create(company=company, type=event_type,
                                           context=context or {}, occurred_at=utc_now())
        delivery = Delivery.objects.create(company=company, event=event, event_type=event_type,
                                           channel="inapp", recipient_user=user, status="sent")
        return Notification.objects.create(company=company, user=user, event_type=event_type,
                                           title=title, body=body, delivery=delivery,
                                           read_at=utc_now() if read else None)


def tickets_of(company) -> list[Ticket]:
    with scope(company=company.pk):
        return list(Ticket.objects.order_by("id"))


# -- permissions and tenancy ---------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_desk_view_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    mine = notify(p.company_a, persona.user, "Hello")
    client = signed_in(persona.email)
    cases = [
        ("get", "/app/tickets/new", {}, "tickets.create"),
        ("get", "/app/tickets/new/clients", {"client_q": "Acme"}, "tickets.create"),
        ("get", "/app/tickets/new/contacts", {"client": p.client_a.public_id},
         "tickets.create"),
        ("get", "/app/tickets/new/sla", {"client": p.client_a.public_id, "priority": "high"},
         "tickets.create"),
        ("post", "/app/tickets/new", {"client": p.client_a.public_id, "priority": "medium",
                                      "subject": f"Call from {role}"}, "tickets.create"),
        ("get", "/app/clients/", {}, "clients.view"),
        ("get", f"/app/clients/{p.client_a.public_id}/", {}, "clients.view"),
        ("get", "/app/inbox/", {}, "notifications.own"),
        ("post", f"/app/inbox/{mine.public_id}/read", {}, "notifications.own"),
        ("post", "/app/inbox/read-all", {}, "notifications.own"),
    ]
    check_role_matrix(client, persona.role, cases)
    created = [t.subject for t in tickets_of(p.company_a)]
    assert created == ([f"Call from {role}"] if allowed(persona.role, "tickets.create") else [])


def test_nav_shows_only_the_pages_the_role_may_open(personas):
    tech = signed_in("tech1@alpha.test").get("/app/").content.decode()
    assert 'href="/app/tickets/new"' in tech and 'href="/app/clients/"' in tech
    assert 'href="/app/inbox/"' in tech
    billing = signed_in("billing@alpha.test").get("/app/clients/").content.decode()
    assert 'href="/app/tickets/new"' not in billing
    assert 'href="/app/clients/"' in billing and 'href="/app/inbox/"' in billing


@pytest.mark.parametrize("role", ["owner_a", "tech_a"])
def test_another_companys_objects_are_404_or_absent_and_nothing_is_written(personas, role):
    p = personas
    theirs_note = notify(p.company_b, p.owner_b.user, "Bravo secret note")
    client = signed_in(getattr(p, role).email)
    assert client.get(f"/app/clients/{p.client_b.public_id}/").status_code == 404
    assert client.post(f"/app/inbox/{theirs_note.public_id}/read").status_code == 404
    assert "Bravo Client" not in client.get("/app/clients/?status=all").content.decode()
    assert "Bravo Client" not in client.get(
        "/app/tickets/new/clients", {"client_q": "Bravo"}).content.decode()
    contacts = client.get("/app/tickets/new/contacts",
                          {"client": p.client_b.public_id}).content.decode()
    assert "Finn" not in contacts and "Choose a client first" in contacts
    preview = client.get("/app/tickets/new/sla", {"client": p.client_b.public_id}).content
    assert b"Choose a client to see the due times." in preview
    # a client or contact of another company is a field error; nothing is written
    bad = client.post("/app/tickets/new", {"client": p.client_b.public_id,
                                           "priority": "high", "subject": "Sneaky"})
    assert bad.status_code == 400
    assert "Client: Choose an active client of this company." in bad.content.decode()
    bad = client.post("/app/tickets/new", {"client": p.client_a.public_id,
                                           "contact": p.contact_b.public_id,
                                           "priority": "high", "subject": "Sneaky"})
    assert bad.status_code == 400
    assert "Contact: Choose a contact of the chosen client." in bad.content.decode()
    assert tickets_of(p.company_a) == [] and tickets_of(p.company_b) == []
    with scopes_disabled():
        theirs_note.refresh_from_db()
        assert theirs_note.read_at is None


def test_another_users_notification_is_404_and_stays_unread(personas):
    p = personas
    theirs = notify(p.company_a, p.tech2_a.user, "Tech2's own")
    client = signed_in("tech1@alpha.test")
    assert client.post(f"/app/inbox/{theirs.public_id}/read").status_code == 404
    assert client.post("/app/inbox/read-all").status_code == 302
    assert "Tech2&#x27;s own" not in client.get("/app/inbox/").content.decode()
    with scope(company=p.company_a.pk):
        theirs.refresh_from_db()
        assert theirs.read_at is None


def test_posts_need_the_csrf_token(personas):
    p = personas
    mine = notify(p.company_a, p.tech_a.user, "Hello")
    client = signed_in("tech1@alpha.test", csrf=True)
    assert client.post("/app/tickets/new", {"client": p.client_a.public_id,
                                            "subject": "x"}).status_code == 403
    assert client.post(f"/app/inbox/{mine.public_id}/read").status_code == 403
    assert client.post("/app/inbox/read-all").status_code == 403
    assert tickets_of(p.company_a) == []
    with scope(company=p.company_a.pk):
        mine.refresh_from_db()
        assert mine.read_at is None


# -- new ticket ------------------------------------------------------------------------------


def test_client_picker_searches_name_and_contact_email_of_active_clients(personas):
    p = personas
    with scope(company=p.company_a.pk):
        old = create_client(p.company_a, {"name": "Acme Archive"})
        update_client(old, {"status": "archived"})
    client = signed_in("tech1@alpha.test")
    body = client.get("/app/tickets/new/clients", {"client_q": "acm"}).content.decode()
    assert "Acme Dental" in body and "Blue Ridge" not in body and "Acme Archive" not in body
    body = client.get("/app/tickets/new/clients", {"client_q": "eli@blue"}).content.decode()
    assert "Blue Ridge Accounting" in body and "Acme Dental" not in body
    body = client.get("/app/tickets/new/clients", {"client_q": "zzz"}).content.decode()
    assert "No active client matches" in body
    # the chosen client stays in the list while another search narrows it away
    body = client.get("/app/tickets/new/clients", {
        "client_q": "Blue", "client": p.client_a.public_id}).content.decode()
    assert f'value="{p.client_a.public_id}" selected' in body and "Blue Ridge" in body


def test_contact_picker_narrows_to_the_chosen_client(personas):
    p = personas
    with scope(company=p.company_a.pk):
        create_contact(p.client_a, {"name": "Gus Colleague", "email": "gus@acme.test"})
    client = signed_in("tech1@alpha.test")
    body = client.get("/app/tickets/new/contacts",
                      {"client": p.client_a.public_id}).content.decode()
    assert "Dana Contact" in body and "Gus Colleague" in body and "Eli Contact" not in body
    body = client.get("/app/tickets/new/contacts", {"client": p.client_a.public_id,
                                                    "contact_q": "gus"}).content.decode()
    assert "Gus Colleague" in body and "Dana Contact" not in body
    body = client.get("/app/tickets/new/contacts", {}).content.decode()
    assert "Choose a client first" in body


def _due_times(html: str) -> dict[str, str]:
    return {name: at for at, name in
            re.findall(r'datetime="([^"]+)" data-sla-due="(\w+)"', html)}


def test_sla_preview_equals_what_the_created_ticket_gets(personas):
    p = personas
    from nestogy.sla.actions import create_policy, set_client_policy
    from nestogy.sla.models import SLAPolicy

    with scope(company=p.company_a.pk):
        base = SLAPolicy.objects.get(is_default=True)
        premium = create_policy(p.company_a, {
            "name": "Premium 24/7", "calendar": base.calendar,
            "targets": {pr: {"first_response_minutes": 30, "resolution_minutes": 480}
                        for pr in ("critical", "high", "medium", "low")}})
        set_client_policy(p.client_a2, premium)
    client = signed_in("tech1@alpha.test")
    # Friday 15:00 in New York: the business calendar carries the targets into Monday.
    moment = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        standard = client.get("/app/tickets/new/sla", {"client": p.client_a.public_id,
                                                        "priority": "high"}).content.decode()
        special = client.get("/app/tickets/new/sla", {"client": p.client_a2.public_id,
                                                       "priority": "high"}).content.decode()
        response = client.post("/app/tickets/new", {
            "client": p.client_a.public_id, "contact": p.contact_a.public_id,
            "priority": "high", "category": "email", "subject": "Outlook will not start",
            "description": "Called at 15:00."})
        assert response.status_code == 302
        client.post("/app/tickets/new", {"client": p.client_a2.public_id, "priority": "high",
                                         "subject": "VPN down"})
    assert "Standard" in standard and "Premium 24/7" in special
    assert "EST" in standard  # shown in the company's time zone
    first, second = tickets_of(p.company_a)
    assert _due_times(standard) == {
        "first_response": first.first_response_due_at.isoformat(),
        "resolution": first.resolution_due_at.isoformat()}
    assert _due_times(special) == {
        "first_response": second.first_response_due_at.isoformat(),
        "resolution": second.resolution_due_at.isoformat()}
    assert first.resolution_due_at.weekday() == 0  # Monday: business time only
    assert _due_times(standard) != _due_times(special)


def test_new_ticket_is_created_through_the_action_and_opens_the_ticket(personas):
    p = personas
    client = signed_in("tech1@alpha.test")
    page = client.get(f"/app/tickets/new?client={p.client_a.public_id}").content.decode()
    assert f'value="{p.client_a.public_id}" selected' in page
    assert "Dana Contact" in page and "Standard" in page  # contacts and preview pre-filled
    response = client.post("/app/tickets/new", {
        "client": p.client_a.public_id, "contact": p.contact_a.public_id,
        "priority": "critical", "category": "Printer", "subject": "Printer on fire",
        "description": "Smoke from tray 2.", "assign_to_me": "on"})
    [created] = tickets_of(p.company_a)
    assert response.status_code == 302
    assert response["Location"] == f"/app/tickets/{created.public_id}/"
    page = client.get(response["Location"]).content.decode()
    assert f"Ticket #{created.number} opened for Acme Dental." in page
    with scope(company=p.company_a.pk):
        created = Ticket.objects.select_related("contact").get(pk=created.pk)
        assert (created.client_id, created.contact.name, created.priority, created.category,
                created.description, created.assignee_id) == (
            p.client_a.pk, "Dana Contact", "critical", "Printer", "Smoke from tray 2.",
            p.tech_a.user.pk)
        entry = AuditEntry.objects.get(action="ticket.created")
        assert entry.actor_id == p.tech_a.user.pk
        assert Delivery.objects.filter(event_type="ticket.created").exists()


def test_new_ticket_bad_input_names_the_field_and_writes_nothing(personas):
    p = personas
    client = signed_in("manager@alpha.test")
    empty = client.post("/app/tickets/new", {"priority": "urgent", "subject": " ",
                                             "category": "x" * 101})
    assert empty.status_code == 400
    text = empty.content.decode()
    assert "Client: Choose the client." in text
    assert "Priority: Select a valid choice." in text
    assert "Subject: Say in a few words what is wrong." in text
    assert "Category: Ensure this value has at most 100 characters" in text
    other_client = client.post("/app/tickets/new", {
        "client": p.client_a.public_id, "contact": p.contact_a2.public_id,
        "priority": "low", "subject": "Wrong contact"})
    assert other_client.status_code == 400
    assert "Contact: Choose a contact of the chosen client." in other_client.content.decode()
    with scope(company=p.company_a.pk):
        update_client(p.client_a2, {"status": "archived"})
    archived = client.post("/app/tickets/new", {
        "client": p.client_a2.public_id, "priority": "low", "subject": "Archived client"})
    assert "Client: Choose an active client of this company." in archived.content.decode()
    bad_preview = client.get("/app/tickets/new/sla", {"client": p.client_a.public_id,
                                                      "priority": "urgent"})
    assert bad_preview.status_code == 400
    assert "Priority: Select a valid choice." in bad_preview.content.decode()
    assert tickets_of(p.company_a) == []
    with scope(company=p.company_a.pk):
        assert not AuditEntry.objects.filter(action="ticket.created").exists()


def test_new_ticket_form_keeps_what_was_typed_after_an_error(personas):
    p = personas
    client = signed_in("tech1@alpha.test")
    response = client.post("/app/tickets/new", {
        "client": p.client_a.public_id, "contact": p.contact_a.public_id,
        "priority": "high", "subject": "", "description": "Keep me"})
    body = response.content.decode()
    assert response.status_code == 400
    assert f'value="{p.client_a.public_id}" selected' in body
    assert f'value="{p.contact_a.public_id}" selected' in body
    assert "Keep me" in body and "High priority" in body


# -- clients -------------------------------------------------------------------------------


def test_clients_list_searches_name_and_contact_email_with_open_counts(personas):
    p = personas
    ticket(p.company_a, p.client_a, "One")
    ticket(p.company_a, p.client_a, "Two")
    done = ticket(p.company_a, p.client_a, "Done")
    with scope(company=p.company_a.pk):
        change_status(done, "resolved")
        old = create_client(p.company_a, {"name": "Old Client"})
        update_client(old, {"status": "archived"})
    client = signed_in("tech1@alpha.test")
    body = client.get("/app/clients/").content.decode()
    assert "Acme Dental" in body and "Blue Ridge Accounting" in body
    assert "Old Client" not in body and "Bravo Client" not in body
    acme_row = body[body.index("Acme Dental"):]
    acme_row = acme_row[:acme_row.index("</tr>")]
    assert f'/app/?view=all&amp;client={p.client_a.public_id}">2</a>' in acme_row
    body = client.get("/app/clients/", {"q": "eli@blue"}).content.decode()
    assert "Blue Ridge Accounting" in body and "Acme Dental" not in body
    body = client.get("/app/clients/", {"q": "nothing-like-this"}).content.decode()
    assert "No client matches" in body
    body = client.get("/app/clients/", {"status": "archived"}).content.decode()
    assert "Old Client" in body and "Acme Dental" not in body
    bad = client.get("/app/clients/", {"status": "gone", "q": "x" * 201})
    assert bad.status_code == 400
    assert "Status: Select a valid choice." in bad.content.decode()
    assert "Search: Ensure this value has at most 200 characters" in bad.content.decode()


def test_clients_list_takes_the_same_queries_for_few_or_many_clients(personas):
    p = personas
    client = signed_in("owner@alpha.test")
    client.get("/app/clients/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/app/clients/").status_code == 200
    with scope(company=p.company_a.pk):
        for n in range(25):
            extra = create_client(p.company_a, {"name": f"Client {n:02d}"})
            create_contact(extra, {"name": f"Person {n}", "email": f"p{n}@c{n}.test"})
            ticket(p.company_a, extra, f"Ticket {n}")
    with CaptureQueriesContext(connection) as many:
        body = client.get("/app/clients/").content.decode()
    assert body.count("data-client-row") == 27
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_client_page_shows_sites_contacts_with_portal_state_and_tickets(personas):
    p = personas
    with scope(company=p.company_a.pk):
        create_site(p.client_a, {"name": "Head office", "address": "1 Main St",
                                 "city": "Boston", "country": "US"})
        create_contact(p.client_a, {"name": "Nora Noportal", "email": "nora@acme.test"})
        create_contact(p.client_a, {"name": "Ivy Invited", "email": "ivy@acme.test",
                                    "portal_access": True}, send_invitation=False)
        portal_contact(p.client_a, {"name": "Abe Admin", "email": "abe@acme.test",
                                    "portal_admin": True})
    ticket(p.company_a, p.client_a, "Open printer ticket", contact=p.contact_a)
    closed = ticket(p.company_a, p.client_a, "Closed VPN ticket")
    with scope(company=p.company_a.pk):
        change_status(closed, "closed")
    body = signed_in("tech1@alpha.test").get(
        f"/app/clients/{p.client_a.public_id}/").content.decode()
    assert "Head office" in body and "1 Main St" in body
    states = dict(re.findall(r'<tr data-contact><td>([^<]+)<.*?class="portal portal-(\w+)"',
                             body, re.S))
    assert states == {"Abe Admin": "admin", "Dana Contact": "active", "Ivy Invited": "invited",
                      "Nora Noportal": "none"}
    assert "Open tickets (1)" in body and "Open printer ticket" in body
    assert "Closed VPN ticket" in body and "Recently resolved or closed" in body
    assert "SLA policy for new tickets: <strong>Standard</strong>" in body
    assert f'href="/app/tickets/new?client={p.client_a.public_id}"' in body
    assert "Eli Contact" not in body


def test_client_page_shows_contracts_and_balance_only_to_roles_that_may_see_them(personas):
    p = personas
    with scope(company=p.company_a.pk):
        contract(p.client_a)
        invoice(p.client_a, "150.00")
        invoice(p.client_a, "130.00")
        invoice(p.client_a, "999.00", issue=False)  # a draft is not owed
    ticket(p.company_a, p.client_a, "Only for the desk")
    url = f"/app/clients/{p.client_a.public_id}/"
    manager = signed_in("manager@alpha.test").get(url).content.decode()
    assert "Managed services Acme Dental" in manager
    assert 'data-owed="USD"><strong>280.00 USD</strong> on 2 open invoices' in manager
    assert "150.00 USD" in manager and "999.00" not in manager  # ids may hold "999"
    assert "Only for the desk" in manager
    tech = signed_in("tech1@alpha.test").get(url).content.decode()
    assert "Managed services Acme Dental" not in tech and "data-owed" not in tech
    assert 'id="balance-title"' not in tech and 'id="contracts-title"' not in tech
    billing = signed_in("billing@alpha.test").get(url).content.decode()
    assert "Managed services Acme Dental" in billing and "280.00 USD" in billing
    assert "Only for the desk" not in billing and "Open tickets" not in billing


# -- inbox ---------------------------------------------------------------------------------


def test_inbox_lists_unread_first_and_filters_unread(personas):
    p = personas
    notify(p.company_a, p.tech_a.user, "Old but unread")
    notify(p.company_a, p.tech_a.user, "Newest, already read", read=True)
    notify(p.company_a, p.tech_a.user, "Newer unread")
    notify(p.company_b, p.tech_b.user, "Bravo's")
    client = signed_in("tech1@alpha.test")
    body = client.get("/app/inbox/").content.decode()
    order = sorted(["Old but unread", "Newest, already read", "Newer unread"], key=body.index)
    assert order == ["Newer unread", "Old but unread", "Newest, already read"]
    assert "Bravo&#x27;s" not in body
    unread = client.get("/app/inbox/?show=unread").content.decode()
    assert "Newer unread" in unread and "Newest, already read" not in unread
    assert client.get("/app/inbox/?show=bogus").status_code == 400


def test_mark_one_and_all_read_and_the_badge_follows(personas):
    p = personas
    first = notify(p.company_a, p.tech_a.user, "First")
    notify(p.company_a, p.tech_a.user, "Second")
    notify(p.company_a, p.tech_a.user, "Third")
    other = notify(p.company_a, p.tech2_a.user, "Not mine")
    client = signed_in("tech1@alpha.test")
    assert 'data-unread>3<' in client.get("/app/").content.decode()
    response = client.post(f"/app/inbox/{first.public_id}/read", {"show": "unread"})
    assert response["Location"] == "/app/inbox/?show=unread"
    page = client.get(response["Location"]).content.decode()
    assert "Marked read: First" in page and 'data-unread>2<' in page
    response = client.post("/app/inbox/read-all")
    page = client.get(response["Location"]).content.decode()
    assert "2 notifications marked read." in page
    assert "data-unread" not in page and "Mark all read" not in page
    with scope(company=p.company_a.pk):
        assert not Notification.objects.filter(user=p.tech_a.user, read_at__isnull=True)
        other.refresh_from_db()
        assert other.read_at is None


def test_inbox_entries_link_to_their_object_when_it_has_a_page(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Linked ticket")
    gone = ticket(p.company_a, p.client_a, "Deleted ticket")
    gone_id = gone.public_id
    with scope(company=p.company_a.pk):
        gone.delete()
    user = p.owner_a.user
    notify(p.company_a, user, "About a ticket", context={"ticket_id": t.public_id})
    notify(p.company_a, user, "About a gone ticket", context={"ticket_id": gone_id})
    notify(p.company_a, user, "Invoice overdue", event_type="invoice.overdue",
           context={"invoice": {"id": "inv_x", "number": "INV-00001"}})
    notify(p.company_a, user, "Renewal", event_type="contract.renewal_upcoming",
           context={"client": {"id": p.client_a.public_id, "name": "Acme Dental"}})
    notify(p.company_a, user, "Digest", event_type="sla.digest",
           context={"breaches": 2, "lines": [{"ticket_id": "t1"}, {"ticket_id": "t2"}]})
    notify(p.company_a, user, "Digest of one", event_type="sla.digest",
           context={"warnings": 1, "lines": [{"ticket_id": t.public_id}]})
    notify(p.company_a, user, "Unknown ticket of Bravo",
           context={"ticket_id": ticket(p.company_b, p.client_b, "Bravo").public_id})
    body = signed_in("owner@alpha.test").get("/app/inbox/").content.decode()
    assert f'<a href="/app/tickets/{t.public_id}/">About a ticket</a>' in body
    assert f'<a href="/app/tickets/{t.public_id}/">Digest of one</a>' in body
    assert '<a href="/app/?view=all&amp;sla_state=breached">Digest</a>' in body
    assert (f'<a href="/app/clients/{p.client_a.public_id}/#contracts">Renewal</a>'
            in body)
    for plain in ("About a gone ticket", "Invoice overdue", "Unknown ticket of Bravo"):
        assert f"<strong>{plain}</strong>" in body, plain
    # a role without the ticket pages gets no ticket links
    notify(p.company_a, p.billing_a.user, "Ticket for billing",
           context={"ticket_id": t.public_id})
    billing = signed_in("billing@alpha.test").get("/app/inbox/").content.decode()
    assert "<strong>Ticket for billing</strong>" in billing


def test_events_reach_the_inbox_through_the_in_app_channel(personas):
    """The real path: a ticket assigned to a technician → ``ticket.assigned`` delivery →
    the in-app channel writes the entry → the badge and the inbox show it, linked."""
    p = personas
    t = ticket(p.company_a, p.client_a, "Server room too hot", assignee=p.tech_a.user)
    send_due()
    client = signed_in("tech1@alpha.test")
    page = client.get("/app/").content.decode()
    badge = re.search(r"data-unread>(\d+)<", page)
    assert badge and int(badge.group(1)) >= 1
    inbox = client.get("/app/inbox/").content.decode()
    assert f'href="/app/tickets/{t.public_id}/"' in inbox
    assert "Server room too hot" in inbox


def test_inbox_page_takes_the_same_queries_for_few_or_many_entries(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Linked")
    client = signed_in("owner@alpha.test")
    notify(p.company_a, p.owner_a.user, "One", context={"ticket_id": t.public_id})
    client.get("/app/inbox/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/app/inbox/").status_code == 200
    for n in range(20):
        notify(p.company_a, p.owner_a.user, f"Entry {n}", read=n % 2 == 0,
               context={"ticket_id": t.public_id})
        notify(p.company_a, p.owner_a.user, f"Renewal {n}", event_type="contract.renewed",
               context={"client": {"id": p.client_a.public_id}})
    with CaptureQueriesContext(connection) as many:
        assert client.get("/app/inbox/").status_code == 200
    # one more query: the client links appear only in the second run
    assert len(many) == len(few) + 1, [q["sql"][:120] for q in many.captured_queries]


# -- escaping ------------------------------------------------------------------------------


def test_every_user_provided_field_is_escaped(personas):
    p = personas
    with scope(company=p.company_a.pk):
        evil = create_client(p.company_a, {"name": XSS, "phone": "<b>x</b>", "notes": XSS})
        create_contact(evil, {"name": XSS, "email": "evil@acme.test", "title": XSS})
        create_site(evil, {"name": XSS, "address": XSS, "city": XSS})
    t = ticket(p.company_a, evil, XSS, category=XSS)
    notify(p.company_a, p.owner_a.user, XSS, body=XSS, context={"ticket_id": t.public_id})
    client = signed_in("owner@alpha.test")
    urls = ["/app/clients/", f"/app/clients/{evil.public_id}/", "/app/inbox/",
            f"/app/tickets/new?client={evil.public_id}",
            "/app/tickets/new/clients?client_q=script",
            f"/app/tickets/new/contacts?client={evil.public_id}",
            f"/app/tickets/new/contacts?client={evil.public_id}&contact_q=%3Cb%3Ex",
            "/app/tickets/new/clients?client_q=%3Cb%3Ex"]
    for url in urls:
        body = client.get(url).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body, url
        assert "<b>x" not in body, url
        assert "&lt;script&gt;alert" in body or "&lt;b&gt;x" in body, url


def test_new_ticket_takes_attachments_the_client_can_download(personas):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from nestogy.tickets.models import TicketAttachment
    from tests.portal.helpers import PDF, PNG
    from tests.portal.helpers import signed_in as contact_signed_in

    p = personas
    client = signed_in("tech1@alpha.test")
    response = client.post("/app/tickets/new", {
        "client": p.client_a.public_id, "contact": p.contact_a.public_id, "priority": "high",
        "subject": "Scanner jams", "description": "Photo of the error attached.",
        "attachments": [SimpleUploadedFile("error.png", PNG, content_type="image/png"),
                        SimpleUploadedFile("log.pdf", PDF, content_type="application/pdf")]})
    [created] = tickets_of(p.company_a)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert f"Ticket #{created.number} opened for Acme Dental with 2 attachments." in page
    assert "error.png" in page and "log.pdf" in page
    with scope(company=p.company_a.pk):
        files = list(TicketAttachment.objects.filter(ticket=created).order_by("id"))
        assert [(f.original_name, f.uploaded_by_user_id, f.reply_id) for f in files] == [
            ("error.png", p.tech_a.user.pk, None), ("log.pdf", p.tech_a.user.pk, None)]
    portal = contact_signed_in(p.contact_a.email)
    download = portal.get(f"/portal/tickets/{created.public_id}/attachments/"
                          f"{files[0].public_id}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG


def test_new_ticket_with_a_refused_file_names_it_and_writes_nothing(personas):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from nestogy.tickets.models import TicketAttachment
    from tests.portal.helpers import PNG

    p = personas
    client = signed_in("tech1@alpha.test")
    response = client.post("/app/tickets/new", {
        "client": p.client_a.public_id, "priority": "low", "subject": "With a bad file",
        "attachments": [SimpleUploadedFile("ok.png", PNG, content_type="image/png"),
                        SimpleUploadedFile("tool.exe", b"MZ\x90\x00",
                                           content_type="application/octet-stream")]})
    assert response.status_code == 400
    body = response.content.decode()
    assert ("Attachments: The file tool.exe must be a PDF, PNG, JPG, TXT, LOG, CSV, DOCX or "
            "XLSX file.") in body
    assert 'value="With a bad file"' in body  # what was typed is kept
    assert tickets_of(p.company_a) == []
    with scopes_disabled():
        assert not TicketAttachment.objects.exists()


def test_long_lists_are_paged_and_the_pages_keep_the_search(personas, monkeypatch):
    from nestogy.workspace import queries as q
    from nestogy.workspace import views_desk

    p = personas
    monkeypatch.setattr(views_desk, "CLIENTS_PAGE_SIZE", 2)
    monkeypatch.setattr(q, "PAGE_SIZE", 2)
    with scope(company=p.company_a.pk):
        for name in ("Acme Annex", "Acme Branch", "Acme Cellar"):
            create_client(p.company_a, {"name": name})
    for n in range(3):
        ticket(p.company_a, p.client_a, f"Printer {n}")
    client = signed_in("manager@alpha.test")
    first = client.get("/app/clients/", {"q": "Acme"}).content.decode()
    assert "Page 1 of 2" in first
    assert 'href="?q=Acme&amp;page=2"' in first
    second = client.get("/app/clients/", {"q": "Acme", "page": 2}).content.decode()
    assert "Page 2 of 2" in second and 'href="?q=Acme&amp;page=1"' in second
    queue = client.get("/app/", {"view": "all"}).content.decode()
    assert "Page 1 of 2" in queue and 'href="?view=all&amp;page=2"' in queue
    assert queue.count("data-row ") == 2
