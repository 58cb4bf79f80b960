import pytest

from nestogy.accounts.models import User
from tests.conftest import PASSWORD
from tests.support.admin_forms import login


def test_owner_sees_only_own_company_in_admin(personas):
    http = login("owner@alpha.test")
    page = http.get("/admin/clients/client/")
    assert page.status_code == 200
    assert b"Acme Dental" in page.content
    assert b"Bravo Client" not in page.content
    with pytest.MonkeyPatch.context():
        other = http.get(f"/admin/clients/client/{personas.client_b.pk}/change/")
    assert other.status_code in (302, 404)
    if other.status_code == 302:  # Django admin redirects to the index for a missing object
        assert http.get(other["Location"]).status_code == 200


def test_owner_adds_client_in_admin_for_own_company(personas):
    http = login("owner@alpha.test")
    response = http.post("/admin/clients/client/add/", {
        "name": "Admin Made", "status": "active", "email": "", "phone": "", "website": "",
        "notes": "",
        "sites-TOTAL_FORMS": "0", "sites-INITIAL_FORMS": "0",
        "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content[:2000]
    from django_scopes import scope

    from nestogy.clients.models import Client

    with scope(company=personas.company_a.pk):
        assert Client.objects.get(name="Admin Made").company_id == personas.company_a.pk


def test_technician_can_view_but_not_change(personas):
    http = login("tech1@alpha.test")
    assert http.get("/admin/clients/client/").status_code == 200
    assert http.get("/admin/clients/client/add/").status_code == 403
    assert http.get("/admin/audit/auditentry/").status_code == 403


def test_superuser_sees_every_company(personas):
    User.objects.create_superuser("root@nestogy.test", PASSWORD)
    http = login("root@nestogy.test")
    page = http.get("/admin/clients/client/")
    assert b"Acme Dental" in page.content and b"Bravo Client" in page.content


def test_every_model_is_registered_in_admin():
    from django.apps import apps
    from django.contrib import admin

    missing = [m._meta.label for m in apps.get_models()
               if m.__module__.startswith("nestogy.") and m not in admin.site._registry]
    assert not missing, f"register these models in their app's admin.py: {missing}"
