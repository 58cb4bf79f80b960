"""``nestogy create_user``: operators script staff; existing accounts only by invitation."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.test import Client as HttpClient
from django_scopes import scopes_disabled

from nestogy.accounts.models import ApiToken, Invitation, Membership, User
from nestogy.notifications.models import Delivery
from tests.conftest import Api


def run(*args, stdin: str | None = None) -> str:
    out = StringIO()
    kwargs = {"stdout": out}
    if stdin is not None:
        kwargs["stdin"] = StringIO(stdin)
    call_command("create_user", *args, **kwargs)
    return out.getvalue()


def counts():
    with scopes_disabled():
        return (User.objects.count(), Membership.objects.count(), Invitation.objects.count(),
                ApiToken.objects.count())


def test_new_account_with_password_and_token(personas):
    data = json.loads(run("--company", personas.company_a.slug, "--email", "Kim@Alpha.test",
                          "--name", "Kim", "--role", "technician", "--password-stdin",
                          "--token", "--json", stdin="a-long-chosen-password\n"))
    assert set(data) == {"user_id", "token"}
    user = User.objects.get(public_id=data["user_id"])
    assert (user.email, user.name) == ("kim@alpha.test", "Kim")
    with scopes_disabled():
        membership = Membership.objects.get(user=user)
    assert (membership.company_id, membership.role) == (personas.company_a.pk, "technician")
    me = Api(data["token"]).get("/me").data
    assert me["user"]["email"] == "kim@alpha.test" and me["company"]["name"] == "Alpha IT"
    assert HttpClient().login(username="kim@alpha.test", password="a-long-chosen-password")


def test_company_by_public_id_without_password_or_token(personas):
    data = json.loads(run("--company", personas.company_b.public_id, "--email",
                          "lee@bravo.test", "--role", "billing", "--json"))
    assert set(data) == {"user_id"}
    user = User.objects.get(public_id=data["user_id"])
    assert not user.has_usable_password()
    text = run("--company", personas.company_b.slug, "--email", "max@bravo.test",
               "--role", "manager", "--token")
    assert "Added max@bravo.test to Bravo IT as manager" in text
    assert "API token: nst_" in text and "shown once" in text


def test_an_existing_account_of_another_company_needs_invite(personas):
    before = counts()
    with pytest.raises(CommandError, match=r"--email: owner@bravo\.test already has an "
                                           r"account.*--invite"):
        run("--company", personas.company_a.slug, "--email", "owner@bravo.test",
            "--role", "owner", "--json")
    assert counts() == before
    with pytest.raises(CommandError, match="--token"):
        run("--company", personas.company_a.slug, "--email", "owner@bravo.test",
            "--role", "owner", "--invite", "--token")
    assert counts() == before
    data = json.loads(run("--company", personas.company_a.slug, "--email", "owner@bravo.test",
                          "--role", "admin", "--invite", "--json"))
    assert set(data) == {"invitation_id"}
    with scopes_disabled():
        invitation = Invitation.objects.get(public_id=data["invitation_id"])
        assert not Membership.objects.filter(company=personas.company_a,
                                             user__email="owner@bravo.test").exists()
        assert "owner@bravo.test" in {
            d.target for d in Delivery.objects.filter(event_type="user.invited")}
    assert (invitation.company_id, invitation.role, invitation.status) == (
        personas.company_a.pk, "admin", "pending")
    assert User.objects.get(email="owner@bravo.test").check_password("correct-horse-battery")


@pytest.mark.parametrize(("args", "stdin", "option"), [
    (["--company", "no-such-company", "--email", "a@x.test", "--role", "technician"], None,
     "--company"),
    (["--company", "{slug}", "--email", "not-an-email", "--role", "technician"], None,
     "--email"),
    (["--company", "{slug}", "--email", "a@x.test", "--role", "wizard"], None, "--role"),
    (["--company", "{slug}", "--email", "a@x.test", "--role", "technician",
      "--password-stdin"], "", "--password-stdin"),
    (["--company", "{slug}", "--email", "a@x.test", "--role", "technician",
      "--password-stdin"], "password\n", "--password-stdin"),
    (["--company", "{slug}", "--email", "tech1@alpha.test", "--role", "technician"], None,
     "--email"),
])
def test_bad_input_names_the_option_and_writes_nothing(personas, args, stdin, option):
    args = [a.replace("{slug}", personas.company_a.slug) for a in args]
    before = counts()
    with pytest.raises(CommandError) as excinfo:
        run(*args, stdin=stdin)
    assert str(excinfo.value).startswith(f"{option}:"), str(excinfo.value)
    assert counts() == before


def test_bad_input_exits_non_zero_from_the_command_line(personas, capsys):
    with pytest.raises(SystemExit) as excinfo:
        ManagementUtility(["nestogy", "create_user", "--company", personas.company_a.slug,
                           "--email", "a@x.test", "--role", "wizard"]).execute()
    assert excinfo.value.code != 0
    assert "--role: must be one of" in capsys.readouterr().err
