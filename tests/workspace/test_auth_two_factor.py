"""The staff second factor: enrolment on /app/account/, the code step of sign-in, backup
codes, turning it off, per-company enforcement, and the admin sign-in refusing to skip it."""

from __future__ import annotations

import base64
import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django_otp.oath import TOTP
from django_scopes import scope, scopes_disabled

from nestogy.accounts import security
from nestogy.accounts.models import User
from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.tenancy.models import Company
from tests.conftest import PASSWORD
from tests.payments.fixtures import immediate_tasks  # noqa: F401
from tests.workspace.helpers import signed_in, ticket

pytestmark = pytest.mark.django_db

ENROL = "/app/account/two-factor/"
ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def code_for(secret: str, *, at: float | None = None) -> str:
    """What an authenticator app shows for the secret printed on the enrolment page."""
    compact = secret.replace(" ", "")
    key = base64.b32decode(compact + "=" * (-len(compact) % 8))
    totp = TOTP(key)
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def shown_secret(page_html: str) -> str:
    return re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page_html)[1]


def enrol(client: Client) -> tuple[str, list[str]]:
    """Enrol through the pages; return (secret, backup codes)."""
    secret = shown_secret(client.get(ENROL).content.decode())
    done = client.post(ENROL, {"code": code_for(secret)})
    assert done.status_code == 200, done.content[:500]
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    return secret, codes


def password_step(email: str = "tech1@alpha.test", **extra) -> Client:
    client = Client(**extra)
    response = client.post("/app/login/?next=/app/%3Fview%3Dall", {"email": email,
                                                                    "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/app/login/code/?next=")
    return client


def later(seconds: int = 31):
    """A later moment: each app code signs in once, so the next sign-in needs the next one."""
    return time_machine.travel(timedelta(seconds=seconds))


@pytest.fixture
def enrolled(personas):
    client = signed_in("tech1@alpha.test")
    secret, codes = enrol(client)
    return secret, codes


def test_enrolment_shows_qr_and_secret_and_is_active_only_after_a_code(personas):
    client = signed_in("tech1@alpha.test")
    account = client.get("/app/account/").content.decode()
    assert "Off" in account and "Set up an authenticator app" in account
    page = client.get(ENROL)
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'<img class="qr" src="data:image/svg\+xml', html)
    secret = shown_secret(html)
    assert len(secret.replace(" ", "")) == 32
    # Reloading keeps the same secret (the app was perhaps already set up).
    assert shown_secret(client.get(ENROL).content.decode()) == secret
    user = User.objects.get(email="tech1@alpha.test")
    assert not security.has_two_factor(user)

    wrong = client.post(ENROL, {"code": "000000" if code_for(secret) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "Code from the app: This is not the code your app shows now." \
        in wrong.content.decode()
    assert not security.has_two_factor(user)
    malformed = client.post(ENROL, {"code": "12ab"})
    assert "Code from the app: Enter the 6-digit code your app shows." \
        in malformed.content.decode()
    empty = client.post(ENROL, {"code": ""})
    assert "Code from the app: This field is required." in empty.content.decode()

    done = client.post(ENROL, {"code": code_for(secret)})
    body = done.content.decode()
    assert "Two-factor sign-in is on." in body and "They are shown only now." in body
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", body)
    assert len(set(codes)) == 10
    assert security.has_two_factor(user)
    assert security.backup_codes_left(user) == 10
    # The codes are not shown again.
    account = client.get("/app/account/").content.decode()
    assert "Backup codes left: <strong>10</strong>" in account
    assert not any(code in account for code in codes)
    assert client.get(ENROL)["Location"] == "/app/account/"
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="user.two_factor_enabled",
                                         company=personas.company_a).exists()


def test_sign_in_asks_for_the_code_after_the_password(enrolled):
    secret, _ = enrolled
    with later():
        client = password_step()
        # Not signed in yet: every page still sends to sign-in.
        assert client.get("/app/")["Location"].startswith("/app/login/")
        assert client.get("/app/account/")["Location"].startswith("/app/login/")
        page = client.get("/app/login/code/?next=/app/%3Fview%3Dall")
        assert "Enter your sign-in code" in page.content.decode()
        response = client.post("/app/login/code/", {"code": code_for(secret),
                                                    "next": "/app/?view=all"})
        assert response.status_code == 302 and response["Location"] == "/app/?view=all"
        assert client.get("/app/").status_code == 200


def test_the_code_step_rotates_the_session_key(enrolled):
    secret, _ = enrolled
    with later():
        client = password_step()
        waiting = client.cookies["sessionid"].value
        client.post("/app/login/code/", {"code": code_for(secret)})
        assert client.cookies["sessionid"].value != waiting
        attacker = Client()
        attacker.cookies["sessionid"] = waiting
        assert attacker.get("/app/").status_code == 302


def test_an_app_code_signs_in_once(enrolled):
    secret, _ = enrolled
    with later():
        code = code_for(secret)
        first = password_step()
        assert first.post("/app/login/code/", {"code": code}).status_code == 302
        second = password_step()
        replay = second.post("/app/login/code/", {"code": code})
        assert replay.status_code == 400
        assert second.get("/app/").status_code == 302


def test_wrong_codes_are_refused_then_throttled(enrolled):
    secret, _ = enrolled
    with later():
        client = password_step()
        right = code_for(secret)
        wrong = f"{(int(right) + 1) % 1000000:06d}"
        first = client.post("/app/login/code/", {"code": wrong})
        assert first.status_code == 400
        assert "Code: That code is not right." in first.content.decode()
        assert client.get("/app/").status_code == 302
        for _ in range(4):
            client.post("/app/login/code/", {"code": wrong})
        locked = client.post("/app/login/code/", {"code": right})
        assert locked.status_code == 429
        assert "Too many wrong codes" in locked.content.decode()
        assert client.get("/app/").status_code == 302
        # Starting over does not reset the count: it is kept per account.
        again = password_step(REMOTE_ADDR="198.51.100.7")
        assert again.post("/app/login/code/", {"code": right}).status_code == 429


def test_code_step_bad_input_names_the_field(enrolled):
    with later():
        client = password_step()
        response = client.post("/app/login/code/", {"code": ""})
        assert response.status_code == 400
        assert "Code: This field is required." in response.content.decode()


def test_a_backup_code_signs_in_once(enrolled):
    _, codes = enrolled
    client = password_step()
    spaced = f"{codes[0][:4]} {codes[0][4:].upper()}"  # typed with a space, in capitals
    assert client.post("/app/login/code/", {"code": spaced}).status_code == 302
    assert client.get("/app/").status_code == 200
    user = User.objects.get(email="tech1@alpha.test")
    assert security.backup_codes_left(user) == 9
    again = password_step()
    assert again.post("/app/login/code/", {"code": codes[0]}).status_code == 400
    assert again.post("/app/login/code/", {"code": codes[1]}).status_code == 302


def test_new_backup_codes_replace_the_old_ones(enrolled):
    _, old = enrolled
    client = signed_in_with_code("tech1@alpha.test", old[0])
    page = client.post("/app/account/two-factor/backup-codes/")
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    stale = password_step()
    assert stale.post("/app/login/code/", {"code": old[1]}).status_code == 400
    assert stale.post("/app/login/code/", {"code": new[0]}).status_code == 302


def signed_in_with_code(email: str, code: str) -> Client:
    client = password_step(email)
    assert client.post("/app/login/code/", {"code": code}).status_code == 302
    return client


def test_an_unfinished_sign_in_expires(enrolled):
    secret, _ = enrolled
    client = password_step()
    with time_machine.travel(timedelta(minutes=6)):
        response = client.post("/app/login/code/", {"code": code_for(secret)})
        assert response.status_code == 302
        assert response["Location"].startswith("/app/login/")
        assert client.get("/app/").status_code == 302


def test_code_page_without_a_password_step_goes_to_sign_in(personas):
    response = Client().get("/app/login/code/")
    assert response.status_code == 302 and response["Location"].startswith("/app/login/")


def test_turning_it_off_needs_a_code_or_the_password(enrolled):
    secret, codes = enrolled
    client = signed_in_with_code("tech1@alpha.test", codes[0])
    user = User.objects.get(email="tech1@alpha.test")
    nothing = client.post("/app/account/two-factor/disable/", {})
    assert nothing.status_code == 400
    assert "Code from the app or a backup code: Enter a code from your app, or your password." \
        in nothing.content.decode()
    wrong = client.post("/app/account/two-factor/disable/", {"password": "not-mine"})
    assert "Or your password: This is not your current password." in wrong.content.decode()
    bad_code = client.post("/app/account/two-factor/disable/", {"code": "zzzzzzzz"})
    assert "Code from the app or a backup code: This code is not right." \
        in bad_code.content.decode()
    assert security.has_two_factor(user)
    with later():
        off = client.post("/app/account/two-factor/disable/", {"code": code_for(secret)})
    assert off.status_code == 302
    assert not security.has_two_factor(user)
    assert security.backup_codes_left(user) == 0
    # The next sign-in asks no code.
    assert Client().post("/app/login/", {"email": "tech1@alpha.test",
                                         "password": PASSWORD})["Location"] == "/app/"


def test_turning_it_off_with_the_password(enrolled):
    _, codes = enrolled
    client = signed_in_with_code("tech1@alpha.test", codes[0])
    off = client.post("/app/account/two-factor/disable/", {"password": PASSWORD})
    assert off.status_code == 302
    assert "Two-factor sign-in is off." in client.get("/app/account/").content.decode()


def test_guessing_codes_to_turn_it_off_is_throttled(enrolled):
    _, codes = enrolled
    client = signed_in_with_code("tech1@alpha.test", codes[0])
    for n in range(5):
        client.post("/app/account/two-factor/disable/", {"password": f"guess-{n}"})
    locked = client.post("/app/account/two-factor/disable/", {"password": PASSWORD})
    assert locked.status_code == 429
    assert security.has_two_factor(User.objects.get(email="tech1@alpha.test"))


# -- per-company enforcement ------------------------------------------------------------------


def _require(company, value=True):
    company = Company.objects.get(pk=company.pk)
    company.settings = {**(company.settings or {}), security.REQUIRE_2FA_SETTING: value}
    company.save(update_fields=["settings"])


def test_enforcing_company_sends_every_page_to_enrolment(personas):
    p = personas
    _require(p.company_a)
    t = ticket(p.company_a, p.client_a)
    client = signed_in("tech1@alpha.test")
    for url in ("/app/", "/app/?view=all", f"/app/tickets/{t.public_id}/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(ENROL + "?next=/app/")
    posted = client.post(f"/app/tickets/{t.public_id}/reply", {"body": "x", "kind": "note"})
    assert posted.status_code == 302 and posted["Location"].startswith(ENROL)
    assert client.get("/app/account/").status_code == 200
    page = client.get(ENROL + "?next=/app/%3Fview%3Dall").content.decode()
    assert "Alpha IT requires two-factor sign-in of its staff." in page
    done = client.post(ENROL + "?next=/app/%3Fview%3Dall",
                       {"code": code_for(shown_secret(page)), "next": "/app/?view=all"})
    assert 'href="/app/?view=all"' in done.content.decode()
    assert client.get("/app/").status_code == 200
    # It cannot be turned off while the company requires it.
    account = client.get("/app/account/").content.decode()
    assert "cannot be turned off" in account
    refused = client.post("/app/account/two-factor/disable/", {"password": PASSWORD})
    assert refused.status_code == 400
    assert "Alpha IT requires two-factor sign-in of its staff" in refused.content.decode()


def test_enforcement_follows_the_chosen_company(personas):
    from nestogy.accounts.actions import add_member

    p = personas
    with scope(company=p.company_b.pk):
        add_member(p.company_b, email="tech1@alpha.test", role="technician",
                   attach_existing=True)
    _require(p.company_a)
    client = signed_in("tech1@alpha.test")
    client.post("/app/company/", {"company": p.company_b.public_id})
    assert client.get("/app/").status_code == 200
    client.post("/app/company/", {"company": p.company_a.public_id})
    assert client.get("/app/")["Location"].startswith(ENROL)


def test_the_setting_is_editable_in_the_api_and_the_admin(personas):
    api = personas.owner_a.api
    settings = {s["key"]: s for s in api.get("/company").data["settings"]}
    assert settings[security.REQUIRE_2FA_SETTING]["value"] is False
    changed = api.patch("/company/settings", {"settings": {security.REQUIRE_2FA_SETTING: True}})
    assert changed.status_code == 200
    assert Company.objects.get(pk=personas.company_a.pk).get_setting(
        security.REQUIRE_2FA_SETTING) is True
    bad = api.patch("/company/settings", {"settings": {security.REQUIRE_2FA_SETTING: "yes"}})
    assert bad.status_code == 422
    assert "settings.security.require_staff_2fa" in str(bad.data)
    assert personas.tech_a.api.patch(
        "/company/settings", {"settings": {security.REQUIRE_2FA_SETTING: False}}
    ).status_code == 403
    from tests.support.admin_forms import operator

    page = operator().get(f"/admin/tenancy/company/{personas.company_a.pk}/change/")
    assert 'name="setting__security__require_staff_2fa"' in page.content.decode()


# -- access and the admin -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_account_view_asks_the_role_matrix(personas, role):
    persona = getattr(personas, role)
    client = signed_in(persona.email)
    cases = [
        ("get", "/app/account/", {}),
        ("post", "/app/account/password/", {"current_password": "x"}),
        ("get", ENROL, {}),
        ("post", ENROL, {"code": "x"}),
        ("post", "/app/account/two-factor/backup-codes/", {}),
        ("post", "/app/account/two-factor/disable/", {}),
    ]
    assert allowed(persona.role, "account.own")
    for method, url, data in cases:
        response = getattr(client, method)(url, data)
        assert response.status_code in (200, 302, 400), (role, url, response.status_code)
        assert "does not allow this page" not in response.content.decode()


def test_account_pages_need_a_signed_in_member(personas):
    for url in ("/app/account/", ENROL):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/app/login/")
    loner = User.objects.create_user("loner@nowhere.test", PASSWORD)
    client = Client()
    client.force_login(loner)
    assert client.get("/app/account/").status_code == 403


def test_account_posts_need_the_csrf_token(personas):
    client = signed_in("tech1@alpha.test", csrf=True)
    response = client.post("/app/account/password/", {
        "current_password": PASSWORD, "password": "violet-otter-42x", "confirm":
        "violet-otter-42x"})
    assert response.status_code == 403
    assert User.objects.get(email="tech1@alpha.test").check_password(PASSWORD)


def test_the_admin_sign_in_does_not_skip_the_second_factor(enrolled):
    """An operator who is also a member of a company, with a second factor."""
    _, codes = enrolled
    User.objects.filter(email="tech1@alpha.test").update(is_superuser=True)
    response = Client().post("/admin/login/?next=/admin/", {"username": "tech1@alpha.test",
                                                          "password": PASSWORD})
    assert response.status_code == 200
    assert "This account signs in with two-factor authentication" in response.content.decode()
    assert Client().get("/admin/").status_code == 302
    # Signed in through the workspace (password and code), the admin opens.
    client = signed_in_with_code("tech1@alpha.test", codes[0])
    assert client.get("/admin/").status_code == 200


def test_user_fields_are_escaped_on_the_pages_and_in_the_mail(personas, immediate_tasks,  # noqa: F811
                                                              django_capture_on_commit_callbacks):
    User.objects.filter(email="tech1@alpha.test").update(name="<script>alert(1)</script>")
    client = signed_in("tech1@alpha.test")
    for url in ("/app/account/", ENROL):
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/app/password-reset/", {"email": "tech1@alpha.test"})
    [message] = mail.outbox
    html = message.alternatives[0][0]
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def _admin_reset(actor_email: str, user: User):
    http = Client()
    http.force_login(User.objects.get(email=actor_email))
    return http.post("/admin/accounts/user/", {"action": "reset_two_factor_selected",
                                               "_selected_action": [user.pk]}, follow=True)


def test_an_operator_turns_off_a_members_lost_second_factor_in_the_admin(enrolled):
    from tests.support.admin_forms import OPERATOR_EMAIL, operator

    user = User.objects.get(email="tech1@alpha.test")
    listing = operator()
    assert "Turn off two-factor sign-in" in listing.get("/admin/accounts/user/").content.decode()
    page = _admin_reset(OPERATOR_EMAIL, user).content.decode()
    assert "Two-factor sign-in turned off for 1 accounts" in page
    assert not security.has_two_factor(user)
    assert Client().post("/app/login/", {"email": "tech1@alpha.test",
                                         "password": PASSWORD})["Location"] == "/app/"
    with scopes_disabled():
        entry = AuditEntry.objects.get(action="user.two_factor_reset")
    assert entry.actor_label == OPERATOR_EMAIL


def test_a_companys_staff_cannot_use_the_admins_reset(personas):
    """Owners turn off a member's second factor on the workspace's member page; the admin's
    action is the operators'."""
    client = signed_in("tech1@alpha.test")
    enrol(client)
    user = User.objects.get(email="tech1@alpha.test")
    for email in ("owner@alpha.test", "tech2@alpha.test"):
        http = Client()
        http.force_login(User.objects.get(email=email))
        response = http.post("/admin/accounts/user/", {"action": "reset_two_factor_selected",
                                                       "_selected_action": [user.pk]})
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        assert security.has_two_factor(user)

