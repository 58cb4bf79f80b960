"""Portal sign-in throttling behind proxies, the password-reset flow through the outbox, and
deactivated companies (the attacks these guard against are named in each test)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from nestogy.notifications.models import Delivery, StoredEvent, WebhookEndpoint
from nestogy.tenancy.models import Company
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/portal/login/"
RESET = "/portal/password-reset/"


def login(http, email, password=PASSWORD, **headers):
    return http.post(LOGIN, {"email": email, "password": password}, **headers)


def test_sixth_attempt_for_one_email_is_refused_even_with_the_right_password(personas):
    http = HttpClient()
    for n in range(5):
        assert login(http, "dana@acme.test", f"wrong-{n}").status_code in (401, 429)
    sixth = login(http, "dana@acme.test")
    assert sixth.status_code == 429
    assert "Too many failed attempts" in sixth.content.decode()
    assert HttpClient().get("/portal/").status_code == 302


def test_spoofed_forwarded_for_does_not_reset_the_per_address_count(personas, settings):
    """Attack: with no trusted proxy, vary X-Forwarded-For on every guess so each one looks
    like a new client. The header is ignored; REMOTE_ADDR is counted."""
    settings.NESTOGY_TRUSTED_PROXY_COUNT = 0
    http = HttpClient(REMOTE_ADDR="203.0.113.9")
    for n in range(20):
        response = login(http, f"guess{n}@acme.test", "wrong-password",
                         HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        assert response.status_code in (401, 429)
    response = login(http, "dana@acme.test", HTTP_X_FORWARDED_FOR="192.0.2.77")
    assert response.status_code == 429
    # Another real client (another REMOTE_ADDR) is not affected.
    assert login(HttpClient(REMOTE_ADDR="203.0.113.10"), "dana@acme.test").status_code == 302


def test_behind_one_trusted_proxy_clients_are_counted_by_forwarded_address(personas, settings):
    """Behind a proxy every request comes from the proxy's address: counting REMOTE_ADDR would
    lock every client out once one attacker guessed twenty times. With the proxy trusted,
    each client is counted by the address the proxy reports, and entries the client put in
    front of it (spoofed) do not change which address is counted."""
    settings.NESTOGY_TRUSTED_PROXY_COUNT = 1
    proxy = HttpClient(REMOTE_ADDR="10.0.0.2")
    for n in range(20):
        spoofed = f"192.0.2.{n}, 198.51.100.1"  # the client's own entry, then the proxy's
        response = login(proxy, f"guess{n}@acme.test", "wrong-password",
                         HTTP_X_FORWARDED_FOR=spoofed)
        assert response.status_code in (401, 429)
    attacker = login(HttpClient(REMOTE_ADDR="10.0.0.2"), "dana@acme.test",
                     HTTP_X_FORWARDED_FOR="192.0.2.250, 198.51.100.1")
    assert attacker.status_code == 429
    other_client = login(HttpClient(REMOTE_ADDR="10.0.0.2"), "dana@acme.test",
                         HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert other_client.status_code == 302


def _reset(email, **extra):
    return HttpClient(**extra).post(RESET, {"email": email})


def test_reset_answers_known_and_unknown_emails_alike_doing_the_same_work(personas):
    """Attack: time the "forgot password" form (or count its queries) to learn which emails
    have portal accounts. Both answers are the same page after the same queries: the lookup
    happens in a background task."""
    with CaptureQueriesContext(connection) as known:
        known_response = _reset("dana@acme.test", REMOTE_ADDR="198.51.100.20")
    with CaptureQueriesContext(connection) as unknown:
        unknown_response = _reset("ghost@acme.test", REMOTE_ADDR="198.51.100.21")
    assert known_response.status_code == unknown_response.status_code == 200

    def page(response, email):
        html = response.content.decode().replace(email, "EMAIL")
        return re.sub(r'nonce="[^"]+"', 'nonce="N"', html)

    assert page(known_response, "dana@acme.test") == page(unknown_response, "ghost@acme.test")

    def shapes(queries):
        return [re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", q["sql"]) for q in queries]

    assert shapes(known.captured_queries) == shapes(unknown.captured_queries)
    assert not any("clients_contact" in q["sql"] for q in known.captured_queries)


def test_reset_mail_is_sent_through_the_outbox(personas, immediate_tasks,
                                              django_capture_on_commit_callbacks):
    with scope(company=personas.company_a.pk):
        WebhookEndpoint.objects.create(company=personas.company_a, name="all events",
                                       url="https://hooks.example.com/in", secret="s" * 20)
    with django_capture_on_commit_callbacks(execute=True):
        assert _reset("dana@acme.test").status_code == 200
    with scopes_disabled():
        [delivery] = Delivery.objects.filter(event_type="contact.password_reset")
        stored = StoredEvent.objects.get(type="contact.password_reset")
    assert (delivery.channel, delivery.target, delivery.status) == ("email", "dana@acme.test",
                                                                    "sent")
    [message] = mail.outbox
    assert message.to == ["dana@acme.test"]
    assert message.subject == "Alpha IT: reset your portal password"
    assert message.extra_headers["X-Nestogy-Delivery"] == delivery.public_id
    link = re.search(r"/portal/set-password/\S+/", message.body)[0]
    # The one-time link is built when the mail is rendered: the stored event holds no token,
    # and a credential-carrying event is never posted to the company's webhooks.
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert token not in str(stored.context)
    assert stored.context["contact"]["email"] == "dana@acme.test"
    with scopes_disabled():
        assert not Delivery.objects.filter(channel="webhook").exists()
    assert HttpClient().get(link).status_code == 200


def test_invitation_is_sent_through_the_outbox(personas, immediate_tasks,
                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = personas.manager_a.api.post(f"/contacts/{personas.contact_a2.public_id}"
                                               "/invite")
    assert response.status_code == 200
    with scopes_disabled():
        [delivery] = Delivery.objects.filter(event_type="contact.portal_invited")
    assert (delivery.target, delivery.status) == ("eli@blueridge.test", "sent")
    [message] = mail.outbox
    assert message.subject == "Alpha IT: your client portal access"
    assert "Choose your password" in message.alternatives[0][0]


def test_reset_requests_are_throttled_per_email_and_per_address(personas, immediate_tasks,
                                                                django_capture_on_commit_callbacks):
    """Attack: flood a contact's inbox with reset mails, or walk a list of emails from one
    address. Three requests per email and ten per address an hour; the rest answer 429 and
    send nothing."""
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [_reset("dana@acme.test", REMOTE_ADDR=f"198.51.100.{n}").status_code
                    for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert len(mail.outbox) == 3
    page = _reset("dana@acme.test", REMOTE_ADDR="198.51.100.99")
    assert "Too many reset requests" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [_reset(f"walk{n}@acme.test", REMOTE_ADDR="203.0.113.50").status_code
                    for n in range(11)]
    assert statuses == [200] * 10 + [429]
    assert _reset("eli@blueridge.test", REMOTE_ADDR="203.0.113.50").status_code == 429
    assert _reset("eli@blueridge.test", REMOTE_ADDR="203.0.113.51").status_code == 200


def test_reset_form_refuses_a_bad_email_without_writing(personas):
    response = _reset("not an email")
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    from nestogy.core.models import ThrottleHit

    assert not ThrottleHit.objects.exists()


def test_deactivated_company_locks_its_contacts_out_of_the_portal(
        personas, immediate_tasks, django_capture_on_commit_callbacks):
    """A deactivated MSP's contacts can no longer sign in, open sessions end, and neither
    reset links nor already mailed links work."""
    from nestogy.clients.tokens import contact_tokens

    session = HttpClient()
    assert login(session, "dana@acme.test").status_code == 302
    assert session.get("/portal/").status_code == 200
    with scope(company=personas.company_a.pk):
        token = contact_tokens.make_token(personas.contact_a)
    Company.objects.filter(pk=personas.company_a.pk).update(is_active=False)

    assert session.get("/portal/").status_code == 302
    assert session.get("/portal/invoices/").status_code == 302
    assert login(HttpClient(), "dana@acme.test").status_code == 401
    link = f"/portal/set-password/{personas.contact_a.public_id}/{token}/"
    assert HttpClient().get(link).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        assert _reset("dana@acme.test").status_code == 200
    assert mail.outbox == []
    # Company B's contacts are unaffected.
    assert login(HttpClient(), "finn@bravoclient.test").status_code == 302
