"""Portal sign-in, throttling, password links and invitations (Django test client)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django_scopes import scope

from nestogy.clients.models import Contact
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(http, email, password=PASSWORD, **extra):
    return http.post("/portal/login/", {"email": email, "password": password, **extra})


def test_contact_signs_in_sees_dashboard_and_signs_out(personas):
    http = HttpClient()
    assert http.get("/portal/").status_code == 302
    response = login(http, "dana@acme.test")
    assert response.status_code == 302 and response["Location"] == "/portal/"
    page = http.get("/portal/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Dana Contact" in html and "Acme Dental" in html and "Alpha IT" in html
    assert http.post("/portal/logout/").status_code == 302
    assert http.get("/portal/").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(personas):
    response = login(HttpClient(), "dana@acme.test", "not-the-password")
    assert response.status_code == 401
    assert "Email or password is wrong." in response.content.decode()
    response = login(HttpClient(), "nobody@nowhere.test", "whatever-it-is")
    assert response.status_code == 401
    assert "Email or password is wrong." in response.content.decode()


def test_five_wrong_passwords_throttle_even_the_right_one(personas):
    http = HttpClient()
    statuses = [login(http, "dana@acme.test", f"wrong-{n}").status_code for n in range(5)]
    assert statuses[:4] == [401] * 4 and statuses[4] == 429
    response = login(http, "dana@acme.test")
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert http.get("/portal/").status_code == 302
    # Another contact is not locked out by Dana's failures.
    assert login(HttpClient(), "eli@blueridge.test").status_code == 302


def test_contact_without_portal_access_cannot_sign_in(personas):
    with scope(company=personas.company_a.pk):
        Contact.objects.filter(pk=personas.contact_a.pk).update(portal_access=False)
    assert login(HttpClient(), "dana@acme.test").status_code == 401


def test_revoking_access_ends_an_open_session(personas):
    http = HttpClient()
    login(http, "dana@acme.test")
    assert http.get("/portal/").status_code == 200
    with scope(company=personas.company_a.pk):
        Contact.objects.filter(pk=personas.contact_a.pk).update(portal_access=False)
    assert http.get("/portal/").status_code == 302


def test_next_parameter_cannot_redirect_off_the_portal(personas):
    response = login(HttpClient(), "dana@acme.test", next="https://evil.test/")
    assert response["Location"] == "/portal/"
    response = login(HttpClient(), "dana@acme.test", next="/admin/")
    assert response["Location"] == "/portal/"


def test_every_portal_form_requires_csrf(personas):
    http = HttpClient(enforce_csrf_checks=True)
    assert login(http, "dana@acme.test").status_code == 403
    page = http.get("/portal/login/")
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = http.post("/portal/login/", {"email": "dana@acme.test", "password": PASSWORD,
                                            "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    from tests.portal.helpers import world

    w = world(personas)
    paths = ("/portal/", "/portal/password-reset/", "/portal/tickets/", "/portal/tickets/new/",
             f"/portal/tickets/{w.dana_ticket.public_id}/", "/portal/invoices/",
             f"/portal/invoices/{w.invoice.public_id}/",
             f"/portal/invoices/{w.invoice.public_id}/paid/", "/portal/contracts/")
    for path in paths:
        page = http.get(path)
        assert page.status_code == 200, path
        html = page.content.decode()
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S):
            assert "csrfmiddlewaretoken" in form, f"form without CSRF token on {path}"


def _link(message):
    return re.search(r"http://[^\s\"]+/portal/set-password/[^\s\"]+/", message.body)[0]


def test_password_reset_link_sets_password_once(personas, immediate_tasks,
                                                django_capture_on_commit_callbacks):
    http = HttpClient()
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post("/portal/password-reset/", {"email": "DANA@acme.test"})
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["dana@acme.test"] and "reset" in message.subject
    path = _link(message).split("8000", 1)[-1] if ":8000" in _link(message) else _link(message)
    path = "/portal/" + path.split("/portal/", 1)[1]
    assert http.get(path).status_code == 200
    response = http.post(path, {"password": "brand-new-secret-1", "confirm": "brand-new-secret-1"})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert http.get("/portal/").status_code == 200
    # The old password no longer works; the new one does; the link is spent.
    assert login(HttpClient(), "dana@acme.test").status_code == 401
    assert login(HttpClient(), "dana@acme.test", "brand-new-secret-1").status_code == 302
    assert HttpClient().get(path).status_code == 400


def test_unknown_email_reset_gets_the_same_answer_and_no_mail(
        personas, immediate_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = HttpClient().post("/portal/password-reset/", {"email": "ghost@acme.test"})
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_mismatched_passwords_are_refused_naming_the_field(personas):
    from nestogy.clients.tokens import contact_tokens

    with scope(company=personas.company_a.pk):
        token = contact_tokens.make_token(personas.contact_a)
    path = f"/portal/set-password/{personas.contact_a.public_id}/{token}/"
    response = HttpClient().post(path, {"password": "long-enough-1", "confirm": "different-22"})
    assert response.status_code == 200
    assert "The two passwords differ." in response.content.decode()
    response = HttpClient().post(path, {"password": "short", "confirm": "short"})
    assert "at least 10 characters" in response.content.decode()


def test_staff_invite_through_the_api_emails_a_working_link(personas, immediate_tasks,
                                                          django_capture_on_commit_callbacks):
    api = personas.manager_a.api
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/contacts", {"client_id": personas.client_a.public_id,
                                         "name": "Gil New", "email": "gil@acme.test",
                                         "portal_access": True})
    assert created.status_code == 201 and created.data["has_password"] is False
    [message] = mail.outbox
    assert message.to == ["gil@acme.test"] and "portal" in message.subject
    assert message.alternatives and "Choose your password" in message.alternatives[0][0]
    path = "/portal/" + _link(message).split("/portal/", 1)[1]
    http = HttpClient()
    response = http.post(path, {"password": "gils-own-password", "confirm": "gils-own-password"})
    assert response.status_code == 302
    assert "Gil New" in http.get("/portal/").content.decode()
    # Re-inviting an existing contact sends a fresh link.
    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(f"/contacts/{personas.contact_a2.public_id}/invite")
    assert again.status_code == 200 and mail.outbox[-1].to == ["eli@blueridge.test"]
    # Company B cannot invite company A's contact.
    other = personas.owner_b.api.post(f"/contacts/{personas.contact_a2.public_id}/invite")
    assert other.status_code == 404
