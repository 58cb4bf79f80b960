"""Contracts, usage and the tier calculator through the API."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django_scopes import scopes_disabled

from nestogy.contracts.models import Contract, ContractItem, ContractItemQuantity, UsageRecord

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "billing_public.json")
                     .read_text())


def contract_body(p, **extra):
    body = {"client_id": p.client_a.public_id, "name": "Managed services",
            "start_date": "2025-03-15", "billing_cycle": "monthly", "currency": "USD",
            "payment_terms_days": 14, "tax_rate_percent": "8.25", "auto_renew": True,
            "end_date": "2026-03-14", "renewal_term_months": 12,
            "renewal_uplift_percent": "3", "renewal_notice_days": 45,
            "items": [{"kind": "fixed", "description": "Seats", "quantity": "12",
                       "unit_price": "35.00"},
                      {"kind": "metered", "description": "Backup", "metric": "GB",
                       "pricing": {"mode": "volume", "tiers": [
                           {"up_to": 100, "unit_price": "0.2", "flat_fee": "1"},
                           {"up_to": None, "unit_price": "0.1"}]}}]}
    body.update(extra)
    return body


def test_create_get_patch_list_contract(personas):
    api = personas.billing_a.api
    created = api.post("/contracts", contract_body(personas))
    assert created.status_code == 201, created.data
    data = created.data
    assert data["billing_anchor_day"] == 15  # default: the start date's day
    assert data["tax_rate_percent"] == "8.25"
    assert [i["kind"] for i in data["items"]] == ["fixed", "metered"]
    assert data["items"][0]["unit_price"] == "35"
    assert data["items"][1]["pricing"]["mode"] == "volume"
    got = api.get(f"/contracts/{data['id']}")
    assert got.status_code == 200 and got.data["name"] == "Managed services"
    patched = api.patch(f"/contracts/{data['id']}", {"renewal_notice_days": 60,
                                                     "name": "Managed services 2025"})
    assert patched.status_code == 200, patched.data
    assert patched.data["renewal_notice_days"] == 60
    listed = api.get("/contracts", client_id=personas.client_a.public_id)
    assert [c["id"] for c in listed.data["items"]] == [data["id"]]
    assert personas.owner_b.api.get("/contracts").data["items"] == []


def test_weekly_anchor_defaults_to_iso_weekday(personas):
    body = contract_body(personas, billing_cycle="weekly", start_date="2022-06-22",
                         auto_renew=False, end_date=None)
    created = personas.owner_a.api.post("/contracts", body)
    assert created.status_code == 201 and created.data["billing_anchor_day"] == 3


@pytest.mark.parametrize(("change", "field"), [
    ({"billing_cycle": "fortnightly"}, "billing_cycle"),
    ({"billing_anchor_day": 32}, "billing_anchor_day"),
    ({"billing_cycle": "weekly", "billing_anchor_day": 9}, "billing_anchor_day"),
    ({"currency": "dollars"}, "currency"),
    ({"tax_rate_percent": 8.25001}, "tax_rate_percent"),  # 5 places; at most 4
    ({"end_date": "2025-01-01"}, "end_date"),
    ({"items": [{"kind": "fixed", "description": "Seats", "quantity": "1",
                 "unit_price": 9.99999}]}, "items[0].unit_price"),  # 5 places; at most 4
    ({"items": [{"kind": "fixed", "description": "Seats", "quantity": "-1",
                 "unit_price": "1"}]}, "items[0].quantity"),
    ({"items": [{"kind": "metered", "description": "B", "metric": "GB",
                 "pricing": {"mode": "volume", "tiers": [{"up_to": 10, "unit_price": "1"},
                                                         {"up_to": 5, "unit_price": "1"}]}}]},
     "items[0].pricing.tiers[1].up_to"),
    ({"items": [{"kind": "hourly", "description": "x"}]}, "items[0].kind"),
])
def test_bad_contract_input_names_the_field_and_writes_nothing(personas, change, field):
    response = personas.owner_a.api.post("/contracts", contract_body(personas, **change))
    assert response.status_code == 422, response.data
    assert response.data["error"]["field"] == field
    with scopes_disabled():
        assert Contract.objects.count() == 0 and ContractItem.objects.count() == 0


def test_add_items_and_change_seats_over_time(personas):
    api = personas.owner_a.api
    contract = api.post("/contracts", contract_body(personas)).data
    patched = api.patch(f"/contracts/{contract['id']}", {"items": [
        {"kind": "fixed", "description": "Firewall", "quantity": "1", "unit_price": "60"}]})
    assert patched.status_code == 200
    assert [i["description"] for i in patched.data["items"]] == ["Seats", "Backup", "Firewall"]
    seats = contract["items"][0]["id"]
    changed = api.post(f"/contracts/{contract['id']}/items/{seats}/quantity",
                       {"quantity": "15", "effective_from": "2025-05-01"})
    assert changed.status_code == 200, changed.data
    with scopes_disabled():
        history = list(ContractItemQuantity.objects.filter(item__public_id=seats)
                       .order_by("effective_from").values_list("effective_from", "quantity"))
    assert [(d.isoformat(), q) for d, q in history] == [("2025-03-15", Decimal(12)),
                                                       ("2025-05-01", Decimal(15))]
    assert api.get(f"/contracts/{contract['id']}").data["items"][0]["quantity"] == "15"


def test_usage_repeat_with_same_key_changes_nothing(personas):
    api = personas.tech_a.api
    contract = personas.owner_a.api.post("/contracts", contract_body(personas)).data
    metered = contract["items"][1]["id"]
    body = {"contract_item_id": metered, "quantity": "12.5",
            "occurred_at": "2025-03-20T10:00:00+00:00", "idempotency_key": "agent-1-0320"}
    first = api.post("/usage", body)
    assert first.status_code == 201 and first.data["created"] is True
    again = api.post("/usage", {**body, "quantity": "99"})
    assert again.status_code == 200 and again.data["created"] is False
    assert again.data["id"] == first.data["id"] and again.data["quantity"] == "12.5"
    with scopes_disabled():
        assert UsageRecord.objects.count() == 1


def test_usage_rejects_fixed_items_floats_and_naive_times(personas):
    api = personas.owner_a.api
    contract = api.post("/contracts", contract_body(personas)).data
    fixed, metered = contract["items"][0]["id"], contract["items"][1]["id"]
    base = {"contract_item_id": metered, "quantity": "1",
            "occurred_at": "2025-03-20T10:00:00+00:00", "idempotency_key": "k"}
    for change, field in [({"contract_item_id": fixed}, "contract_item_id"),
                          ({"quantity": 1.0000001}, "quantity"),  # 7 places; at most 6
                          ({"quantity": "-2"}, "quantity"),
                          ({"occurred_at": "2025-03-20T10:00:00"}, "occurred_at")]:
        response = api.post("/usage", {**base, **change})
        assert response.status_code == 422, (change, response.data)
        assert response.data["error"]["field"] == field
    with scopes_disabled():
        assert UsageRecord.objects.count() == 0


def test_bulk_usage_skips_repeats_and_is_all_or_nothing(personas):
    api = personas.owner_a.api
    contract = api.post("/contracts", contract_body(personas)).data
    metered = contract["items"][1]["id"]
    records = [{"contract_item_id": metered, "quantity": str(i),
                "occurred_at": f"2025-03-{20 + i}T10:00:00+00:00", "idempotency_key": f"b{i}"}
               for i in range(5)]
    first = api.post("/usage/bulk", {"records": [*records, records[0]]})
    assert first.status_code == 200 and first.data == {"created": 5, "duplicates": 1}
    again = api.post("/usage/bulk", {"records": records})
    assert again.data == {"created": 0, "duplicates": 5}
    bad = api.post("/usage/bulk", {"records": [
        {**records[0], "idempotency_key": "new"},
        {**records[1], "idempotency_key": "new2", "quantity": "-1"}]})
    assert bad.status_code == 422 and bad.data["error"]["field"] == "records[1].quantity"
    with scopes_disabled():
        assert UsageRecord.objects.count() == 5


CASES = [(block["pricing"], qty, expected) for block in VECTORS["tier_quotes"]
         for qty, expected in block["cases"]]


@pytest.mark.parametrize(("pricing", "quantity", "expected"), CASES)
def test_quote_endpoint_matches_public_vectors(personas, pricing, quantity, expected):
    response = personas.billing_a.api.post("/pricing/quote",
                                           {"pricing": pricing, "quantity": str(quantity)})
    assert response.status_code == 200, response.data
    assert Decimal(response.data["amount"]) == Decimal(expected)
    assert sum(Decimal(t["amount"]) for t in response.data["tiers"]) == Decimal(expected)


def test_quote_rejects_bad_pricing(personas):
    response = personas.billing_a.api.post("/pricing/quote", {
        "pricing": {"mode": "volume", "tiers": [{"up_to": 5, "unit_price": "1"}]},
        "quantity": "-3"})
    assert response.status_code == 422 and response.data["error"]["field"] == "quantity"


def test_contract_list_query_count_does_not_grow(personas, django_assert_max_num_queries):
    api = personas.owner_a.api
    for i in range(6):
        api.post("/contracts", contract_body(personas, name=f"C{i}"))
    with django_assert_max_num_queries(8):
        response = api.get("/contracts")
    assert len(response.data["items"]) == 6
