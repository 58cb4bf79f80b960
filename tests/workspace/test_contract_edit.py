"""Writing contracts in the workspace (Django test client): a new contract with fixed and
metered items (tiers line by line), editing terms and adding items, the frozen fields of an
invoiced contract, errors named by field or item with nothing written; every role, another
company's clients, contracts and policies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.billing import recurring
from nestogy.contracts.models import Contract
from nestogy.sla.models import SLAPolicy
from nestogy.tenancy.queries import company_today
from tests.billing.helpers import make_contract
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def form(p, client=None, **extra) -> dict:
    data = {"client": (client or p.client_a).public_id, "name": "Managed IT 2027",
            "start_date": "2027-01-01", "end_date": "2027-12-31", "billing_cycle": "monthly",
            "billing_anchor_day": "", "currency": "USD", "payment_terms_days": "30",
            "tax_rate_percent": "8.25", "auto_renew": "on", "renewal_term_months": "12",
            "renewal_uplift_percent": "3", "renewal_notice_days": "45", "sla_policy": "",
            "rows": "2",
            "item-0-kind": "fixed", "item-0-description": "Managed workstation",
            "item-0-quantity": "12", "item-0-unit_price": "45.00", "item-0-taxable": "on",
            "item-1-kind": "metered", "item-1-description": "Backup storage",
            "item-1-metric": "GB", "item-1-tiers": "100 0.10 5\n1000 0.05\n- 0.02",
            "item-1-mode": "graduated", "item-1-taxable": "on"}
    data.update(extra)
    return data


def contracts(company) -> list[Contract]:
    with scopes_disabled():
        return list(Contract.objects.filter(company=company).order_by("id"))


def test_a_contract_is_created_with_fixed_and_metered_items(personas):
    p = personas
    response = signed_in("billing@alpha.test").post("/app/contracts/new", form(p))
    [contract] = contracts(p.company_a)
    assert response.status_code == 302 and response.url == f"/app/contracts/{contract.public_id}/"
    assert (contract.name, contract.auto_renew, contract.renewal_notice_days) == (
        "Managed IT 2027", True, 45)
    assert contract.tax_rate_percent == Decimal("8.25")
    with scopes_disabled():
        fixed, metered = contract.items.order_by("position")
    assert (fixed.kind, fixed.quantity, fixed.unit_price) == ("fixed", Decimal(12),
                                                              Decimal("45.00"))
    assert metered.pricing["mode"] == "graduated"
    assert [t["up_to"] for t in metered.pricing["tiers"]] == ["100", "1000", None]


def test_terms_are_edited_and_items_added(personas):
    p = personas
    client = signed_in("owner@alpha.test")
    client.post("/app/contracts/new", form(p))
    [contract] = contracts(p.company_a)
    page = client.get(f"/app/contracts/{contract.public_id}/edit").content.decode()
    assert 'value="Managed IT 2027"' in page and 'value="45"' in page
    response = client.post(f"/app/contracts/{contract.public_id}/edit", form(
        p, name="Managed IT 2027 (gold)", renewal_uplift_percent="4", rows="1",
        **{"item-0-description": "Firewall care", "item-0-quantity": "1",
           "item-0-unit_price": "99"}))
    assert response.status_code == 302
    [contract] = contracts(p.company_a)
    assert contract.name == "Managed IT 2027 (gold)"
    assert contract.renewal_uplift_percent == Decimal(4)
    with scopes_disabled():
        assert [i.description for i in contract.items.order_by("position")] == [
            "Managed workstation", "Backup storage", "Firewall care"]


def test_an_invoiced_contract_keeps_its_billing_shape(personas):
    p = personas
    with scope(company=p.company_a.pk):
        today = company_today(p.company_a)
        contract = make_contract(p.company_a, p.client_a, start=today.replace(day=1)
                                 .isoformat(), metered=False)
        recurring.run_recurring(p.company_a, today, issue=True)
    client = signed_in("owner@alpha.test")
    data = form(p, name=contract.name, start_date=today.replace(day=1).isoformat(),
                end_date="", auto_renew="", billing_cycle="quarterly", rows="0")
    response = client.post(f"/app/contracts/{contract.public_id}/edit", data)
    assert response.status_code == 409
    assert "billing_cycle cannot change once the contract has been invoiced" in \
        response.content.decode()
    # the same form with the cycle unchanged saves
    data["billing_cycle"] = "monthly"
    data["payment_terms_days"] = "14"
    assert client.post(f"/app/contracts/{contract.public_id}/edit", data).status_code == 302
    [contract] = contracts(p.company_a)
    assert contract.payment_terms_days == 14 and contract.billing_cycle == "monthly"


@pytest.mark.parametrize(("changes", "message"), [
    ({"client": ""}, "Client: choose one of your clients."),
    ({"name": ""}, "Name:"),
    ({"start_date": "soon"}, "Start date:"),
    ({"end_date": "2026-01-01"}, "End date: must be on or after start_date."),
    ({"end_date": ""}, "End date: is required for an auto-renewing contract."),
    ({"billing_cycle": "hourly"}, "Billing cycle: must be one of"),
    ({"payment_terms_days": "many"}, "Payment terms: must be a whole number."),
    ({"tax_rate_percent": "120"}, "Tax rate:"),
    ({"currency": "dollars"}, "Currency:"),
    ({"item-0-unit_price": "lots"}, "Item 1, unit price:"),
    ({"item-1-tiers": "100"}, "Item 2, tiers: write each tier as"),
    ({"item-1-tiers": "100 0.10\n50 0.05"}, "Item 2, tiers:"),
    ({"item-1-metric": ""}, "Item 2, unit:"),
    ({"sla_policy": "slp_nope"}, "SLA policy: choose one of your SLA policies."),
])
def test_bad_input_is_named_and_nothing_is_written(personas, changes, message):
    p = personas
    data = form(p)
    data.update(changes)
    response = signed_in("billing@alpha.test").post("/app/contracts/new", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert contracts(p.company_a) == []


def test_another_companys_clients_contracts_and_policies_are_refused(personas):
    p = personas
    with scope(company=p.company_b.pk):
        theirs = make_contract(p.company_b, p.client_b, start="2027-01-01", metered=False)
        their_policy = SLAPolicy.objects.get(is_default=True)
    client = signed_in("owner@alpha.test")
    response = client.post("/app/contracts/new", form(p, client=p.client_b))
    assert "Client: choose one of your clients." in response.content.decode()
    response = client.post("/app/contracts/new", form(p, sla_policy=their_policy.public_id))
    assert "SLA policy: choose one of your SLA policies." in response.content.decode()
    assert contracts(p.company_a) == []
    assert client.get(f"/app/contracts/{theirs.public_id}/edit").status_code == 404
    assert client.post(f"/app/contracts/{theirs.public_id}/edit",
                       form(p, name="Hijacked")).status_code == 404
    [unchanged] = contracts(p.company_b)
    assert unchanged.name == theirs.name


@pytest.mark.parametrize("role", ROLES)
def test_writing_contracts_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    check_role_matrix(signed_in(persona.email), persona.role, [
        ("get", "/app/contracts/new", {}, "contracts.manage"),
        ("post", "/app/contracts/new", form(p, name=f"By {role}"), "contracts.manage"),
    ])
    made = [c.name for c in contracts(p.company_a)]
    assert (made == [f"By {role}"]) == allowed(persona.role, "contracts.manage")
