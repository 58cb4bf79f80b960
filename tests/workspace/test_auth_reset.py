"""Staff password reset by e-mail (/app/password-reset/), the account page's password change,
and session security of the workspace sign-in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from nestogy.accounts.models import User
from nestogy.audit.models import AuditEntry
from nestogy.core.models import ThrottleHit
from nestogy.notifications.models import Delivery, StoredEvent
from tests.conftest import PASSWORD
from tests.payments.fixtures import immediate_tasks  # noqa: F401
from tests.workspace.helpers import signed_in

pytestmark = pytest.mark.django_db

RESET = "/app/password-reset/"
NEW_PASSWORD = "violet-otter-harbour-42"


def _reset(email, **extra):
    return Client(**extra).post(RESET, {"email": email})


def _mailed_link(capture, email="tech1@alpha.test") -> str:
    with capture(execute=True):
        response = _reset(email)
    assert response.status_code == 200
    [message] = mail.outbox
    mail.outbox.clear()
    return re.search(r"/app/password-reset/usr_\w+/[\w-]+/", message.body)[0]


def test_sign_in_page_links_to_the_reset_form(personas):
    page = Client().get("/app/login/").content.decode()
    assert '<a href="/app/password-reset/">Forgot your password?</a>' in page
    form = Client().get(RESET)
    assert form.status_code == 200
    assert "Reset your password" in form.content.decode()


def test_reset_mail_goes_through_the_outbox_and_its_link_works_once(
        personas, immediate_tasks, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        response = _reset("tech1@alpha.test")
    assert response.status_code == 200
    assert "a link to choose a new password is on its way" in response.content.decode()
    with scopes_disabled():
        [delivery] = Delivery.objects.filter(event_type="user.password_reset")
        stored = StoredEvent.objects.get(type="user.password_reset")
        assert AuditEntry.objects.filter(action="user.password_reset",
                                         company=personas.company_a).exists()
    assert (delivery.channel, delivery.target, delivery.status) == (
        "email", "tech1@alpha.test", "sent")
    [message] = mail.outbox
    assert message.to == ["tech1@alpha.test"]
    assert message.subject == "Alpha IT: reset your workspace password"
    link = re.search(r"http://\S+(/app/password-reset/usr_\w+/[\w-]+/)", message.body)[1]
    # The token is built when the mail is rendered: the stored event never holds it.
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert token not in str(stored.context)

    browser = Client()
    page = browser.get(link)
    assert page.status_code == 200
    assert "Choose a new password" in page.content.decode()
    done = browser.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/app/login/"
    # The old password is gone, the new one signs in.
    assert Client().post("/app/login/", {"email": "tech1@alpha.test",
                                         "password": PASSWORD}).status_code == 400
    assert Client().post("/app/login/", {"email": "tech1@alpha.test",
                                         "password": NEW_PASSWORD}).status_code == 302
    # The link worked once.
    again = Client().get(link)
    assert again.status_code == 400
    assert "This link no longer works" in again.content.decode()
    assert Client().post(link, {"password": "another-pass-99x",
                                "confirm": "another-pass-99x"}).status_code == 400


def test_expired_and_tampered_links_are_refused(personas, immediate_tasks,  # noqa: F811
                                                django_capture_on_commit_callbacks):
    link = _mailed_link(django_capture_on_commit_callbacks)
    user_part, token = link.rstrip("/").rsplit("/", 2)[-2:]
    tampered = f"/app/password-reset/{user_part}/{token[:-1]}{'a' if token[-1] != 'a' else 'b'}/"
    assert Client().get(tampered).status_code == 400
    # Another account's id with this token.
    other = User.objects.get(email="tech2@alpha.test")
    assert Client().get(f"/app/password-reset/{other.public_id}/{token}/").status_code == 400
    with time_machine.travel(timedelta(minutes=61), tick=False):
        expired = Client().get(link)
        assert expired.status_code == 400
        posted = Client().post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert posted.status_code == 400
    assert User.objects.get(email="tech1@alpha.test").check_password(PASSWORD)
    # Still fresh before the hour is out.
    with time_machine.travel(timedelta(minutes=55), tick=False):
        assert Client().get(link).status_code == 200


def test_unknown_email_gets_the_same_answer_after_the_same_work(personas):
    with CaptureQueriesContext(connection) as known:
        known_page = _reset("tech1@alpha.test", REMOTE_ADDR="198.51.100.20")
    with CaptureQueriesContext(connection) as unknown:
        unknown_page = _reset("ghost@alpha.test", REMOTE_ADDR="198.51.100.21")
    assert known_page.status_code == unknown_page.status_code == 200

    def page(response, email):
        html = response.content.decode().replace(email, "EMAIL")
        return re.sub(r'(nonce|value)="[^"]+"', r'\1="N"', html)

    assert page(known_page, "tech1@alpha.test") == page(unknown_page, "ghost@alpha.test")

    def shapes(queries):
        return [re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", q["sql"]) for q in queries]

    assert shapes(known.captured_queries) == shapes(unknown.captured_queries)
    assert not any("accounts_user" in q["sql"] for q in known.captured_queries)


def test_unknown_and_memberless_accounts_get_no_mail(personas, immediate_tasks,  # noqa: F811
                                                     django_capture_on_commit_callbacks):
    User.objects.create_user("loner@nowhere.test", PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        assert _reset("ghost@alpha.test").status_code == 200
        assert _reset("loner@nowhere.test").status_code == 200
    assert mail.outbox == []


def test_reset_requests_are_throttled(personas, immediate_tasks,  # noqa: F811
                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [_reset("tech1@alpha.test", REMOTE_ADDR=f"198.51.100.{n}").status_code
                    for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert len(mail.outbox) == 3
    page = _reset("tech1@alpha.test", REMOTE_ADDR="198.51.100.99").content.decode()
    assert "Too many reset requests. Wait 60 minutes" in page
    # Walking a list of addresses from one client address stops after ten.
    statuses = [_reset(f"walk{n}@alpha.test", REMOTE_ADDR="203.0.113.50").status_code
                for n in range(11)]
    assert statuses == [200] * 10 + [429]


def test_reset_form_bad_email_names_the_field_and_counts_nothing(personas):
    response = _reset("not an email")
    assert response.status_code == 400
    assert "Email: Enter a valid email address." in response.content.decode()
    assert not ThrottleHit.objects.exists()


def test_new_password_goes_through_the_password_validators(
        personas, immediate_tasks, django_capture_on_commit_callbacks):  # noqa: F811
    link = _mailed_link(django_capture_on_commit_callbacks)
    browser = Client()
    short = browser.post(link, {"password": "abc", "confirm": "abc"})
    assert short.status_code == 400
    assert "New password: This password is too short." in short.content.decode()
    common = browser.post(link, {"password": "password123", "confirm": "password123"})
    assert "New password: This password is too common." in common.content.decode()
    differ = browser.post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert "Repeat the new password: The two passwords differ." in differ.content.decode()
    assert User.objects.get(email="tech1@alpha.test").check_password(PASSWORD)
    # None of that used the link up.
    assert browser.get(link).status_code == 200


def test_reset_ends_every_open_session(personas, immediate_tasks,  # noqa: F811
                                       django_capture_on_commit_callbacks):
    session = signed_in("tech1@alpha.test")
    assert session.get("/app/").status_code == 200
    link = _mailed_link(django_capture_on_commit_callbacks)
    Client().post(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert session.get("/app/").status_code == 302


def test_a_signed_in_account_invalidates_an_older_link(personas, immediate_tasks,  # noqa: F811
                                                       django_capture_on_commit_callbacks):
    link = _mailed_link(django_capture_on_commit_callbacks)
    with time_machine.travel(timedelta(seconds=2), tick=False):
        signed_in("tech1@alpha.test")
        assert Client().get(link).status_code == 400


# -- password change on the account page ----------------------------------------------------


def test_change_password_keeps_this_session_and_ends_the_others(personas):
    here = signed_in("tech1@alpha.test")
    elsewhere = signed_in("tech1@alpha.test")
    response = here.post("/app/account/password/", {
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    page = here.get("/app/account/")
    assert page.status_code == 200
    assert "Your password is changed. Other sessions were signed out." in page.content.decode()
    assert elsewhere.get("/app/").status_code == 302
    assert User.objects.get(email="tech1@alpha.test").check_password(NEW_PASSWORD)


def test_change_password_bad_input_names_the_field_and_writes_nothing(personas):
    client = signed_in("tech1@alpha.test")
    wrong = client.post("/app/account/password/", {
        "current_password": "not-it", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400
    assert "Current password: This is not your current password." in wrong.content.decode()
    short = client.post("/app/account/password/", {
        "current_password": PASSWORD, "password": "short", "confirm": "short"})
    assert "New password: This password is too short." in short.content.decode()
    missing = client.post("/app/account/password/", {})
    body = missing.content.decode()
    assert "Current password: This field is required." in body
    assert "New password: This field is required." in body
    assert User.objects.get(email="tech1@alpha.test").check_password(PASSWORD)


def test_guessing_the_current_password_is_throttled(personas):
    client = signed_in("tech1@alpha.test")
    for n in range(5):
        client.post("/app/account/password/", {
            "current_password": f"guess-{n}", "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD})
    locked = client.post("/app/account/password/", {
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert locked.status_code == 429
    assert "Too many wrong passwords or codes" in locked.content.decode()
    assert User.objects.get(email="tech1@alpha.test").check_password(PASSWORD)


# -- session security --------------------------------------------------------------------------


def test_signing_in_gives_the_session_a_new_key(personas):
    """Attack: plant a known session key in the victim's browser before they sign in (session
    fixation). Signing in moves the session to a new key; the planted one signs nobody in."""
    from django.contrib.sessions.backends.db import SessionStore

    planted = SessionStore()
    planted["workspace_hint"] = "x"
    planted.create()
    client = Client()
    client.cookies["sessionid"] = planted.session_key
    client.post("/app/login/", {"email": "tech1@alpha.test", "password": PASSWORD})
    cookie = client.cookies["sessionid"]
    assert cookie.value != planted.session_key
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert client.get("/app/").status_code == 200
    attacker = Client()
    attacker.cookies["sessionid"] = planted.session_key
    assert attacker.get("/app/").status_code == 302


def test_cookies_are_secure_when_the_site_runs_on_https(personas, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client = Client()
    client.get("/app/login/")
    client.post("/app/login/", {"email": "tech1@alpha.test", "password": PASSWORD})
    assert client.cookies["sessionid"]["secure"]
