"""The admin is the operators' console: an MSP's staff, owners included, cannot sign in to
it or open any of its pages, whatever their role; operators (superusers) can."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client as HttpClient
from django_scopes import scope

from nestogy.accounts.admin_login import NOT_AN_OPERATOR
from nestogy.clients.models import Client
from tests.conftest import PASSWORD
from tests.support.admin_forms import OPERATOR_EMAIL, operator

STAFF = ["owner@alpha.test", "admin@alpha.test", "manager@alpha.test", "tech1@alpha.test",
         "billing@alpha.test"]


def _admin_urls():
    """The index, every registered model's list and add page, and the operators' page."""
    urls = ["/admin/", "/admin/platform/"]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(f"/admin/{meta.app_label}/{meta.model_name}/")
        urls.append(f"/admin/{meta.app_label}/{meta.model_name}/add/")
    return urls


@pytest.mark.parametrize("email", STAFF)
def test_staff_cannot_sign_in_to_the_admin(personas, email):
    http = HttpClient()
    page = http.post("/admin/login/?next=/admin/", {"username": email, "password": PASSWORD})
    assert page.status_code == 200  # the form again, not a redirect into the admin
    assert NOT_AN_OPERATOR in page.content.decode()
    assert "/app/login/" in page.content.decode()
    assert http.get("/admin/").status_code == 302


@pytest.mark.parametrize("email", STAFF)
def test_a_workspace_session_opens_no_admin_page(personas, email):
    http = HttpClient()
    assert http.post("/app/login/", {"email": email, "password": PASSWORD}).status_code == 302
    assert http.get("/app/").status_code in (200, 403)  # signed in to the workspace
    for url in _admin_urls():
        response = http.get(url)
        if url == "/admin/platform/":
            assert response.status_code == 403
            continue
        assert response.status_code in (302, 404), url
        if response.status_code == 302:
            assert response["Location"].startswith("/admin/login/"), url


def test_staff_write_nothing_through_the_admin(personas):
    http = HttpClient()
    http.force_login(personas.owner_a.user)
    response = http.post("/admin/clients/client/add/", {
        "name": "Through the admin", "status": "active",
        "sites-TOTAL_FORMS": "0", "sites-INITIAL_FORMS": "0",
        "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    with scope(company=personas.company_a.pk):
        assert not Client.objects.filter(name="Through the admin").exists()


def test_a_wrong_password_and_a_staff_password_read_the_same(personas):
    wrong = HttpClient().post("/admin/login/", {"username": "owner@alpha.test",
                                                "password": "not-the-password"})
    right = HttpClient().post("/admin/login/", {"username": "owner@alpha.test",
                                                "password": PASSWORD})
    assert NOT_AN_OPERATOR in wrong.content.decode()
    assert NOT_AN_OPERATOR in right.content.decode()


def test_an_operator_signs_in_and_sees_every_company(personas):
    http = HttpClient()
    operator()
    page = http.post("/admin/login/?next=/admin/", {"username": OPERATOR_EMAIL,
                                                    "password": PASSWORD})
    assert page.status_code == 302 and page["Location"] == "/admin/"
    index = http.get("/admin/").content.decode()
    assert 'href="/admin/platform/"' in index
    clients = http.get("/admin/clients/client/").content.decode()
    assert "Acme Dental" in clients and "Bravo Client" in clients
    platform = http.get("/admin/platform/").content.decode()
    assert "Alpha IT" in platform and "Bravo IT" in platform


def test_an_inactive_operator_is_refused(personas):
    http = operator()
    from nestogy.accounts.models import User

    User.objects.filter(email=OPERATOR_EMAIL).update(is_active=False)
    assert http.get("/admin/").status_code == 302
