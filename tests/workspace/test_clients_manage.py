"""Managing clients, sites and contacts in the workspace (Django test client): every view
for every role, another company's clients, sites, contacts and SLA policies, bad input
naming the field with nothing written, the audit, archive and restore, deletes refused by
the client's history, and the portal fields that only ``contacts.portal`` may change."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.clients.actions import create_contact, create_site
from nestogy.clients.events import INVITED, PASSWORD_RESET
from nestogy.clients.models import Client, Contact, Site
from nestogy.sla.actions import create_policy, set_client_policy
from nestogy.sla.models import ClientSLAPolicy, SLAPolicy
from tests.workspace.helpers import check_role_matrix, signed_in, ticket

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def gold(company) -> SLAPolicy:
    """A second SLA policy of ``company`` besides its default."""
    with scope(company=company.pk):
        base = SLAPolicy.objects.get(is_default=True)
        return create_policy(company, {
            "name": "Gold", "calendar": base.calendar,
            "targets": {pr: {"first_response_minutes": 30, "resolution_minutes": 240}
                        for pr in ("critical", "high", "medium", "low")}})


def client_form(**extra) -> dict:
    data = {"name": "Cedar Law", "email": "accounts@cedar.test", "phone": "+1 555 0100",
            "website": "https://cedar.test", "notes": "Two offices.", "sla_policy": ""}
    data.update(extra)
    return data


def edit_form(client: Client, **extra) -> dict:
    data = {"name": client.name, "email": client.email, "phone": client.phone,
            "website": client.website, "notes": client.notes, "status": client.status,
            "sla_policy": ""}
    data.update(extra)
    return data


def site_form(**extra) -> dict:
    data = {"name": "Head office", "address": "1 Main Street", "city": "Springfield",
            "postal_code": "12345", "country": "US", "timezone": "America/Chicago"}
    data.update(extra)
    return data


def contact_form(**extra) -> dict:
    data = {"name": "Gia Contact", "email": "gia@acme.test", "phone": "", "title": "Office "
            "manager", "timezone": ""}
    data.update(extra)
    return data


def clients(company) -> list[Client]:
    with scopes_disabled():
        return list(Client.objects.filter(company=company).order_by("id"))


def sites(client: Client) -> list[Site]:
    with scopes_disabled():
        return list(Site.objects.filter(client=client).order_by("id"))


def contacts(client: Client) -> list[Contact]:
    with scopes_disabled():
        return list(Contact.objects.filter(client=client).order_by("id"))


def fresh(obj):
    with scopes_disabled():
        return type(obj).objects.get(pk=obj.pk)


def audit(company, action: str, obj=None) -> list[AuditEntry]:
    with scopes_disabled():
        qs = AuditEntry.objects.filter(company=company, action=action)
        if obj is not None:
            qs = qs.filter(object_id=obj.public_id)
        return list(qs.order_by("id"))


def assigned_policy(client: Client) -> SLAPolicy | None:
    with scopes_disabled():
        link = ClientSLAPolicy.objects.filter(client=client).select_related("policy").first()
    return link.policy if link else None


def a_site(client: Client, name="Branch") -> Site:
    with scope(company=client.company_id):
        return create_site(client, {"name": name})


def a_contact(client: Client, email="hal@acme.test", **extra) -> Contact:
    with scope(company=client.company_id):
        return create_contact(client, {"name": "Hal Contact", "email": email, **extra},
                              send_invitation=False)


# -- every view asks the one role matrix ----------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_view_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    a = p.client_a
    base = f"/app/clients/{a.public_id}"
    with scope(company=p.company_a.pk):
        doomed = Client.objects.create(company=p.company_a, name="Doomed Ltd")
    site, gone_site = a_site(a, "Branch"), a_site(a, "Old depot")
    invitee, gone = a_contact(a, "ivy@acme.test"), a_contact(a, "old@acme.test")
    http = signed_in(persona.email)
    cases = [
        ("get", "/app/clients/new", {}, "clients.create"),
        ("post", "/app/clients/new", client_form(name=f"By {role}"), "clients.create"),
        ("get", f"{base}/edit", {}, "clients.update"),
        ("post", f"{base}/edit", edit_form(a, phone=f"phone {role}"), "clients.update"),
        ("post", f"{base}/status", {"status": "active"}, "clients.update"),
        ("get", f"/app/clients/{doomed.public_id}/delete", {}, "clients.delete"),
        ("post", f"/app/clients/{doomed.public_id}/delete", {}, "clients.delete"),
        ("get", f"{base}/sites/new", {}, "clients.update"),
        ("post", f"{base}/sites/new", site_form(name=f"Site {role}"), "clients.update"),
        ("get", f"{base}/sites/{site.public_id}/edit", {}, "clients.update"),
        ("post", f"{base}/sites/{site.public_id}/edit", site_form(name=f"Branch {role}"),
         "clients.update"),
        ("get", f"{base}/sites/{gone_site.public_id}/delete", {}, "clients.update"),
        ("post", f"{base}/sites/{gone_site.public_id}/delete", {}, "clients.update"),
        ("get", f"{base}/contacts/new", {}, "contacts.create"),
        ("post", f"{base}/contacts/new", contact_form(name=f"By {role}"), "contacts.create"),
        ("get", f"{base}/contacts/{p.contact_a.public_id}/edit", {}, "contacts.update"),
        ("post", f"{base}/contacts/{p.contact_a.public_id}/edit",
         contact_form(name="Dana Contact", email="dana@acme.test", phone=f"phone {role}",
                      **({"portal_access": "on"} if allowed(persona.role, "contacts.portal")
                         else {})), "contacts.update"),
        ("get", f"{base}/contacts/{gone.public_id}/delete", {}, "contacts.delete"),
        ("post", f"{base}/contacts/{gone.public_id}/delete", {}, "contacts.delete"),
        ("post", f"{base}/contacts/{invitee.public_id}/invite", {}, "contacts.portal"),
        ("post", f"{base}/contacts/{p.contact_a.public_id}/reset", {}, "contacts.portal"),
    ]
    check_role_matrix(http, persona.role, cases)
    creates, updates = (allowed(persona.role, "clients.create"),
                        allowed(persona.role, "clients.update"))
    assert (f"By {role}" in [c.name for c in clients(p.company_a)]) == creates
    assert (fresh(a).phone == f"phone {role}") == updates
    with scopes_disabled():
        assert Client.objects.filter(pk=doomed.pk).exists() \
            != allowed(persona.role, "clients.delete")
    names = [s.name for s in sites(a)]
    assert (f"Site {role}" in names) == updates
    assert (f"Branch {role}" in names) == updates
    assert ("Old depot" not in names) == updates
    people = {c.email: c for c in contacts(a)}
    assert f"By {role}" in [c.name for c in people.values()]  # everyone adds contacts
    assert people["dana@acme.test"].phone == f"phone {role}"  # and edits them
    assert ("old@acme.test" not in people) == allowed(persona.role, "contacts.delete")
    portal = allowed(persona.role, "contacts.portal")
    assert people["ivy@acme.test"].portal_access == portal
    assert bool(audit(p.company_a, PASSWORD_RESET, p.contact_a)) == portal
    # The links each role sees.
    listing = http.get("/app/clients/").content.decode()
    assert ('href="/app/clients/new"' in listing) == creates
    page = http.get(f"{base}/").content.decode()
    assert (f'href="{base}/edit"' in page) == updates
    assert (f'href="{base}/sites/new"' in page) == updates
    assert (f'href="{base}/sites/{site.public_id}/edit"' in page) == updates
    assert f'href="{base}/contacts/new"' in page
    assert f'href="{base}/contacts/{p.contact_a.public_id}/edit"' in page
    form = http.get(f"{base}/contacts/{invitee.public_id}/edit").content.decode()
    assert ('name="portal_access"' in form) == portal
    assert ('name="portal_admin"' in form) == portal
    assert ("Delete this contact" in form) == allowed(persona.role, "contacts.delete")
    if updates:
        edit = http.get(f"{base}/edit").content.decode()
        assert ("Delete this client" in edit) == allowed(persona.role, "clients.delete")


# -- another company ------------------------------------------------------------------------


def test_another_companys_clients_sites_contacts_and_policies_are_404(personas):
    p = personas
    theirs = p.client_b
    their_site = a_site(theirs, "Bravo HQ")
    base = f"/app/clients/{theirs.public_id}"
    http = signed_in("owner@alpha.test")
    for url in (f"{base}/edit", f"{base}/delete", f"{base}/sites/new",
                f"{base}/sites/{their_site.public_id}/edit",
                f"{base}/sites/{their_site.public_id}/delete", f"{base}/contacts/new",
                f"{base}/contacts/{p.contact_b.public_id}/edit",
                f"{base}/contacts/{p.contact_b.public_id}/delete"):
        assert http.get(url).status_code == 404, url
    posts = [(f"{base}/edit", edit_form(theirs, name="Hijacked")),
             (f"{base}/status", {"status": "archived"}), (f"{base}/delete", {}),
             (f"{base}/sites/new", site_form()),
             (f"{base}/sites/{their_site.public_id}/edit", site_form(name="Hijacked")),
             (f"{base}/sites/{their_site.public_id}/delete", {}),
             (f"{base}/contacts/new", contact_form()),
             (f"{base}/contacts/{p.contact_b.public_id}/edit", contact_form(name="Hijacked")),
             (f"{base}/contacts/{p.contact_b.public_id}/delete", {}),
             (f"{base}/contacts/{p.contact_b.public_id}/invite", {}),
             (f"{base}/contacts/{p.contact_b.public_id}/reset", {})]
    for url, data in posts:
        assert http.post(url, data).status_code == 404, url
    # Their site or contact under one of our clients is not found either.
    ours = f"/app/clients/{p.client_a.public_id}"
    assert http.post(f"{ours}/sites/{their_site.public_id}/edit",
                     site_form(name="Hijacked")).status_code == 404
    assert http.post(f"{ours}/contacts/{p.contact_b.public_id}/edit",
                     contact_form(name="Hijacked")).status_code == 404
    # Nor is a site or contact of our other client under this one.
    ours_site = a_site(p.client_a2, "Blue Ridge HQ")
    assert http.get(f"{ours}/sites/{ours_site.public_id}/edit").status_code == 404
    assert http.get(f"{ours}/contacts/{p.contact_a2.public_id}/edit").status_code == 404
    assert (fresh(theirs).name, fresh(theirs).status) == ("Bravo Client", "active")
    assert [s.name for s in sites(theirs)] == ["Bravo HQ"]
    assert [c.name for c in contacts(theirs)] == ["Finn Contact"]
    assert audit(p.company_b, INVITED) == [] and audit(p.company_b, PASSWORD_RESET) == []


def test_another_companys_sla_policy_is_refused_on_the_field(personas):
    p = personas
    their_policy = gold(p.company_b)
    http = signed_in("manager@alpha.test")
    before = len(clients(p.company_a))
    response = http.post("/app/clients/new", client_form(sla_policy=their_policy.public_id))
    assert response.status_code == 400
    assert "SLA policy: Choose one of your SLA policies." in response.content.decode()
    assert len(clients(p.company_a)) == before
    response = http.post(f"/app/clients/{p.client_a.public_id}/edit",
                         edit_form(p.client_a, phone="555", sla_policy=their_policy.public_id))
    assert response.status_code == 400
    assert "SLA policy: Choose one of your SLA policies." in response.content.decode()
    assert fresh(p.client_a).phone == "" and assigned_policy(p.client_a) is None
    assert audit(p.company_a, "client.updated") == []


# -- bad input: the field is named, nothing is written --------------------------------------


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": ""}, "Name: Name the client."),
    ({"name": "   "}, "Name: Name the client."),
    ({"email": "not-an-address"}, "Billing e-mail: Is not a valid email address."),
    ({"website": "cedar dot test"}, "Website: Is not a valid URL."),
    ({"sla_policy": "slp_nope"}, "SLA policy: Choose one of your SLA policies."),
])
def test_bad_client_input_names_the_field(personas, changes, message):
    p = personas
    http = signed_in("manager@alpha.test")
    before = len(clients(p.company_a))
    response = http.post("/app/clients/new", client_form(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert len(clients(p.company_a)) == before
    response = http.post(f"/app/clients/{p.client_a.public_id}/edit",
                         edit_form(p.client_a, notes="changed", **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert fresh(p.client_a).notes == "" and fresh(p.client_a).name == "Acme Dental"
    assert audit(p.company_a, "client.updated") == []


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": ""}, "Name: Name the site."),
    ({"country": "USA"}, "Country: Must be a two-letter ISO 3166 code"),
    ({"country": "1A"}, "Country: Must be a two-letter ISO 3166 code."),
    ({"timezone": "Mars/Olympus"}, "Time zone: Unknown time zone"),
])
def test_bad_site_input_names_the_field(personas, changes, message):
    p = personas
    site = a_site(p.client_a, "Branch")
    base = f"/app/clients/{p.client_a.public_id}/sites"
    http = signed_in("billing@alpha.test")
    response = http.post(f"{base}/new", site_form(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert [s.name for s in sites(p.client_a)] == ["Branch"]
    response = http.post(f"{base}/{site.public_id}/edit",
                         site_form(**{"name": "Branch", **changes}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert (fresh(site).address, fresh(site).country) == ("", "")
    assert audit(p.company_a, "site.updated") == []


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": ""}, "Name: Name the contact."),
    ({"email": ""}, "E-mail: Enter the contact&#x27;s e-mail address."),
    ({"email": "gia-at-acme"}, "E-mail: Is not a valid email address."),
    ({"email": "dana@acme.test"}, "E-mail: Another contact of this client has this email."),
    ({"email": "DANA@Acme.test"}, "E-mail: Another contact of this client has this email."),
    ({"timezone": "Europe/Atlantis"}, "Time zone: Unknown time zone"),
])
def test_bad_contact_input_names_the_field(personas, changes, message):
    p = personas
    other = a_contact(p.client_a, "hal@acme.test")
    base = f"/app/clients/{p.client_a.public_id}/contacts"
    http = signed_in("tech1@alpha.test")
    response = http.post(f"{base}/new", contact_form(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert sorted(c.email for c in contacts(p.client_a)) == ["dana@acme.test", "hal@acme.test"]
    response = http.post(f"{base}/{other.public_id}/edit",
                         contact_form(**{"name": "Hal Contact", "email": "hal@acme.test",
                                         "phone": "555", **changes}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert (fresh(other).phone, fresh(other).email) == ("", "hal@acme.test")
    assert audit(p.company_a, "contact.updated") == []


def test_the_same_email_may_serve_two_clients(personas):
    p = personas
    response = signed_in("tech1@alpha.test").post(
        f"/app/clients/{p.client_a2.public_id}/contacts/new",
        contact_form(email="dana@acme.test"))
    assert response.status_code == 302
    assert "dana@acme.test" in [c.email for c in contacts(p.client_a2)]


# -- clients --------------------------------------------------------------------------------


def test_a_manager_creates_a_client_with_an_sla_policy(personas):
    p = personas
    policy = gold(p.company_a)
    http = signed_in("manager@alpha.test")
    form = http.get("/app/clients/new").content.decode()
    assert "Company default (Standard)" in form and ">Gold</option>" in form
    assert 'name="status"' not in form  # a new client is active
    response = http.post("/app/clients/new", client_form(sla_policy=policy.public_id,
                                                         email="Accounts@Cedar.test"))
    client = clients(p.company_a)[-1]
    assert response.status_code == 302 and response.url == f"/app/clients/{client.public_id}/"
    assert (client.name, client.email, client.phone, client.website, client.notes,
            client.status) == ("Cedar Law", "accounts@cedar.test", "+1 555 0100",
                               "https://cedar.test", "Two offices.", "active")
    assert assigned_policy(client) == policy
    [created] = audit(p.company_a, "client.created", client)
    assert created.actor_id == p.manager_a.user.pk
    [linked] = audit(p.company_a, "client.sla_policy_set", client)
    assert linked.data == {"sla_policy_id": policy.public_id}
    page = http.get(response.url).content.decode()
    assert "Client “Cedar Law” created." in page
    assert "SLA policy for new tickets: <strong>Gold</strong>" in page
    assert "Two offices." in page


def test_the_company_default_assigns_nothing(personas):
    p = personas
    signed_in("billing@alpha.test").post("/app/clients/new", client_form())
    client = clients(p.company_a)[-1]
    assert assigned_policy(client) is None
    assert audit(p.company_a, "client.sla_policy_set") == []


def test_editing_changes_only_what_changed_and_the_policy(personas):
    p = personas
    policy = gold(p.company_a)
    with scope(company=p.company_a.pk):
        set_client_policy(p.client_a, policy)
    http = signed_in("billing@alpha.test")
    form = http.get(f"/app/clients/{p.client_a.public_id}/edit").content.decode()
    assert f'<option value="{policy.public_id}" selected>Gold</option>' in form
    response = http.post(f"/app/clients/{p.client_a.public_id}/edit",
                         edit_form(p.client_a, phone="+1 555 0199", sla_policy=""))
    assert response.status_code == 302
    assert fresh(p.client_a).phone == "+1 555 0199"
    assert assigned_policy(p.client_a) is None
    [updated] = audit(p.company_a, "client.updated", p.client_a)
    assert updated.data == {"phone": "+1 555 0199"}
    assert audit(p.company_a, "client.sla_policy_set", p.client_a)[-1].data == {
        "sla_policy_id": None}
    page = http.get(response.url).content.decode()
    assert "Client “Acme Dental” saved." in page and "+1 555 0199" in page
    # Sending the same form again writes nothing.
    response = http.post(f"/app/clients/{p.client_a.public_id}/edit",
                         edit_form(fresh(p.client_a)), follow=True)
    assert "Nothing to save: client “Acme Dental” is unchanged." in response.content.decode()
    assert len(audit(p.company_a, "client.updated", p.client_a)) == 1


def test_archive_hides_the_client_and_restore_brings_it_back(personas):
    p = personas
    http = signed_in("manager@alpha.test")
    url = f"/app/clients/{p.client_a2.public_id}/"
    response = http.post(f"{url}status", {"status": "archived"}, follow=True)
    assert "Client “Blue Ridge Accounting” archived" in response.content.decode()
    assert fresh(p.client_a2).status == "archived"
    assert "Blue Ridge Accounting" not in http.get("/app/clients/").content.decode()
    archived = http.get("/app/clients/", {"status": "archived"}).content.decode()
    assert "Blue Ridge Accounting" in archived
    edit = http.get(f"{url}edit").content.decode()
    assert "Restore this client" in edit
    response = http.post(f"{url}edit", edit_form(fresh(p.client_a2), status="active"),
                         follow=True)
    assert "Client “Blue Ridge Accounting” saved and restored." in response.content.decode()
    assert "Blue Ridge Accounting" in http.get("/app/clients/").content.decode()
    # The edit form archives too.
    http.post(f"{url}edit", edit_form(fresh(p.client_a2), status="archived"))
    assert fresh(p.client_a2).status == "archived"
    assert [e.data for e in audit(p.company_a, "client.updated", p.client_a2)] == [
        {"status": "archived"}, {"status": "active"}, {"status": "archived"}]


def test_a_client_without_history_is_deleted_one_with_tickets_is_refused(personas):
    p = personas
    http = signed_in("owner@alpha.test")
    a_site(p.client_a2)
    confirm = http.get(f"/app/clients/{p.client_a2.public_id}/delete").content.decode()
    assert "Delete the client “Blue Ridge Accounting”?" in confirm
    response = http.post(f"/app/clients/{p.client_a2.public_id}/delete")
    assert response.status_code == 302 and response.url == "/app/clients/"
    assert p.client_a2.pk not in [c.pk for c in clients(p.company_a)]
    assert audit(p.company_a, "client.deleted", p.client_a2)
    assert "Client “Blue Ridge Accounting” deleted" in http.get("/app/clients/").content \
        .decode()
    ticket(p.company_a, p.client_a)
    response = http.post(f"/app/clients/{p.client_a.public_id}/delete", follow=True)
    page = response.content.decode()
    assert "Not deleted: Client has tickets; archive it" in page
    assert fresh(p.client_a).name == "Acme Dental"
    assert audit(p.company_a, "client.deleted", p.client_a) == []


def test_client_changes_are_post_only(personas):
    p = personas
    http = signed_in("owner@alpha.test")
    base = f"/app/clients/{p.client_a.public_id}"
    for url in (f"{base}/status", f"{base}/contacts/{p.contact_a.public_id}/invite",
                f"{base}/contacts/{p.contact_a.public_id}/reset"):
        assert http.get(url).status_code == 405, url
    csrf = signed_in("owner@alpha.test", csrf=True)
    assert csrf.post(f"{base}/edit", edit_form(p.client_a, phone="1")).status_code == 403
    assert fresh(p.client_a).phone == ""


# -- sites ----------------------------------------------------------------------------------


def test_sites_are_added_edited_and_deleted(personas):
    p = personas
    http = signed_in("billing@alpha.test")
    base = f"/app/clients/{p.client_a.public_id}"
    response = http.post(f"{base}/sites/new", site_form(country="us"))
    assert response.status_code == 302 and response.url == f"{base}/#sites"
    [site] = sites(p.client_a)
    assert (site.name, site.address, site.city, site.postal_code, site.country,
            site.timezone) == ("Head office", "1 Main Street", "Springfield", "12345", "US",
                               "America/Chicago")
    assert audit(p.company_a, "site.created", site)
    page = http.get(f"{base}/").content.decode()
    assert "Site “Head office” added." in page
    assert "1 Main Street, 12345 Springfield (US)" in page and "America/Chicago" in page
    form = http.get(f"{base}/sites/{site.public_id}/edit").content.decode()
    assert 'value="Springfield"' in form
    http.post(f"{base}/sites/{site.public_id}/edit", site_form(city="Shelbyville",
                                                                country="us"))
    assert fresh(site).city == "Shelbyville"
    [updated] = audit(p.company_a, "site.updated", site)
    assert updated.data == {"city": "Shelbyville"}
    response = http.post(f"{base}/sites/{site.public_id}/delete", follow=True)
    assert "Site “Head office” deleted." in response.content.decode()
    assert sites(p.client_a) == [] and audit(p.company_a, "site.deleted", site)


# -- contacts -------------------------------------------------------------------------------


def test_a_manager_adds_a_portal_contact_and_the_invitation_goes_out(personas):
    p = personas
    http = signed_in("manager@alpha.test")
    base = f"/app/clients/{p.client_a.public_id}"
    response = http.post(f"{base}/contacts/new", contact_form(
        portal_access="on", timezone="Europe/London", email="Gia@Acme.test"), follow=True)
    contact = next(c for c in contacts(p.client_a) if c.email == "gia@acme.test")
    assert (contact.name, contact.title, contact.timezone, contact.portal_access,
            contact.portal_admin) == ("Gia Contact", "Office manager", "Europe/London",
                                      True, False)
    page = response.content.decode()
    assert "Contact Gia Contact added. An invitation to the portal was e-mailed to " \
           "gia@acme.test." in page
    assert audit(p.company_a, "contact.created", contact)
    [invited] = audit(p.company_a, INVITED, contact)
    assert invited.actor_id == p.manager_a.user.pk
    row = page.split("gia@acme.test</a>", 1)[1].split("</tr>", 1)[0]
    assert "Invited" in row
    # Invite again from the contact's page; a contact with a password gets a reset instead.
    form = http.get(f"{base}/contacts/{contact.public_id}/edit").content.decode()
    assert "Send the portal invitation again" in form and "Send a password reset" not in form
    http.post(f"{base}/contacts/{contact.public_id}/invite")
    assert len(audit(p.company_a, INVITED, contact)) == 2
    form = http.get(f"{base}/contacts/{p.contact_a.public_id}/edit").content.decode()
    assert "Send a password reset" in form and "Send a portal invitation" not in form
    response = http.post(f"{base}/contacts/{p.contact_a.public_id}/invite", follow=True)
    assert "Not sent: Dana Contact has already chosen a password" in response.content.decode()
    response = http.post(f"{base}/contacts/{p.contact_a.public_id}/reset", follow=True)
    assert "A link to choose a new password was e-mailed to dana@acme.test." in \
        response.content.decode()
    assert len(audit(p.company_a, PASSWORD_RESET, p.contact_a)) == 1


def test_granting_portal_access_on_edit_sends_the_invitation(personas):
    p = personas
    hal = a_contact(p.client_a, "hal@acme.test")
    http = signed_in("admin@alpha.test")
    url = f"/app/clients/{p.client_a.public_id}/contacts/{hal.public_id}/edit"
    response = http.post(url, contact_form(name="Hal Contact", email="hal@acme.test",
                                           portal_access="on", portal_admin="on"), follow=True)
    assert "Contact Hal Contact saved. An invitation to the portal was e-mailed" in \
        response.content.decode()
    assert (fresh(hal).portal_access, fresh(hal).portal_admin) == (True, True)
    [updated] = audit(p.company_a, "contact.updated", hal)
    assert updated.data == {"portal_access": True, "portal_admin": True, "title":
                            "Office manager"}
    assert len(audit(p.company_a, INVITED, hal)) == 1
    # Taking access away sends nothing.
    http.post(url, contact_form(name="Hal Contact", email="hal@acme.test"))
    assert fresh(hal).portal_access is False
    assert len(audit(p.company_a, INVITED, hal)) == 1


def test_a_reset_for_a_contact_without_portal_access_is_not_sent(personas):
    p = personas
    hal = a_contact(p.client_a, "hal@acme.test")
    response = signed_in("owner@alpha.test").post(
        f"/app/clients/{p.client_a.public_id}/contacts/{hal.public_id}/reset", follow=True)
    assert "Not sent: Hal Contact cannot sign in to the portal" in response.content.decode()
    assert audit(p.company_a, PASSWORD_RESET) == []


def test_a_technician_manages_contacts_but_not_their_portal_access(personas):
    p = personas
    http = signed_in("tech1@alpha.test")
    base = f"/app/clients/{p.client_a.public_id}/contacts"
    form = http.get(f"{base}/new").content.decode()
    assert "portal_access" not in form and "Client portal" not in form
    # A forged flag is refused by the action, and nothing is written.
    before = len(contacts(p.client_a))
    response = http.post(f"{base}/new", contact_form(portal_access="on"))
    assert response.status_code == 400
    assert "Portal access: The technician role may not change portal access" in \
        response.content.decode()
    assert len(contacts(p.client_a)) == before
    assert audit(p.company_a, INVITED) == []
    dana = f"{base}/{p.contact_a.public_id}/edit"
    response = http.post(dana, contact_form(name="Dana Contact", email="dana@acme.test",
                                            portal_admin="on"))
    assert response.status_code == 400
    assert "Portal admin: The technician role may not change portal access" in \
        response.content.decode()
    # The e-mail of a contact who can sign in is the portal's too: refused on the field.
    response = http.post(dana, contact_form(name="Dana Contact", email="dana@elsewhere.test"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "E-mail: The technician role may not change the e-mail of a contact with portal " \
           "access" in page
    assert (fresh(p.contact_a).email, fresh(p.contact_a).portal_admin) == (
        "dana@acme.test", False)
    assert audit(p.company_a, "contact.updated") == []
    # Without the flags the technician adds and edits contacts.
    response = http.post(f"{base}/new", contact_form())
    assert response.status_code == 302
    gia = next(c for c in contacts(p.client_a) if c.email == "gia@acme.test")
    assert gia.portal_access is False
    response = http.post(dana, contact_form(name="Dana Contact", email="dana@acme.test",
                                            phone="+1 555 0142"))
    assert response.status_code == 302
    assert (fresh(p.contact_a).phone, fresh(p.contact_a).portal_access) == (
        "+1 555 0142", True)
    # And may not delete them.
    assert http.post(f"{base}/{gia.public_id}/delete").status_code == 403


def test_contacts_are_deleted_and_their_tickets_stay(personas):
    p = personas
    hal = a_contact(p.client_a, "hal@acme.test")
    http = signed_in("manager@alpha.test")
    base = f"/app/clients/{p.client_a.public_id}/contacts"
    confirm = http.get(f"{base}/{hal.public_id}/delete").content.decode()
    assert "Delete the contact Hal Contact (hal@acme.test)?" in confirm
    response = http.post(f"{base}/{hal.public_id}/delete", follow=True)
    assert "Contact Hal Contact deleted." in response.content.decode()
    assert "hal@acme.test" not in [c.email for c in contacts(p.client_a)]
    assert audit(p.company_a, "contact.deleted", hal)
    opened = ticket(p.company_a, p.client_a, contact=p.contact_a)
    response = http.post(f"{base}/{p.contact_a.public_id}/delete", follow=True)
    assert "Contact Dana Contact deleted." in response.content.decode()
    opened = fresh(opened)
    assert opened.client_id == p.client_a.pk and opened.contact_id is None


def test_an_archived_clients_contact_gets_no_invitation(personas):
    """A forged invite for a contact of an archived client: refused by the action (its
    contacts cannot sign in), said on the page, nothing sent or audited."""
    p = personas
    with scope(company=p.company_a.pk):
        contact = create_contact(p.client_a2, {"name": "Gus Archived",
                                               "email": "gus@blueridge.test"})
    Client.objects.with_scopes_disabled().filter(pk=p.client_a2.pk).update(status="archived")
    response = signed_in("manager@alpha.test").post(
        f"/app/clients/{p.client_a2.public_id}/contacts/{contact.public_id}/invite",
        follow=True)
    assert "Not sent: Blue Ridge Accounting is archived" in response.content.decode()
    with scopes_disabled():
        assert not AuditEntry.objects.filter(action=INVITED,
                                             object_id=contact.public_id).exists()
        assert Contact.objects.get(pk=contact.pk).portal_access is False
