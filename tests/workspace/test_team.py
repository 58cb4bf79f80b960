"""The team page of the workspace (Django test client): members and invitations; adding a new
person (account at once, a mail to choose a password) or an existing account (an
invitation), resending and revoking, role changes and removals; every view for every role,
another company's people, bad input, the grant rules."""

from __future__ import annotations

import pytest
from django.core import mail
from django_scopes import scope, scopes_disabled

from nestogy.accounts.actions import invite_member
from nestogy.accounts.models import Invitation, Membership, User
from nestogy.accounts.roles import allowed
from nestogy.notifications.sending import send_due
from tests.payments.fixtures import immediate_tasks  # noqa: F401
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def membership(company, email) -> Membership | None:
    with scopes_disabled():
        return Membership.objects.filter(company=company, user__email=email).first()


def invitation_to(company, email) -> Invitation:
    with scope(company=company.pk):
        return invite_member(company, email=email, role="technician")


@pytest.mark.parametrize("role", ROLES)
def test_every_team_view_asks_the_role_matrix(personas, settings, role):
    settings.NESTOGY_INVITATION_RESEND_SECONDS = 0
    p = personas
    persona = getattr(p, role)
    pending = invitation_to(p.company_a, "owner@bravo.test")  # an existing account
    target = membership(p.company_a, "tech2@alpha.test")
    client = signed_in(persona.email)
    cases = [
        ("get", "/app/team/", {}, "users.view"),
        ("post", "/app/team/invite", {"email": f"new-{role}@alpha.test",
                                      "role": "technician"}, "users.create"),
        ("post", f"/app/team/invitations/{pending.public_id}/resend", {}, "users.create"),
        ("post", f"/app/team/invitations/{pending.public_id}/revoke", {}, "users.create"),
        ("post", f"/app/team/members/{target.public_id}/role", {"role": "manager"},
         "users.update"),
        ("post", f"/app/team/members/{target.public_id}/remove", {}, "users.delete"),
    ]
    check_role_matrix(client, persona.role, cases)
    added = membership(p.company_a, f"new-{role}@alpha.test")
    assert (added is not None) == allowed(persona.role, "users.create")
    target = membership(p.company_a, "tech2@alpha.test")
    assert (target.role == "manager") == allowed(persona.role, "users.update")
    assert (not target.is_active) == allowed(persona.role, "users.delete")
    page = client.get("/app/").content.decode()
    assert ('href="/app/team/"' in page) == allowed(persona.role, "users.create")


def test_a_new_person_gets_an_account_and_a_mail_to_choose_a_password(
        personas, immediate_tasks, django_capture_on_commit_callbacks):  # noqa: F811
    owner = signed_in("owner@alpha.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post("/app/team/invite", {"email": "Sam.New@Alpha.test",
                                                   "role": "technician"}, follow=True)
    page = response.content.decode()
    assert "sam.new@alpha.test joined as Technician" in page
    assert 'data-member="sam.new@alpha.test"' in page
    send_due()
    (message,) = [m for m in mail.outbox if m.to == ["sam.new@alpha.test"]]
    assert "/app/password-reset/" in message.body
    with scopes_disabled():
        assert not User.objects.get(email="sam.new@alpha.test").has_usable_password()


def test_an_existing_account_gets_an_invitation_to_accept(personas):
    p = personas
    owner = signed_in("owner@alpha.test")
    page = owner.post("/app/team/invite", {"email": "owner@bravo.test", "role": "manager"},
                      follow=True).content.decode()
    assert "owner@bravo.test already has an account: an invitation to join as Manager" in page
    assert 'data-invitation="owner@bravo.test"' in page
    assert membership(p.company_a, "owner@bravo.test") is None
    send_due()
    (message,) = [m for m in mail.outbox if m.to == ["owner@bravo.test"]]
    assert "/invitations/" in message.body


@pytest.mark.parametrize(("data", "message"), [
    ({"email": "", "role": "technician"}, "E-mail: Enter the person&#x27;s e-mail address."),
    ({"email": "not-an-address", "role": "technician"}, "E-mail: Enter a valid email address."),
    ({"email": "x@alpha.test", "role": "emperor"}, "Role: Select a valid choice."),
    ({"email": "tech1@alpha.test", "role": "technician"},
     "E-mail: Tech1@alpha.test is already a member of this company."),
])
def test_bad_input_names_the_field_and_adds_nobody(personas, data, message):
    p = personas
    with scopes_disabled():
        before = Membership.objects.filter(company=p.company_a).count()
    response = signed_in("owner@alpha.test").post("/app/team/invite", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    with scopes_disabled():
        assert Membership.objects.filter(company=p.company_a).count() == before


def test_an_admin_cannot_grant_owner_and_the_last_owner_stays(personas):
    p = personas
    admin = signed_in("admin@alpha.test")
    response = admin.post("/app/team/invite", {"email": "boss@alpha.test", "role": "owner"})
    assert response.status_code == 400 and "Role: Select a valid choice." in \
        response.content.decode()
    owner_membership = membership(p.company_a, "owner@alpha.test")
    page = signed_in("owner@alpha.test")
    # The owner's own row has no buttons; an attempt through the form is refused anyway.
    body = page.get("/app/team/").content.decode()
    assert f"/app/team/members/{owner_membership.public_id}/role" not in body
    response = page.post(f"/app/team/members/{owner_membership.public_id}/role",
                         {"role": "technician"}, follow=True)
    assert "Not done:" in response.content.decode()
    assert membership(p.company_a, "owner@alpha.test").role == "owner"


def test_another_companys_people_are_404_and_unchanged(personas):
    p = personas
    theirs = invitation_to(p.company_b, "tech1@alpha.test")
    their_member = membership(p.company_b, "owner@bravo.test")
    owner = signed_in("owner@alpha.test")
    for url in (f"/app/team/invitations/{theirs.public_id}/resend",
                f"/app/team/invitations/{theirs.public_id}/revoke",
                f"/app/team/members/{their_member.public_id}/role",
                f"/app/team/members/{their_member.public_id}/remove"):
        assert owner.post(url, {"role": "technician"}).status_code == 404, url
    page = owner.get("/app/team/").content.decode()
    assert "owner@bravo.test" not in page
    with scopes_disabled():
        theirs.refresh_from_db()
        their_member.refresh_from_db()
    assert theirs.status == "pending" and their_member.role == "owner" \
        and their_member.is_active


def test_resend_and_revoke_an_invitation(personas, settings):
    settings.NESTOGY_INVITATION_RESEND_SECONDS = 0
    p = personas
    pending = invitation_to(p.company_a, "owner@bravo.test")
    owner = signed_in("owner@alpha.test")
    page = owner.post(f"/app/team/invitations/{pending.public_id}/resend",
                      follow=True).content.decode()
    assert "A new link was e-mailed to owner@bravo.test" in page
    page = owner.post(f"/app/team/invitations/{pending.public_id}/revoke",
                      follow=True).content.decode()
    assert "The invitation to owner@bravo.test is revoked" in page
    assert 'data-invitation="owner@bravo.test"' not in page


def test_an_unknown_role_changes_nothing(personas):
    p = personas
    target = membership(p.company_a, "tech2@alpha.test")
    page = signed_in("owner@alpha.test").post(f"/app/team/members/{target.public_id}/role",
                                              {"role": "emperor"}, follow=True)
    assert "Not done: choose one of the roles." in page.content.decode()
    assert membership(p.company_a, "tech2@alpha.test").role == "technician"
