"""Notification wording in the workspace (Django test client): the catalogue, a preview
against the latest real event through the sandbox, saving (checked first, audited), a
test e-mail through the outbox; roles, another company's events, bad templates."""

from __future__ import annotations

import pytest
from django.core import mail
from django_scopes import scope

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.notifications.models import Delivery, StoredEvent, TemplateOverride
from tests.workspace.helpers import check_role_matrix, signed_in, ticket

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
URL = "/app/settings/templates/ticket.created/"


@pytest.fixture
def created(personas):
    t = ticket(personas.company_a, personas.client_a, "Printer on fire")
    with scope(company=personas.company_a.pk):
        assert StoredEvent.objects.filter(type="ticket.created").exists()
    return t


def test_the_catalogue_lists_rewordable_events(personas, created):
    body = signed_in("owner@alpha.test").get("/app/settings/templates/").content.decode()
    assert 'data-event="ticket.created"' in body and 'data-event="sla.breached"' in body
    from nestogy.notifications.sender import EVENT

    assert f'data-event="{EVENT}"' not in body  # the sender verification keeps its wording


def test_preview_renders_the_proposed_wording_with_the_latest_event(personas, created):
    client = signed_in("owner@alpha.test")
    page = client.get(URL).content.decode()
    assert "[#{{ ticket.number }}] New ticket:" in page  # the shipped wording is shown
    body = client.post(URL, {"action": "preview", "channel": "email",
                             "title": "Ticket {{ ticket.number }} for {{ company.name }}",
                             "body": "Hello {{ recipient.name }}: {{ ticket.subject }}"}
                       ).content.decode()
    assert f"Ticket {created.number} for Alpha IT" in body
    assert "Printer on fire" in body
    with scope(company=personas.company_a.pk):
        assert not TemplateOverride.objects.exists(), "a preview stores nothing"


@pytest.mark.parametrize(("title", "message"), [
    ("{% load static %}{% static 'x' %}", "Title (e-mail subject):"),
    ("{% include 'secrets.txt' %}", "Title (e-mail subject):"),
    ("{% if ticket.subject %}never closed", "Title (e-mail subject):"),
])
def test_a_refused_template_is_named_and_nothing_is_saved(personas, created, title, message):
    response = signed_in("owner@alpha.test").post(URL, {"action": "save", "channel": "",
                                                        "title": title, "body": "x"})
    assert response.status_code == 400
    assert message in response.content.decode()
    with scope(company=personas.company_a.pk):
        assert not TemplateOverride.objects.exists()


def test_saving_writes_the_parts_and_is_audited(personas, created):
    client = signed_in("admin@alpha.test")
    body = client.post(URL, {"action": "save", "channel": "sms",
                             "title": "#{{ ticket.number }}", "body": "New: {{ ticket.subject }}"},
                       follow=True).content.decode()
    assert "Saved: title, text body." in body
    with scope(company=personas.company_a.pk):
        rows = {(o.channel, o.part): o.content for o in TemplateOverride.objects.all()}
        assert rows == {("sms", "title"): "#{{ ticket.number }}",
                        ("sms", "body"): "New: {{ ticket.subject }}"}
        assert AuditEntry.objects.filter(action="notification.templates_changed").count() == 1
    # emptying a part removes it (back to the shipped wording)
    client.post(URL, {"action": "save", "channel": "sms", "title": "",
                      "body": "New: {{ ticket.subject }}"})
    with scope(company=personas.company_a.pk):
        assert TemplateOverride.objects.count() == 1


def test_send_me_a_test_goes_through_the_outbox(personas, created, settings,
                                                django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default", "notifications", "billing", "sla"]}}
    client = signed_in("owner@alpha.test")
    client.post(URL, {"action": "save", "channel": "", "title": "Test {{ ticket.subject }}",
                      "body": "Body"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        body = client.post(URL, {"action": "test", "channel": ""}, follow=True).content.decode()
    assert "A test e-mail with the saved wording is on its way to owner@alpha.test" in body
    with scope(company=personas.company_a.pk):
        test = Delivery.objects.filter(recipient_user=personas.owner_a.user,
                                       channel="email").latest("id")
    assert test.status == "sent"
    assert any(m.subject == "Test Printer on fire" and m.to == ["owner@alpha.test"]
               for m in mail.outbox)


def test_without_an_event_there_is_nothing_to_preview_or_send(personas):
    client = signed_in("owner@alpha.test")
    body = client.post("/app/settings/templates/sla.breached/", {
        "action": "preview", "title": "x", "body": "y"}).content.decode()
    assert "No event of this kind has happened yet" in body
    body = client.post("/app/settings/templates/sla.breached/", {"action": "test"},
                       follow=True).content.decode()
    assert "No test sent: no event of this kind has happened yet." in body


def test_unknown_or_protected_events_are_not_found(personas):
    client = signed_in("owner@alpha.test")
    assert client.get("/app/settings/templates/nope.nothing/").status_code == 404
    assert client.get("/app/settings/templates/notifications.sender_verification/").status_code \
        == 404


def test_another_companys_events_are_never_the_sample(personas, created):
    ticket(personas.company_b, personas.client_b, "Bravo secret subject")
    body = signed_in("owner@alpha.test").post(URL, {
        "action": "preview", "channel": "", "title": "{{ ticket.subject }}", "body": "b"}
    ).content.decode()
    assert "Printer on fire" in body and "Bravo secret subject" not in body


@pytest.mark.parametrize("role", ROLES)
def test_wording_pages_ask_the_role_matrix(personas, created, role):
    persona = getattr(personas, role)
    check_role_matrix(signed_in(persona.email), persona.role, [
        ("get", "/app/settings/templates/", {}, "company.settings"),
        ("get", URL, {}, "company.settings"),
        ("post", URL, {"action": "save", "channel": "", "title": f"By {role}", "body": "b"},
         "company.settings"),
    ])
    with scope(company=personas.company_a.pk):
        saved = TemplateOverride.objects.filter(content=f"By {role}").exists()
    assert saved == allowed(persona.role, "company.settings")
