"""Invitations: adding an e-mail that already has an account invites it; its owner accepts or
declines signed in as that account; the company lists, revokes and re-sends them."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from nestogy.accounts.models import Invitation, Membership, TechnicianProfile, User
from nestogy.accounts.queries import hash_token
from nestogy.audit.models import AuditEntry
from nestogy.notifications.models import Delivery, StoredEvent
from nestogy.notifications.sending import send_due
from tests.conftest import PASSWORD

LINK = re.compile(r"https?://[^/\s]+/invitations/([0-9a-f]{64})/")


def login(email):
    http = HttpClient()
    assert http.login(username=email, password=PASSWORD)
    return http


def invite_bravo_owner(p, **extra):
    response = p.owner_a.api.post("/users", {"email": "Owner@Bravo.test", "role": "technician",
                                             "name": "Ignored Name", **extra})
    assert response.status_code == 202, response.data
    return response.data


def emailed_token(address="owner@bravo.test") -> str:
    send_due()
    messages = [m for m in mail.outbox if address in m.to]
    assert messages, [m.to for m in mail.outbox]
    match = LINK.search(messages[-1].body)
    assert match, messages[-1].body
    assert match.group(0) in messages[-1].alternatives[0][0]
    return match.group(1)


@pytest.fixture(autouse=True)
def no_mail_cooldown(settings):
    """These tests invite and re-send in quick succession; the cooldown has its own test."""
    settings.NESTOGY_INVITATION_RESEND_SECONDS = 0


def test_an_existing_account_is_invited_through_the_outbox_and_the_token_is_never_stored(
        personas):
    p = personas
    body = invite_bravo_owner(p)
    assert body["email"] == "owner@bravo.test" and body["role"] == "technician"
    assert body["status"] == "pending"
    with scope(company=p.company_a.pk):
        invitation = Invitation.objects.get(public_id=body["id"])
        [delivery] = Delivery.objects.filter(event_type="user.invited")
    assert (delivery.channel, delivery.target) == ("email", "owner@bravo.test")
    assert invitation.invited_by_id == p.owner_a.user.pk
    token = emailed_token()
    [message] = [m for m in mail.outbox if "owner@bravo.test" in m.to]
    assert message.subject == "Alpha IT invites you to join as technician"
    assert "owner@alpha.test invited your account owner@bravo.test to join Alpha IT as " \
        "technician" in message.body
    assert hash_token(token) == invitation.token_hash
    with scopes_disabled():
        stored = json.dumps([list(Invitation.objects.values()),
                             list(StoredEvent.objects.values("context")),
                             list(Delivery.objects.values()),
                             list(AuditEntry.objects.values("data"))], default=str)
    assert token not in stored
    # The person's own account is untouched (the name sent with the request is not applied).
    assert User.objects.get(email="owner@bravo.test").name == ""


def test_the_invitee_accepts_signed_in_and_joins_with_the_invited_role(personas):
    p = personas
    with scope(company=p.company_a.pk):
        from nestogy.sla.models import BusinessCalendar

        calendar = BusinessCalendar.objects.first()
    body = invite_bravo_owner(p, skills={"Networking": 3}, max_open_tickets=7,
                              calendar_id=calendar.public_id)
    url = f"/invitations/{emailed_token()}/"
    http = login("owner@bravo.test")
    page = http.get(url)
    assert page.status_code == 200
    assert b"Alpha IT" in page.content and b"technician" in page.content
    response = http.post(url, {"decision": "accept"})
    assert response.status_code == 302 and response["Location"] == "/app/"
    with scopes_disabled():
        membership = Membership.objects.get(company=p.company_a, user=p.owner_b.user)
        profile = TechnicianProfile.objects.get(membership=membership)
        invitation = Invitation.objects.get(public_id=body["id"])
        audit = AuditEntry.objects.filter(company=p.company_a,
                                          action="user.joined")
        joined = Delivery.objects.filter(company=p.company_a, event_type="user.joined")
        from nestogy.routing.models import TechnicianCalendar

        assert TechnicianCalendar.objects.get(user=p.owner_b.user,
                                              company=p.company_a).calendar_id == calendar.pk
    assert (membership.role, membership.is_active) == ("technician", True)
    assert (profile.skills, profile.max_open_tickets) == ({"networking": 3}, 7)
    assert invitation.status == "accepted"
    assert audit.count() == 1 and audit.get().actor_id == p.owner_b.user.pk
    assert {d.recipient_user_id for d in joined} == {p.owner_a.user.pk}
    # The session now works in company A's workspace; the link is spent.
    assert b"Acme Dental" in http.get("/app/clients/").content
    assert http.get(url).status_code == 410
    # The account is still its owner's: B's owner keeps B, and A sees the member.
    assert p.owner_b.api.get("/me").data["company"]["name"] == "Bravo IT"
    listed = p.owner_a.api.get(f"/users/{p.owner_b.user.public_id}")
    assert listed.status_code == 200 and listed.data["role"] == "technician"


def test_a_shared_account_is_its_owners_alone(personas):
    """Once an account belongs to two companies, neither can change its e-mail, password,
    name or active flag; each still manages the membership in its own company."""
    p = personas
    invite_bravo_owner(p)
    url = f"/invitations/{emailed_token()}/"
    login("owner@bravo.test").post(url, {"decision": "accept"})
    victim = p.owner_b.user
    http = login("owner@alpha.test")
    password_url = f"/admin/accounts/user/{victim.pk}/password/"  # operators' only
    assert http.post(password_url, {"password1": "taken-over-pw-1", "password2":
                                    "taken-over-pw-1", "usable_password": "true"}
                     ).status_code == 302
    assert http.post(f"/admin/accounts/user/{victim.pk}/change/",
                     {"email": "mine@alpha.test", "name": "Mine", "is_active": ""}
                     ).status_code == 302
    api = p.owner_a.api
    user_id = victim.public_id
    assert api.patch(f"/users/{user_id}", {"name": "Renamed"}).status_code == 403
    assert api.patch(f"/users/{user_id}", {"timezone": "Asia/Tokyo"}).status_code == 403
    assert api.patch(f"/users/{user_id}", {"role": "manager"}).data["role"] == "manager"
    deactivated = api.patch(f"/users/{user_id}", {"is_active": False})
    assert deactivated.status_code == 200 and deactivated.data["is_active"] is False
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD) and victim.email == "owner@bravo.test"
    assert victim.is_active and victim.name == ""
    with scopes_disabled():
        assert Membership.objects.get(company=p.company_b, user=victim).is_active
    assert p.owner_b.api.get("/me").status_code == 200  # B untouched
    # The account's owner still edits their own profile from A.
    own = HttpClient()
    assert own.login(username="owner@bravo.test", password=PASSWORD)


def test_the_invitation_page_answers_only_the_invited_account(personas):
    p = personas
    invite_bravo_owner(p)
    token = emailed_token()
    url = f"/invitations/{token}/"
    anonymous = HttpClient().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/app/login/")
    other = login("tech@bravo.test")
    page = other.get(url)
    assert page.status_code == 403
    assert b"Alpha IT" not in page.content and b"owner@bravo.test" not in page.content
    assert other.post(url, {"decision": "accept"}).status_code == 403
    with scopes_disabled():
        assert not Membership.objects.filter(company=p.company_a,
                                             user__email__in=["tech@bravo.test",
                                                              "owner@bravo.test"]).exists()
    assert login("owner@bravo.test").get(f"/invitations/{'0' * 64}/").status_code == 404
    bad = login("owner@bravo.test").post(url, {"decision": "maybe"})
    assert bad.status_code == 400


def test_declined_revoked_expired_and_replaced_links_stop_working(personas):
    p = personas
    invitee = login("owner@bravo.test")
    # declined
    invite_bravo_owner(p)
    url = f"/invitations/{emailed_token()}/"
    assert invitee.post(url, {"decision": "decline"}).status_code == 200
    assert invitee.get(url).status_code == 410
    # revoked
    body = invite_bravo_owner(p)
    url = f"/invitations/{emailed_token()}/"
    assert p.owner_a.api.delete(f"/users/invitations/{body['id']}").status_code == 204
    assert invitee.get(url).status_code == 410
    assert invitee.post(url, {"decision": "accept"}).status_code == 410
    # expired
    body = invite_bravo_owner(p)
    url = f"/invitations/{emailed_token()}/"
    with scopes_disabled():
        Invitation.objects.filter(public_id=body["id"]).update(
            expires_at=timezone.now() - timedelta(minutes=1))
    assert invitee.get(url).status_code == 410
    listed = p.owner_a.api.get("/users/invitations", status="expired").data["items"]
    assert [i["id"] for i in listed] == [body["id"]]
    # resent: a new link; the old one is unknown
    resent = p.owner_a.api.post(f"/users/invitations/{body['id']}/resend")
    assert resent.status_code == 200 and resent.data["status"] == "pending"
    new_url = f"/invitations/{emailed_token()}/"
    assert new_url != url
    assert invitee.get(url).status_code == 404
    assert invitee.post(new_url, {"decision": "accept"}).status_code == 302
    with scopes_disabled():
        assert Membership.objects.filter(company=p.company_a, user=p.owner_b.user).exists()
        assert AuditEntry.objects.filter(action="user.invitation_declined").count() == 1
        assert AuditEntry.objects.filter(action="user.invitation_revoked").count() == 1


def test_company_side_list_revoke_resend_and_bad_input(personas):
    p = personas
    api = p.owner_a.api
    body = invite_bravo_owner(p)
    duplicate = api.post("/users", {"email": "owner@bravo.test", "role": "technician"})
    assert duplicate.status_code == 409
    listed = api.get("/users/invitations").data
    assert [i["id"] for i in listed["items"]] == [body["id"]]
    assert set(listed["items"][0]) == {"id", "email", "role", "status", "expires_at"}
    assert api.get("/users/invitations", status="accepted").data["items"] == []
    bad = api.get("/users/invitations", status="whatever")
    assert bad.status_code == 422 and bad.data["error"]["field"] == "status"
    # admins invite no owners, and technicians see no invitations
    owner_invite = p.admin_a.api.post("/users", {"email": "tech@bravo.test", "role": "owner"})
    assert owner_invite.status_code == 403
    assert p.tech_a.api.get("/users/invitations").status_code == 403
    # revoke twice: the second is a conflict; a revoked invitation is not re-sent
    assert api.delete(f"/users/invitations/{body['id']}").status_code == 204
    assert api.delete(f"/users/invitations/{body['id']}").status_code == 409
    assert api.post(f"/users/invitations/{body['id']}/resend").status_code == 409
    # another company's invitation does not exist for B
    again = invite_bravo_owner(p)
    assert p.owner_b.api.get("/users/invitations").data["items"] == []
    assert p.owner_b.api.delete(f"/users/invitations/{again['id']}").status_code == 404
    assert p.owner_b.api.post(f"/users/invitations/{again['id']}/resend").status_code == 404
    with scopes_disabled():
        assert Invitation.objects.get(public_id=again["id"]).status == "pending"


def test_a_revoked_invitations_email_is_not_sent(personas):
    p = personas
    body = invite_bravo_owner(p)
    p.owner_a.api.delete(f"/users/invitations/{body['id']}")
    send_due()
    assert not [m for m in mail.outbox if "owner@bravo.test" in m.to]
    with scope(company=p.company_a.pk):
        delivery = Delivery.objects.get(event_type="user.invited")
    assert delivery.status == "failed" and "revoked" in delivery.last_error


def test_invitation_mails_to_one_address_are_limited_by_a_cooldown(personas, settings):
    """Re-sending, or revoking and inviting again, cannot flood someone's mailbox."""
    settings.NESTOGY_INVITATION_RESEND_SECONDS = 300
    p = personas
    api = p.owner_a.api
    body = invite_bravo_owner(p)
    too_soon = api.post(f"/users/invitations/{body['id']}/resend")
    assert too_soon.status_code == 409 and too_soon.data["error"]["code"] == "too_soon"
    assert api.delete(f"/users/invitations/{body['id']}").status_code == 204
    again = api.post("/users", {"email": "owner@bravo.test", "role": "technician"})
    assert again.status_code == 409 and again.data["error"]["code"] == "too_soon"
    with scopes_disabled():
        assert StoredEvent.objects.filter(type="user.invited").count() == 1
        Invitation.objects.filter(public_id=body["id"]).update(
            sent_at=timezone.now() - timedelta(seconds=301))
    assert api.post("/users", {"email": "owner@bravo.test",
                               "role": "technician"}).status_code == 202
    # Another company has its own allowance for the same address.
    assert p.owner_b.api.post("/users", {"email": "owner@alpha.test",
                                         "role": "technician"}).status_code == 202


def test_an_invitee_signed_out_signs_in_to_the_workspace_and_comes_back_to_the_invitation(
        personas):
    invite_bravo_owner(personas)
    url = f"/invitations/{emailed_token()}/"
    http = HttpClient()
    sent_to = http.get(url)["Location"]
    assert sent_to.startswith("/app/login/") and "next=/invitations/" in sent_to
    back = http.post("/app/login/", {"email": "owner@bravo.test", "password": PASSWORD,
                                     "next": url})
    assert back.status_code == 302 and back["Location"] == url
    page = http.get(url).content.decode()
    assert "Join Alpha IT" in page and 'name="decision" value="accept"' in page
    # and only an invitation's page: any other place outside the workspace goes home
    elsewhere = HttpClient().post("/app/login/", {"email": "owner@bravo.test",
                                                  "password": PASSWORD, "next": "/admin/"})
    assert elsewhere["Location"] == "/app/"
