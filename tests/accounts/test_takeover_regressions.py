"""Regression tests of account-takeover attacks, each performing the attack as reported.

1. Cross-company takeover: company A's owner "adds" company B's owner by e-mail through the
   API, then sets that account's password in A's admin. Variant: a membership for B's
   technician created in A's admin from a raw user id, with the owner role.
2. Staff take over a client portal account: a technician sets a contact's password and portal
   admin flag (or points the contact's e-mail at an inbox of theirs and uses the reset link).
3. An admin demotes or deactivates an owner (API and admin).
"""

from __future__ import annotations

import json

from django.test import Client as HttpClient
from django_scopes import scope, scopes_disabled

from nestogy.accounts.actions import add_member
from nestogy.accounts.models import Membership, User
from nestogy.clients.models import Contact
from tests.conftest import PASSWORD

ATTACKER_PASSWORD = "attacker-chosen-pw-1"


def login(email, password=PASSWORD):
    http = HttpClient()
    assert http.login(username=email, password=password)
    return http


def portal_login(email, password):
    http = HttpClient()
    response = http.post("/portal/login/", {"email": email, "password": password})
    return http, response


# --- 1. cross-company account takeover ----------------------------------------------------------

def test_adding_another_companys_owner_by_email_does_not_hand_over_the_account(personas):
    p = personas
    victim = p.owner_b.user
    User.objects.filter(pk=victim.pk).update(name="Bravo Boss")
    response = p.owner_a.api.post("/users", {"email": "owner@bravo.test",
                                             "role": "technician"})
    assert response.status_code == 202, response.data
    body = json.dumps(response.data)
    assert "Bravo Boss" not in body and victim.public_id not in body
    assert set(response.data) == {"id", "email", "role", "status", "expires_at"}
    with scopes_disabled():
        assert not Membership.objects.filter(company=p.company_a, user=victim).exists()
    # A's owner goes for the password form of B's owner in A's admin.
    http = login("owner@alpha.test")
    url = f"/admin/accounts/user/{victim.pk}/password/"
    assert http.get(url).status_code in (302, 403, 404)  # 302: the admin is operators' only
    attempt = http.post(url, {"password1": ATTACKER_PASSWORD, "password2": ATTACKER_PASSWORD,
                              "usable_password": "true"})
    assert attempt.status_code in (302, 403, 404)
    assert http.get(f"/admin/accounts/user/{victim.pk}/change/").status_code in (302, 403, 404)
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD)
    assert not HttpClient().login(username="owner@bravo.test", password=ATTACKER_PASSWORD)
    # and B's owner still works in B, as owner, with B's data
    assert p.owner_b.api.get("/invoices").status_code == 200


def test_admin_membership_add_with_another_companys_user_id_writes_nothing(personas):
    p = personas
    http = login("owner@alpha.test")
    response = http.post("/admin/accounts/membership/add/", {
        "user": p.tech_b.user.pk, "role": "owner", "is_active": "on",
        "technician-TOTAL_FORMS": "0", "technician-INITIAL_FORMS": "0",
        "technician-MIN_NUM_FORMS": "0", "technician-MAX_NUM_FORMS": "1"})
    assert response.status_code in (200, 302, 403)
    with scopes_disabled():
        assert not Membership.objects.filter(company=p.company_a, user=p.tech_b.user).exists()
    p.tech_b.user.refresh_from_db()
    assert p.tech_b.user.check_password(PASSWORD)


# --- 2. staff take over client portal accounts --------------------------------------------------

def test_technician_cannot_set_a_contacts_password_or_make_it_portal_admin(personas):
    p = personas
    contact_id = p.contact_a.public_id
    api = p.tech_a.api
    response = api.patch(f"/contacts/{contact_id}", {"password": ATTACKER_PASSWORD,
                                                     "portal_admin": True})
    assert response.status_code == 422, response.data
    assert response.data["error"]["field"] == "password"
    assert "invite" in response.data["error"]["message"]
    assert "reset" in response.data["error"]["message"]
    assert api.patch(f"/contacts/{contact_id}", {"portal_admin": True}).status_code == 403
    with scope(company=p.company_a.pk):
        contact = Contact.objects.get(public_id=contact_id)
    assert contact.portal_admin is False
    assert contact.check_password(PASSWORD) and not contact.check_password(ATTACKER_PASSWORD)
    _, signed_in = portal_login("dana@acme.test", ATTACKER_PASSWORD)
    assert signed_in.status_code != 302  # the attacker's password does not open the portal


def test_technician_cannot_create_a_portal_contact_with_a_password(personas):
    p = personas
    response = p.tech_a.api.post("/contacts", {
        "client_id": p.client_a.public_id, "name": "Sock Puppet", "email": "sock@acme.test",
        "portal_access": True, "portal_admin": True, "password": ATTACKER_PASSWORD})
    assert response.status_code == 422 and response.data["error"]["field"] == "password"
    without_password = p.tech_a.api.post("/contacts", {
        "client_id": p.client_a.public_id, "name": "Sock Puppet", "email": "sock@acme.test",
        "portal_access": True})
    assert without_password.status_code == 403
    with scope(company=p.company_a.pk):
        assert not Contact.objects.filter(email="sock@acme.test").exists()


def test_technician_cannot_redirect_a_portal_contacts_email_to_reset_its_password(personas):
    p = personas
    response = p.tech_a.api.patch(f"/contacts/{p.contact_a.public_id}",
                                  {"email": "tech-inbox@attacker.test"})
    assert response.status_code == 403
    assert p.tech_a.api.post(f"/contacts/{p.contact_a.public_id}/invite").status_code == 403
    with scope(company=p.company_a.pk):
        assert Contact.objects.get(pk=p.contact_a.pk).email == "dana@acme.test"


def test_roles_without_contacts_portal_cannot_grant_portal_access_in_the_admin(personas):
    """Billing and technicians may not open the portal to anyone through the admin: not by
    portal admin, not by pointing a portal contact's e-mail at their own inbox (the reset link
    goes there), not by a password. The admin no longer opens for a company's staff at all;
    the workspace and the API hold the rule (contacts.portal)."""
    p = personas
    url = f"/admin/clients/contact/{p.contact_a.pk}/change/"
    for email in ("billing@alpha.test", "tech1@alpha.test", "manager@alpha.test"):
        http = login(email)
        assert http.get(url).status_code == 302
        response = http.post(url, {"client": p.client_a.pk, "name": "Dana Contact",
                                   "email": "inbox@attacker.test", "portal_access": "on",
                                   "portal_admin": "on", "password": ATTACKER_PASSWORD})
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        with scope(company=p.company_a.pk):
            contact = Contact.objects.get(pk=p.contact_a.pk)
        assert contact.portal_admin is False, email
        assert contact.email == "dana@acme.test", email
        assert contact.check_password(PASSWORD)


# --- 3. an admin demotes or deactivates an owner ------------------------------------------------

def _second_owner(p):
    with scope(company=p.company_a.pk):
        return add_member(p.company_a, email="owner2@alpha.test", role="owner",
                          password=PASSWORD)


def test_admin_cannot_demote_or_deactivate_an_owner_through_the_api(personas):
    p = personas
    _second_owner(p)  # so that "last owner" is not what stops the admin
    owner_id = p.owner_a.user.public_id
    api = p.admin_a.api
    assert api.patch(f"/users/{owner_id}", {"role": "technician"}).status_code == 403
    assert api.patch(f"/users/{owner_id}", {"is_active": False}).status_code == 403
    assert api.delete(f"/users/{owner_id}").status_code == 403
    with scopes_disabled():
        membership = Membership.objects.get(pk=p.owner_a.membership.pk)
    assert (membership.role, membership.is_active) == ("owner", True)
    assert p.owner_a.api.get("/company").status_code == 200


def test_admin_cannot_demote_an_owner_or_take_over_the_owners_account_in_the_admin(personas):
    p = personas
    _second_owner(p)
    http = login("admin@alpha.test")
    url = f"/admin/accounts/membership/{p.owner_a.membership.pk}/change/"
    assert http.get(url).status_code == 302  # the admin is for operators
    response = http.post(url, {"user": p.owner_a.user.pk, "role": "technician"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    with scopes_disabled():
        assert Membership.objects.get(pk=p.owner_a.membership.pk).role == "owner"
    response = http.post(url, {"user": p.owner_a.user.pk, "role": "owner", "is_active": ""})
    with scopes_disabled():
        assert Membership.objects.get(pk=p.owner_a.membership.pk).is_active is True
    # nor set the owner's password
    password_url = f"/admin/accounts/user/{p.owner_a.user.pk}/password/"
    response = http.post(password_url, {"password1": ATTACKER_PASSWORD,
                                        "password2": ATTACKER_PASSWORD,
                                        "usable_password": "true"})
    assert response.status_code == 302
    owner = User.objects.get(pk=p.owner_a.user.pk)
    assert owner.check_password(PASSWORD)
