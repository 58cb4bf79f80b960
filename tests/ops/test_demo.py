import pytest
from django_scopes import scopes_disabled

from nestogy.accounts.models import Membership
from nestogy.clients.models import Client, Contact, Site
from nestogy.ops.demo import seed_demo
from nestogy.tenancy.models import Company


@pytest.mark.django_db
def test_demo_seeds_two_companies_once():
    lines = []
    result = seed_demo(report=lines.append)
    assert result.created
    assert Company.objects.count() == 2
    with scopes_disabled():
        north = Company.objects.get(slug="northwind-managed-it")
        assert Client.objects.filter(company=north).count() == 25
        assert Site.objects.filter(company=north).count() >= 25
        assert Contact.objects.filter(company=north, portal_access=True).count() == 25
        technicians = Membership.objects.filter(company=north, role="technician")
        assert technicians.count() == 8
        skills = [m.technician.skills for m in technicians]
        assert len({tuple(sorted(s)) for s in skills}) == 8  # varied skills
    assert any("clients 25/25" in line for line in lines)
    assert ("Northwind Managed IT owner", "owner@northwind.example",
            "nestogy-demo") in result.logins
    assert not seed_demo(report=lines.append).created
    assert Company.objects.count() == 2


@pytest.mark.django_db
def test_demo_logins_work(client):
    seed_demo(report=lambda _: None)
    assert client.login(username="operator@nestogy.example", password="nestogy-demo")
    assert client.get("/admin/").status_code == 200  # the operators' console
    client.logout()
    assert client.login(username="owner@northwind.example", password="nestogy-demo")
    assert client.get("/admin/").status_code == 302  # staff work in /app/
    assert client.get("/app/").status_code == 200
    client.logout()
    assert client.login(username="manager@northwind.example", password="nestogy-demo")
