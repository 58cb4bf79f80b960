"""Work types in the workspace settings (Django test client): the list, adding one,
renaming it and changing its billable default, deactivating and reactivating (never
deleting); every view for every role, another company's work type, bad input named with
nothing written, audit entries, and what the time forms then offer."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.timesheets.actions import create_work_type
from nestogy.timesheets.models import WorkType
from nestogy.timesheets.queries import work_types
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
URL = "/app/settings/work-types/"


def add(company, name: str, billable: bool = True, **extra) -> WorkType:
    with scope(company=company.pk):
        return create_work_type(company, {"name": name, "billable": billable, **extra})


def rows(company) -> list[tuple[str, bool, bool]]:
    with scopes_disabled():
        return list(WorkType.objects.filter(company=company).order_by("name")
                    .values_list("name", "billable", "is_active"))


def audit(company, action: str) -> list[AuditEntry]:
    with scope(company=company.pk):
        return list(AuditEntry.objects.filter(action=action))


@pytest.mark.parametrize("role", ROLES)
def test_every_work_type_view_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    remote = add(p.company_a, "Remote support")
    onsite = add(p.company_a, "On-site")
    client = signed_in(persona.email)
    check_role_matrix(client, persona.role, [
        ("get", URL, {}, "time.own"),
        ("post", f"{URL}new", {"name": "Project", "billable": "on"}, "company.settings"),
        ("post", f"{URL}{remote.public_id}/", {"name": "Remote", "billable": "on"},
         "company.settings"),
        ("post", f"{URL}{onsite.public_id}/active", {"active": "0"}, "company.settings"),
    ])
    may = allowed(persona.role, "company.settings")
    expected = ([("On-site", True, False), ("Project", True, True), ("Remote", True, True)]
                if may else [("On-site", True, True), ("Remote support", True, True)])
    assert rows(p.company_a) == expected
    settings_page = client.get("/app/settings/")
    if settings_page.status_code == 200:
        assert (f'href="{URL}"' in settings_page.content.decode()) == \
            allowed(persona.role, "time.own")
    if allowed(persona.role, "time.own"):
        page = client.get(URL).content.decode()
        assert 'data-work-type="On-site"' in page
        assert ('action="/app/settings/work-types/new"' in page) == may


def test_a_work_type_is_added_renamed_and_its_billable_default_changed(personas):
    p = personas
    client = signed_in("owner@alpha.test")
    body = client.post(f"{URL}new", {"name": "After hours"}, follow=True).content.decode()
    assert "Work type After hours added (not billable)." in body
    assert 'data-work-type="After hours"' in body
    assert rows(p.company_a) == [("After hours", False, True)]
    (created,) = audit(p.company_a, "work_type.created")
    assert created.data == {"name": "After hours", "billable": False}
    with scope(company=p.company_a.pk):
        after = WorkType.objects.get()
    body = client.post(f"{URL}{after.public_id}/", {"name": "Out of hours", "billable": "on"},
                       follow=True).content.decode()
    assert "After hours: renamed Out of hours and billable by default." in body
    assert rows(p.company_a) == [("Out of hours", True, True)]
    (updated,) = audit(p.company_a, "work_type.updated")
    assert updated.data == {"name": "Out of hours", "billable": True}
    body = client.post(f"{URL}{after.public_id}/", {"name": "Out of hours", "billable": "on"},
                       follow=True).content.decode()
    assert "Out of hours: nothing changed." in body
    assert len(audit(p.company_a, "work_type.updated")) == 1


def test_deactivated_types_are_no_longer_offered_and_come_back(personas):
    p = personas
    remote = add(p.company_a, "Remote support")
    add(p.company_a, "On-site")
    client = signed_in("admin@alpha.test")
    body = client.post(f"{URL}{remote.public_id}/active", {"active": "0"},
                       follow=True).content.decode()
    assert "Remote support is no longer offered for new time" in body
    assert "Inactive" in body
    with scope(company=p.company_a.pk):
        assert [w.name for w in work_types()] == ["On-site"]
    body = client.post(f"{URL}{remote.public_id}/active", {"active": "1"},
                       follow=True).content.decode()
    assert "Remote support is offered for new time again." in body
    with scope(company=p.company_a.pk):
        assert [w.name for w in work_types()] == ["On-site", "Remote support"]
    entries = audit(p.company_a, "work_type.updated")
    assert sorted(str(e.data) for e in entries) == sorted(
        [str({"is_active": False}), str({"is_active": True})])
    response = client.post(f"{URL}{remote.public_id}/active", {"active": "maybe"})
    assert response.status_code == 400 and "Active: choose to deactivate or reactivate." in \
        response.content.decode()


@pytest.mark.parametrize(("name", "message"), [
    ("", "Name: Must not be empty."),
    ("   ", "Name: Must not be empty."),
    ("on-SITE", "Name: A work type named on-SITE already exists."),
    ("x" * 101, "Name: Must be at most 100 characters."),
])
def test_bad_new_names_are_named_and_nothing_is_written(personas, name, message):
    p = personas
    add(p.company_a, "On-site")
    response = signed_in("owner@alpha.test").post(f"{URL}new", {"name": name,
                                                                "billable": "on"})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and 'id="wt-new-error"' in body
    assert rows(p.company_a) == [("On-site", True, True)]
    assert len(audit(p.company_a, "work_type.created")) == 1


@pytest.mark.parametrize(("name", "message"), [
    ("", "Name: Must not be empty."),
    ("remote SUPPORT", "Name: A work type named remote SUPPORT already exists."),
])
def test_bad_renames_are_named_and_nothing_is_written(personas, name, message):
    p = personas
    add(p.company_a, "Remote support")
    onsite = add(p.company_a, "On-site", billable=False)
    response = signed_in("owner@alpha.test").post(f"{URL}{onsite.public_id}/",
                                                  {"name": name, "billable": "on"})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and f'id="wt-error-{onsite.public_id}"' in body
    assert rows(p.company_a) == [("On-site", False, True), ("Remote support", True, True)]
    assert audit(p.company_a, "work_type.updated") == []


def test_another_companys_work_type_is_not_found(personas):
    p = personas
    bravo = add(p.company_b, "Bravo only")
    add(p.company_a, "Remote support")
    client = signed_in("owner@alpha.test")
    assert "Bravo only" not in client.get(URL).content.decode()
    assert client.post(f"{URL}{bravo.public_id}/", {"name": "Taken over"}).status_code == 404
    assert client.post(f"{URL}{bravo.public_id}/active", {"active": "0"}).status_code == 404
    assert rows(p.company_b) == [("Bravo only", True, True)]
    # names are unique per company: A may use B's name
    client.post(f"{URL}new", {"name": "Bravo only", "billable": "on"})
    assert ("Bravo only", True, True) in rows(p.company_a)
