"""The workspace's sign-in, company choice, permission matrix and tenant isolation."""

from __future__ import annotations

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from nestogy.tickets.models import Reply, Ticket
from tests.conftest import PASSWORD
from tests.workspace.helpers import check_role_matrix, signed_in, ticket

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def test_anonymous_is_sent_to_sign_in(personas):
    response = Client().get("/app/")
    assert response.status_code == 302
    assert response["Location"] == "/app/login/?next=/app/"


def test_sign_in_wrong_password_says_so_and_writes_no_session(personas):
    client = Client()
    response = client.post("/app/login/", {"email": "tech1@alpha.test", "password": "nope"})
    assert response.status_code == 400
    assert "The e-mail or password is not right." in response.content.decode()
    assert client.get("/app/").status_code == 302


def test_sign_in_bad_input_names_the_field(personas):
    response = Client().post("/app/login/", {"email": "not-an-email", "password": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Email: Enter a valid email address." in body
    assert "Password: This field is required." in body


def test_sign_in_is_throttled_even_with_the_right_password(personas):
    client = Client()
    for attempt in range(5):
        client.post("/app/login/", {"email": "tech1@alpha.test", "password": f"x{attempt}"})
    response = client.post("/app/login/", {"email": "tech1@alpha.test", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_sign_out_ends_the_session(personas):
    client = signed_in("tech1@alpha.test")
    assert client.get("/app/").status_code == 200
    assert client.post("/app/logout/").status_code == 302
    assert client.get("/app/").status_code == 302


def test_next_only_goes_inside_the_workspace(personas):
    client = Client()
    response = client.post("/app/login/?next=https://evil.test/", {
        "email": "tech1@alpha.test", "password": PASSWORD})
    assert response["Location"] == "/app/"


def test_user_in_two_companies_picks_one_and_sees_only_its_tickets(personas):
    from nestogy.accounts.actions import add_member

    p = personas
    with scope(company=p.company_b.pk):
        add_member(p.company_b, email="tech1@alpha.test", role="technician",
                   attach_existing=True)
    a_ticket = ticket(p.company_a, p.client_a, "Alpha printer")
    b_ticket = ticket(p.company_b, p.client_b, "Bravo server")
    client = signed_in("tech1@alpha.test")
    response = client.get("/app/?view=all")
    assert response.status_code == 302 and response["Location"].startswith("/app/company/")
    page = client.get("/app/company/").content.decode()
    assert "Alpha IT" in page and "Bravo IT" in page
    bad = client.post("/app/company/", {"company": "cmp_not_mine"})
    assert bad.status_code == 400
    client.post("/app/company/", {"company": p.company_b.public_id})
    body = client.get("/app/?view=all").content.decode()
    assert "Bravo server" in body and "Alpha printer" not in body
    assert client.get(f"/app/tickets/{a_ticket.public_id}/").status_code == 404
    assert client.get(f"/app/tickets/{b_ticket.public_id}/").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_every_view_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    t = ticket(p.company_a, p.client_a)
    client = signed_in(persona.email)
    cases = [
        ("get", "/app/", {}, "tickets.view"),
        ("get", f"/app/tickets/{t.public_id}/", {}, "tickets.view"),
        ("post", f"/app/tickets/{t.public_id}/reply", {"body": "On it", "kind": "note"},
         "tickets.update"),
        ("post", f"/app/tickets/{t.public_id}/update",
         {"status": "open", "priority": "medium", "category": ""}, "tickets.update"),
        ("get", f"/app/tickets/{t.public_id}/routing", {}, "tickets.assign"),
        ("post", f"/app/tickets/{t.public_id}/assign", {"assignee": "none"}, "tickets.assign"),
    ]
    check_role_matrix(client, persona.role, cases)


@pytest.mark.parametrize("role", ["owner_a", "tech_a"])
def test_another_companys_ticket_is_404_on_every_view_and_nothing_is_written(personas, role):
    p = personas
    theirs = ticket(p.company_b, p.client_b, "Bravo secret")
    client = signed_in(getattr(p, role).email)
    base = f"/app/tickets/{theirs.public_id}"
    assert client.get(base + "/").status_code == 404
    if role == "owner_a":
        assert client.get(base + "/routing").status_code == 404
    assert client.post(base + "/reply", {"body": "x", "kind": "reply"}).status_code == 404
    assert client.post(base + "/update", {"status": "closed", "priority": "low",
                                          "category": ""}).status_code == 404
    assert client.post(base + "/assign", {"assignee": "me"}).status_code == 404
    assert "Bravo secret" not in client.get("/app/?view=all").content.decode()
    with scopes_disabled():
        theirs.refresh_from_db()
        assert theirs.status == "new" and theirs.assignee_id is None
        assert not Reply.objects.filter(ticket=theirs).exists()


def test_superuser_is_scoped_to_their_company_too(personas):
    p = personas
    with scopes_disabled():
        p.owner_a.user.is_superuser = True
        p.owner_a.user.save()
    theirs = ticket(p.company_b, p.client_b, "Bravo secret")
    client = signed_in("owner@alpha.test")
    assert client.get(f"/app/tickets/{theirs.public_id}/").status_code == 404
    assert "Bravo secret" not in client.get("/app/?view=all").content.decode()


def test_posts_need_the_csrf_token(personas):
    p = personas
    t = ticket(p.company_a, p.client_a)
    client = signed_in("tech1@alpha.test", csrf=True)
    response = client.post(f"/app/tickets/{t.public_id}/reply", {"body": "hi", "kind": "reply"})
    assert response.status_code == 403
    with scope(company=p.company_a.pk):
        assert not Reply.objects.filter(ticket=t).exists()
        assert Ticket.objects.get(pk=t.pk).first_response_state != "met"
