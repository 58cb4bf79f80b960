"""Webhooks in the workspace (Django test client): add one (the secret shown once), a test
delivery signed and received by a real server on 127.0.0.1, refusals named with nothing
written (private addresses, unknown events), every role, another company's endpoints."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django_scopes import scope

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.notifications.models import WebhookEndpoint
from tests.workspace.helpers import check_role_matrix, signed_in, ticket

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
URL = "/app/settings/webhooks/"


def hooks(company) -> list[WebhookEndpoint]:
    with scope(company=company.pk):
        return list(WebhookEndpoint.objects.all())


def test_a_webhook_is_added_its_secret_shown_once_and_a_test_is_received(
        personas, receiver, settings, django_capture_on_commit_callbacks):
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = ["127.0.0.1/32"]  # the operator allows this one
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default", "notifications", "billing", "sla"]}}
    p = personas
    client = signed_in("owner@alpha.test")
    response = client.post(URL, {"name": "PSA bridge", "url": receiver.url(),
                                 "event_types": ["ticket.created"], "is_active": "on"})
    body = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    [hook] = hooks(p.company_a)
    secret = body.split('data-secret')[0].rsplit('value="', 1)[1].split('"')[0]
    assert secret.startswith("whsec_") and hook.secret == secret
    assert secret not in client.get(f"{URL}{hook.public_id}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        ticket(p.company_a, p.client_a, "Router down")  # the event it receives
    receiver.requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        body = client.post(f"{URL}{hook.public_id}/", {"action": "test"},
                           follow=True).content.decode()
    assert "A test delivery to PSA bridge is queued" in body
    [request] = receiver.requests
    assert request.json["event"] == "ticket.created"
    t, v1 = (part.split("=", 1)[1] for part in
             request.headers["X-Nestogy-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{t}.".encode() + request.raw,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(v1, expected)
    assert 'data-delivery="sent"' in client.get(f"{URL}{hook.public_id}/").content.decode()
    with scope(company=p.company_a.pk):
        actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"webhook.created", "webhook.test_sent"} <= actions


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "", "url": "https://93.184.216.34/x"}, "Name: must be 1 to 100 characters."),
    ({"name": "Local", "url": "http://127.0.0.1:8000/x"}, "URL:"),
    ({"name": "Metadata", "url": "http://169.254.169.254/latest"}, "URL:"),
    ({"name": "Files", "url": "file:///etc/passwd"}, "URL:"),
    ({"name": "Odd", "url": "https://93.184.216.34/x", "event_types": ["nope.nothing"]},
     "Events: unknown event type"),
])
def test_bad_webhooks_are_refused_naming_the_field(personas, data, message, no_private):
    response = signed_in("owner@alpha.test").post(URL, data)
    assert response.status_code == 400 and message in response.content.decode()
    assert hooks(personas.company_a) == []


def test_edit_new_secret_switch_off_and_delete(personas):
    p = personas
    client = signed_in("admin@alpha.test")
    client.post(URL, {"name": "Old", "url": "https://93.184.216.34/a", "is_active": "on"})
    [hook] = hooks(p.company_a)
    first = hook.secret
    body = client.post(f"{URL}{hook.public_id}/", {"action": "save", "name": "New name",
                                                   "url": "https://93.184.216.34/b"},
                       follow=True).content.decode()
    assert "Saved." in body
    [hook] = hooks(p.company_a)
    assert (hook.name, hook.url, hook.is_active) == ("New name", "https://93.184.216.34/b",
                                                     False)
    body = client.post(f"{URL}{hook.public_id}/", {"action": "test"}, follow=True
                       ).content.decode()
    assert "No test sent: the endpoint is switched off." in body
    response = client.post(f"{URL}{hook.public_id}/", {"action": "secret"})
    [hook] = hooks(p.company_a)
    assert hook.secret != first and hook.secret in response.content.decode()
    client.post(f"{URL}{hook.public_id}/", {"action": "delete"})
    assert hooks(p.company_a) == []


def test_another_companys_webhooks_are_not_found(personas):
    p = personas
    signed_in("owner@bravo.test").post(URL, {"name": "Bravo", "url": "https://93.184.216.35/",
                                             "is_active": "on"})
    [theirs] = hooks(p.company_b)
    client = signed_in("owner@alpha.test")
    assert "Bravo" not in client.get(URL).content.decode()
    for action in ("save", "test", "secret", "delete"):
        assert client.post(f"{URL}{theirs.public_id}/", {"action": action, "name": "x",
                                                         "url": "https://93.184.216.36/"}
                           ).status_code == 404
    assert client.get(f"{URL}{theirs.public_id}/").status_code == 404
    assert [h.name for h in hooks(p.company_b)] == ["Bravo"]


@pytest.mark.parametrize("role", ROLES)
def test_webhook_pages_ask_the_role_matrix(personas, role):
    persona = getattr(personas, role)
    check_role_matrix(signed_in(persona.email), persona.role, [
        ("get", URL, {}, "company.settings"),
        ("post", URL, {"name": f"By {role}", "url": "https://93.184.216.34/r",
                       "is_active": "on"}, "company.settings"),
    ])
    made = [h.name for h in hooks(personas.company_a)]
    assert (made == [f"By {role}"]) == allowed(persona.role, "company.settings")


def test_the_list_reads_each_endpoints_last_delivery_in_one_query(personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from nestogy.notifications.models import Delivery, StoredEvent

    p = personas
    client = signed_in("owner@alpha.test")
    client.post(URL, {"name": "Busy", "url": "https://93.184.216.34/busy", "is_active": "on"})
    [hook] = hooks(p.company_a)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(URL).content.decode()
        return len(ctx.captured_queries), body

    few, _ = count()
    with scope(company=p.company_a.pk):
        event = StoredEvent.objects.create(company=p.company_a, type="ticket.created",
                                           context={}, occurred_at=timezone.now())
        Delivery.objects.bulk_create([Delivery(
            company=p.company_a, event=event, event_type="ticket.created", channel="webhook",
            webhook=hook, target=hook.url, status="failed" if i == 29 else "sent")
            for i in range(30)])
    many, body = count()
    assert many == few
    assert "Failed ·" in body  # the newest one
