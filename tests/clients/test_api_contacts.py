from django_scopes import scope

from nestogy.clients.models import Contact


def test_contact_create_update_delete(personas):
    api = personas.manager_a.api
    client_id = personas.client_a.public_id
    created = api.post("/contacts", {"client_id": client_id, "name": "Gale Office",
                                     "email": "Gale@Acme.test", "portal_access": True})
    assert created.status_code == 201, created.data
    body = created.data
    assert body["email"] == "gale@acme.test"
    assert body["portal_access"] is True and body["has_password"] is False
    assert "password" not in body

    patched = api.patch(f"/contacts/{body['id']}", {"portal_admin": True, "phone": "555"})
    assert patched.data["portal_admin"] is True and patched.data["phone"] == "555"
    listed = api.get("/contacts", client_id=client_id)
    assert body["id"] in {c["id"] for c in listed.data["items"]}
    # technicians may edit contact details but not delete contacts
    tech = personas.tech_a.api
    assert tech.patch(f"/contacts/{body['id']}", {"title": "CFO"}).status_code == 200
    assert tech.delete(f"/contacts/{body['id']}").status_code == 403
    assert api.delete(f"/contacts/{body['id']}").status_code == 204


def test_contact_email_is_unique_per_client_only(personas):
    api = personas.owner_a.api
    first = api.post("/contacts", {"client_id": personas.client_a.public_id, "name": "A",
                                   "email": "shared@example.test"})
    assert first.status_code == 201
    dup = api.post("/contacts", {"client_id": personas.client_a.public_id, "name": "B",
                                 "email": "SHARED@example.test"})
    assert dup.status_code == 422 and dup.data["error"]["field"] == "email"
    other_client = api.post("/contacts", {"client_id": personas.client_a2.public_id,
                                          "name": "C", "email": "shared@example.test"})
    assert other_client.status_code == 201


def test_contact_bad_input(personas):
    api = personas.owner_a.api
    with scope(company=personas.company_a.pk):
        before = Contact.objects.count()
    cases = [
        ({"client_id": personas.client_a.public_id, "name": "X"}, "email"),
        ({"client_id": personas.client_a.public_id, "name": "X", "email": "bad"}, "email"),
        ({"client_id": personas.client_a.public_id, "name": "X", "email": "x@y.test",
          "password": "a-long-portal-password"}, "password"),
        ({"client_id": personas.client_a.public_id, "name": "X", "email": "x@y.test",
          "timezone": "Atlantis/Capital"}, "timezone"),
    ]
    for body, field in cases:
        response = api.post("/contacts", body)
        assert response.status_code == 422, response.data
        assert response.data["error"]["field"] == field
    # a client of another company is "not found", naming nothing of it
    response = api.post("/contacts", {"client_id": personas.client_b.public_id, "name": "X",
                                      "email": "x@y.test"})
    assert response.status_code == 404
    with scope(company=personas.company_a.pk):
        assert Contact.objects.count() == before
