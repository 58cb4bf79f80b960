"""Routing settings in the workspace (Django test client): weights and category
requirements saved through the routing actions (audited), refusals named with nothing
saved, every role, another company's table untouched."""

from __future__ import annotations

import pytest
from django_scopes import scope

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.routing.actions import category_table, set_category_skills
from nestogy.tenancy.models import Company
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
URL = "/app/settings/routing/"
WEIGHTS = {"form": "weights", "skill": "50", "familiarity": "20", "load": "30",
           "headroom": "10"}


def table(company) -> dict:
    with scope(company=company.pk):
        return category_table()


def test_weights_are_saved_as_overrides_of_the_defaults(personas):
    p = personas
    client = signed_in("manager@alpha.test")
    body = client.post(URL, dict(WEIGHTS, load="120", skill="50"), follow=True).content.decode()
    assert "Routing weights saved." in body
    assert Company.objects.get(pk=p.company_a.pk).get_setting("routing.weights") == {
        "load": 120}
    assert 'value="120"' in body
    with scope(company=p.company_a.pk):
        assert AuditEntry.objects.filter(action="routing.weights_set").count() == 1


@pytest.mark.parametrize(("data", "message"), [
    (dict(WEIGHTS, load="lots"), "Load: Enter a number."),
    (dict(WEIGHTS, load="-5"), "must be a number from 0 to"),
    (dict(WEIGHTS, skill="1e9"), "must be a number from 0 to"),
])
def test_bad_weights_are_named_and_nothing_is_saved(personas, data, message):
    response = signed_in("owner@alpha.test").post(URL, data)
    assert response.status_code == 400 and message in response.content.decode()
    assert Company.objects.get(pk=personas.company_a.pk).get_setting("routing.weights") == {}


def test_the_category_table_is_replaced_line_by_line(personas):
    p = personas
    with scope(company=p.company_a.pk):
        set_category_skills(p.company_a, "printers", {"printers": 2})
    client = signed_in("manager@alpha.test")
    page = client.get(URL).content.decode()
    assert 'value="printers:2"' in page
    body = client.post(URL, {"form": "categories", "rows": "3",
                             "category-0": "printers", "skills-0": "",
                             "category-1": "networking", "skills-1": "networking:3, Firewalls:2",
                             "category-2": "", "skills-2": ""}, follow=True).content.decode()
    assert "Category requirements saved." in body
    assert table(p.company_a) == {"networking": {"networking": 3, "firewalls": 2}}


@pytest.mark.parametrize(("rows", "message"), [
    ({"category-0": "networking", "skills-0": "networking"}, "Line 1: write each skill as"),
    ({"category-0": "networking", "skills-0": "networking:9"}, "Line 1, skills:"),
    ({"category-0": "", "skills-0": "networking:2"}, "Line 1, category:"),
    ({"category-0": "a", "skills-0": "x:1", "category-1": "a", "skills-1": "y:2"},
     "Line 2, category: is listed twice."),
])
def test_bad_lines_are_named_and_nothing_is_saved(personas, rows, message):
    p = personas
    with scope(company=p.company_a.pk):
        set_category_skills(p.company_a, "printers", {"printers": 2})
    response = signed_in("owner@alpha.test").post(URL, {"form": "categories", "rows": "2",
                                                        **rows})
    assert response.status_code == 400 and message in response.content.decode()
    assert table(p.company_a) == {"printers": {"printers": 2}}


def test_another_companys_table_is_untouched(personas):
    p = personas
    with scope(company=p.company_b.pk):
        set_category_skills(p.company_b, "bravo-only", {"sap": 4})
    client = signed_in("owner@alpha.test")
    assert "bravo-only" not in client.get(URL).content.decode()
    client.post(URL, {"form": "categories", "rows": "1", "category-0": "email",
                      "skills-0": "m365:2"})
    assert table(p.company_b) == {"bravo-only": {"sap": 4}}
    assert table(p.company_a) == {"email": {"m365": 2}}


@pytest.mark.parametrize("role", ROLES)
def test_routing_settings_ask_the_role_matrix(personas, role):
    persona = getattr(personas, role)
    check_role_matrix(signed_in(persona.email), persona.role, [
        ("get", URL, {}, "routing.manage"),
        ("post", URL, dict(WEIGHTS, headroom="15"), "routing.manage"),
    ])
    saved = Company.objects.get(pk=personas.company_a.pk).get_setting("routing.weights")
    assert (saved == {"headroom": 15}) == allowed(persona.role, "routing.manage")
