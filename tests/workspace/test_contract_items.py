"""Rewording and removing a contract's items in the workspace: words change for the next
invoices only; an item added by mistake goes, one that was invoiced or has usage stays with
the reason shown; every role, another company's contract and item, bad input."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.billing import recurring
from nestogy.billing.models import InvoiceLine
from nestogy.contracts.actions import record_usage
from nestogy.contracts.models import ContractItem
from tests.billing import helpers
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def fixed_item(contract):
    with scopes_disabled():
        return helpers.fixed_item(contract)


def metered_item(contract):
    with scopes_disabled():
        return helpers.metered_item(contract)


def make_contract(*args, **kwargs):
    return helpers.make_contract(*args, **kwargs)


def _contract(p, company=None, client=None, **extra):
    with scope(company=(company or p.company_a).pk):
        return make_contract(company or p.company_a, client or p.client_a,
                             start="2027-01-01", **extra)


def _url(contract, item, tail=""):
    return f"/app/contracts/{contract.public_id}/items/{item.public_id}/{tail}"


def _items(contract):
    with scopes_disabled():
        return {i.public_id: i.description for i in ContractItem.objects.filter(
            contract=contract)}


def test_rewording_changes_the_next_invoices_not_the_written_ones(personas):
    p = personas
    with scope(company=p.company_a.pk):
        contract = make_contract(p.company_a, p.client_a, start="2025-01-01", metered=False)
        item = fixed_item(contract)
        recurring.run_recurring(p.company_a, contract.start_date)
    clerk = signed_in("billing@alpha.test")
    page = clerk.get(_url(contract, item)).content.decode()
    assert 'value="Managed workstation"' in page
    assert "cannot be removed: it has been invoiced" in page
    assert "/remove" not in page  # no button to a refusal
    response = clerk.post(_url(contract, item), {"description": "  Managed desktop  "})
    assert response.status_code == 302
    assert _items(contract)[item.public_id] == "Managed desktop"
    with scopes_disabled():
        written = set(InvoiceLine.objects.filter(contract_item=item).values_list(
            "description", flat=True))
        entry = AuditEntry.objects.get(action="contract.item_renamed")
    assert written and not any("Managed desktop" in d for d in written)
    assert entry.data == {"item_id": item.public_id, "from": "Managed workstation",
                          "to": "Managed desktop"}
    assert "Managed desktop" in clerk.get(f"/app/contracts/{contract.public_id}/"
                                          ).content.decode()


def test_an_item_added_by_mistake_is_removed(personas):
    p = personas
    contract = _contract(p)
    metered = metered_item(contract)
    owner = signed_in("owner@alpha.test")
    page = owner.get(_url(contract, metered)).content.decode()
    assert "It has never been invoiced" in page
    response = owner.post(_url(contract, metered, "remove"))
    assert response.status_code == 302
    assert metered.public_id not in _items(contract)
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="contract.item_removed").count() == 1
    assert "is removed from" in owner.get(response.url).content.decode()


def test_an_invoiced_item_or_one_with_usage_stays(personas):
    p = personas
    with scope(company=p.company_a.pk):
        contract = make_contract(p.company_a, p.client_a, start="2025-01-01")
        record_usage(metered_item(contract), {"quantity": "3",
                                              "occurred_at": "2025-01-05T10:00:00+00:00",
                                              "idempotency_key": "k1"})
        recurring.run_recurring(p.company_a, contract.start_date)
    other = _contract(p, client=p.client_a2)
    with scope(company=p.company_a.pk):
        record_usage(metered_item(other), {"quantity": "3",
                                           "occurred_at": "2027-01-05T10:00:00+00:00",
                                           "idempotency_key": "k2"})
    owner = signed_in("owner@alpha.test")
    before = _items(contract) | _items(other)
    refused = owner.post(_url(contract, fixed_item(contract), "remove"))
    assert refused.status_code == 409
    assert "Not removed: Managed workstation cannot be removed: it has been invoiced" in \
        refused.content.decode()
    usage = owner.post(_url(other, metered_item(other), "remove"))
    assert usage.status_code == 409 and "usage has been recorded on it" in usage.content.decode()
    assert _items(contract) | _items(other) == before
    with scopes_disabled():
        assert not AuditEntry.objects.filter(action="contract.item_removed").exists()


@pytest.mark.parametrize("description, message", [
    ("", "This field is required."),
    ("   ", "This field is required."),
    ("x" * 301, "at most 300 characters"),
])
def test_bad_input_names_the_field_and_writes_nothing(personas, description, message):
    p = personas
    contract = _contract(p)
    item = fixed_item(contract)
    response = signed_in("owner@alpha.test").post(_url(contract, item),
                                                  {"description": description})
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and 'for="id_description"' in page
    assert _items(contract)[item.public_id] == "Managed workstation"


def test_another_companys_contract_and_item_are_404(personas):
    p = personas
    mine = _contract(p)
    theirs = _contract(p, company=p.company_b, client=p.client_b)
    owner = signed_in("owner@alpha.test")
    their_item = fixed_item(theirs)
    for url in (_url(theirs, their_item), _url(mine, their_item)):
        assert owner.get(url).status_code == 404
        assert owner.post(url, {"description": "Taken"}).status_code == 404
    assert owner.post(_url(theirs, their_item, "remove")).status_code == 404
    assert owner.post(_url(mine, their_item, "remove")).status_code == 404
    assert _items(theirs)[their_item.public_id] == "Managed workstation"


@pytest.mark.parametrize("role", ROLES)
def test_every_item_view_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    contract = _contract(p)
    fixed, metered = fixed_item(contract), metered_item(contract)
    check_role_matrix(signed_in(persona.email), persona.role, [
        ("get", _url(contract, fixed), {}, "contracts.manage"),
        ("post", _url(contract, fixed), {"description": f"By {role}"}, "contracts.manage"),
        ("post", _url(contract, metered, "remove"), {}, "contracts.manage"),
    ])
    may = allowed(persona.role, "contracts.manage")
    assert (_items(contract).get(fixed.public_id) == f"By {role}") == may
    assert (metered.public_id not in _items(contract)) == may
    page = signed_in(persona.email).get(f"/app/contracts/{contract.public_id}/")
    if page.status_code == 200:
        assert ("Reword or remove" in page.content.decode()) == may
