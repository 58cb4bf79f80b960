"""``POST /invoices/generate-recurring`` with any date the document allows: a run far ahead
answered a 500 (one OR-ed condition per usage window: SQLite refuses more than 1000), and a
contract catching up many years of periods did too."""

from __future__ import annotations

from django_scopes import scope

from tests.test_api_contract import object_ids, row_counts


def test_as_of_far_ahead_answers_422_naming_it(personas):
    object_ids(personas)
    before = row_counts()
    response = personas.owner_a.api.post("/invoices/generate-recurring",
                                         {"preview": False, "as_of": "2162-12-08"})
    assert response.status_code == 422, response.data
    assert response.data["error"]["field"] == "as_of"
    assert row_counts() == before


def test_a_contract_catching_up_decades_of_usage_periods_is_billed(personas):
    from nestogy.contracts.actions import create_contract, record_usage

    with scope(company=personas.company_a.pk):
        contract = create_contract(personas.company_a, personas.client_a, {
            "name": "Old", "start_date": "1900-01-01", "billing_cycle": "monthly",
            "items": [{"kind": "metered", "description": "Backup", "metric": "GB",
                       "pricing": {"mode": "volume", "tiers": [{"up_to": None,
                                                                "unit_price": "1"}]}}]})
        item = contract.items.get()
        record_usage(item, {"quantity": "5", "occurred_at": "1950-06-10T10:00:00+00:00",
                            "idempotency_key": "old"})
    response = personas.owner_a.api.post("/invoices/generate-recurring", {"preview": True})
    assert response.status_code == 200, response.data
    mine = [i for i in response.data["invoices"] if i["contract_id"] == contract.public_id]
    assert len(mine) > 1500  # every month since 1900
    june = next(i for i in mine if i["period_start"] == "1950-07-01")
    assert june["total"] == "5.00"
