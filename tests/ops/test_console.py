"""The operators' console (/admin/platform/): companies with their usage, switching a
company off (its staff and tokens stop, nothing is deleted) and on, the task queue and the
outbox; tenant staff of every role are refused."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django_scopes import scope, scopes_disabled

from nestogy.accounts.models import User
from nestogy.audit.models import AuditEntry
from tests.conftest import PASSWORD
from tests.portal.helpers import invoice
from tests.workspace.helpers import ticket

pytestmark = pytest.mark.django_db

URL = "/admin/platform/"


def operator() -> HttpClient:
    User.objects.create_superuser("root@nestogy.test", PASSWORD)
    http = HttpClient()
    assert http.login(username="root@nestogy.test", password=PASSWORD)
    return http


def test_the_operator_sees_every_company_with_its_usage(personas):
    p = personas
    ticket(p.company_a, p.client_a, "One")
    ticket(p.company_a, p.client_a, "Two")
    with scope(company=p.company_b.pk):
        invoice(p.client_b, "50.00")
    body = operator().get(URL).content.decode()
    a = body.split(f'data-company="{p.company_a.slug}"')[1].split("</tr>")[0]
    b = body.split(f'data-company="{p.company_b.slug}"')[1].split("</tr>")[0]
    assert "<td>2 (2)</td>" in a  # two tickets, both open
    assert "<td>2</td>" in a  # two clients
    assert "<td>1</td>" in b  # one invoice (and one client)
    assert 'data-table="queues"' in body and 'data-table="outbox"' in body


def test_switching_a_company_off_stops_its_staff_and_tokens_and_on_restores(personas):
    p = personas
    http = operator()
    assert p.owner_a.api.get("/clients").status_code == 200
    body = http.post(URL, {"company": p.company_a.public_id, "action": "deactivate"},
                     follow=True).content.decode()
    assert "Alpha IT is switched off." in body
    assert p.owner_a.api.get("/clients").status_code == 401
    staff = HttpClient()
    staff.post("/app/login/", {"email": "owner@alpha.test", "password": PASSWORD})
    assert staff.get("/app/").status_code in (302, 403)
    assert p.owner_b.api.get("/clients").status_code == 200  # the others carry on
    http.post(URL, {"company": p.company_a.public_id, "action": "activate"})
    assert p.owner_a.api.get("/clients").status_code == 200
    with scopes_disabled():
        actions = list(AuditEntry.objects.filter(company=p.company_a).filter(
            action__in=["company.deactivated", "company.reactivated"])
            .order_by("id").values_list("action", flat=True))
    assert actions == ["company.deactivated", "company.reactivated"]


def test_an_unknown_company_is_refused(personas):
    body = operator().post(URL, {"company": "co_nope", "action": "deactivate"},
                           follow=True).content.decode()
    assert "No such company." in body


@pytest.mark.parametrize("email", ["owner@alpha.test", "admin@alpha.test",
                                   "manager@alpha.test", "tech1@alpha.test",
                                   "billing@alpha.test"])
def test_tenant_staff_are_refused(personas, email):
    http = HttpClient()
    assert http.login(username=email, password=PASSWORD)
    response = http.get(URL)
    assert response.status_code in (302, 403)
    response = http.post(URL, {"company": personas.company_b.public_id,
                               "action": "deactivate"})
    assert response.status_code in (302, 403)
    personas.company_b.refresh_from_db()
    assert personas.company_b.is_active
