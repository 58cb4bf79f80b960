from django_scopes import scope

from nestogy.accounts.models import Membership


def test_owner_adds_a_technician_with_skills(personas):
    api = personas.owner_a.api
    response = api.post("/users", {"email": "New.Tech@Alpha.test", "name": "New Tech",
                                   "role": "technician", "skills": {"Networking": 4},
                                   "max_open_tickets": 8})
    assert response.status_code == 201, response.data
    user = response.data
    assert user["email"] == "new.tech@alpha.test"
    assert user["skills"] == {"networking": 4}
    assert user["max_open_tickets"] == 8 and user["role"] == "technician"
    assert api.get(f"/users/{user['id']}").data == user
    dup = api.post("/users", {"email": "new.tech@alpha.test", "role": "technician"})
    assert dup.status_code == 409


def test_user_bad_input(personas):
    api = personas.owner_a.api
    cases = [
        ({"email": "x@alpha.test", "role": "wizard"}, "role"),
        ({"email": "nope", "role": "technician"}, "email"),
        ({"email": "x@alpha.test", "role": "technician", "skills": {"dns": 9}}, "skills.dns"),
        ({"email": "x@alpha.test", "role": "technician", "max_open_tickets": -1},
         "max_open_tickets"),
        ({"role": "technician"}, "email"),
    ]
    with scope(company=personas.company_a.pk):
        before = Membership.objects.count()
    for body, field in cases:
        response = api.post("/users", body)
        assert response.status_code == 422, (body, response.data)
        assert response.data["error"]["field"] == field, (body, response.data)
    with scope(company=personas.company_a.pk):
        assert Membership.objects.count() == before


def test_technician_cannot_create_users_and_admin_cannot_create_owners(personas):
    body = {"email": "x@alpha.test", "role": "technician"}
    assert personas.tech_a.api.post("/users", body).status_code == 403
    assert personas.admin_a.api.post("/users", {**body, "role": "owner"}).status_code == 403
    assert personas.owner_a.api.post("/users", {**body, "role": "owner"}).status_code == 201


def test_last_owner_cannot_be_removed_or_demoted(personas):
    owner_id = personas.owner_a.user.public_id
    api = personas.owner_a.api
    assert api.delete(f"/users/{owner_id}").status_code == 409
    assert api.patch(f"/users/{owner_id}", {"role": "admin"}).status_code == 409


def test_removed_member_loses_api_access(personas):
    tech_id = personas.tech2_a.user.public_id
    assert personas.tech2_a.api.get("/clients").status_code == 200
    assert personas.admin_a.api.delete(f"/users/{tech_id}").status_code == 204
    assert personas.tech2_a.api.get("/clients").status_code == 401
    assert personas.owner_a.api.get(f"/users/{tech_id}").data["is_active"] is False


def test_members_edit_own_profile_but_not_role(personas):
    api = personas.tech_a.api
    me = personas.tech_a.user.public_id
    ok = api.patch(f"/users/{me}", {"out_of_office": True, "name": "Tess"})
    assert ok.status_code == 200 and ok.data["out_of_office"] is True
    assert api.patch(f"/users/{me}", {"role": "owner"}).status_code == 403


def test_tokens_are_shown_once_stored_hashed_and_revocable(personas):
    api = personas.tech_a.api
    created = api.post("/tokens", {"name": "laptop"})
    assert created.status_code == 201
    raw = created.data["token"]
    assert raw.startswith("nst_") and created.data["prefix"] == raw[:12]
    listed = api.get("/tokens").data["items"]
    assert all("token" not in t for t in listed)
    with scope(company=personas.company_a.pk):
        from nestogy.accounts.models import ApiToken

        stored = ApiToken.objects.get(public_id=created.data["id"])
        assert raw not in stored.token_hash and len(stored.token_hash) == 64
    from tests.conftest import Api

    laptop = Api(raw)
    assert laptop.get("/me").data["user"]["email"] == "tech1@alpha.test"
    assert api.delete(f"/tokens/{created.data['id']}").status_code == 204
    assert laptop.get("/me").status_code == 401
    # another member's token is invisible to a technician
    owner_token = personas.owner_a.api.get("/tokens").data["items"][0]["id"]
    assert api.delete(f"/tokens/{owner_token}").status_code == 404


def test_token_last_used_is_recorded(personas):
    personas.manager_a.api.get("/me")
    with scope(company=personas.company_a.pk):
        token = personas.manager_a.user.api_tokens.first()
    assert token.last_used_at is not None
