"""Your API tokens in the workspace (Django test client): created and shown once, usable with
the API until revoked, masked in the list; every role has its own; another user's or
company's token is not found; bad input names the field."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from nestogy.accounts.actions import issue_api_token
from nestogy.accounts.models import ApiToken
from nestogy.audit.models import AuditEntry
from tests.workspace.helpers import signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def tokens_of(user) -> list[ApiToken]:
    with scopes_disabled():
        return list(ApiToken.objects.filter(user=user).order_by("id"))


def api_me(raw: str) -> int:
    return Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code


@pytest.mark.parametrize("role", ROLES)
def test_every_role_creates_uses_and_revokes_its_own_token(personas, role):
    persona = getattr(personas, role)
    before = tokens_of(persona.user)
    client = signed_in(persona.email)
    response = client.post("/app/account/tokens/", {"name": f"Script of {role}"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    raw = re.search(r'value="([^"]+)" readonly data-new-token', page).group(1)
    (token,) = [t for t in tokens_of(persona.user) if t not in before]
    assert token.name == f"Script of {role}" and raw.startswith(token.prefix)
    assert api_me(raw) == 200
    # Shown once: the list has only its first characters.
    again = client.get("/app/account/tokens/").content.decode()
    assert raw not in again and f"{token.prefix}…" in again
    response = client.post(f"/app/account/tokens/{token.public_id}/revoke")
    assert response.status_code == 302
    assert "is revoked" in client.get(response["Location"]).content.decode()
    assert api_me(raw) == 401
    with scope(company=personas.company_a.pk):
        actions = list(AuditEntry.objects.filter(object_id=token.public_id)
                       .values_list("action", flat=True).order_by("id"))
    assert actions == ["api_token.created", "api_token.revoked"]


def test_bad_names_are_refused_in_place(personas):
    before = tokens_of(personas.tech_a.user)  # the fixture's own
    client = signed_in("tech1@alpha.test")
    response = client.post("/app/account/tokens/", {"name": ""})
    assert response.status_code == 400 and "Name: Name the token." in response.content.decode()
    response = client.post("/app/account/tokens/", {"name": "x" * 101})
    assert response.status_code == 400
    assert "Name: Ensure this value has at most 100 characters" in response.content.decode()
    assert tokens_of(personas.tech_a.user) == before


def test_another_users_or_companys_token_is_404_and_stays_usable(personas):
    p = personas
    with scope(company=p.company_a.pk):
        colleague, colleague_raw = issue_api_token(p.tech2_a.membership, name="Tech2's")
    with scope(company=p.company_b.pk):
        theirs, theirs_raw = issue_api_token(p.owner_b.membership, name="Bravo's")
    owner = signed_in("owner@alpha.test")
    for token in (colleague, theirs):
        assert owner.post(f"/app/account/tokens/{token.public_id}/revoke").status_code == 404
    page = owner.get("/app/account/tokens/").content.decode()
    assert "Tech2&#x27;s" not in page and "Bravo&#x27;s" not in page
    assert api_me(colleague_raw) == 200 and api_me(theirs_raw) == 200


def test_the_account_page_links_to_the_tokens(personas):
    page = signed_in("billing@alpha.test").get("/app/account/").content.decode()
    assert 'href="/app/account/tokens/"' in page
