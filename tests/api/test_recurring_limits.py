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
    api = personas.owner_a.api
    preview = api.post("/invoices/generate-recurring", {"preview": True})
    assert preview.status_code == 200, preview.data
    mine = [i for i in preview.data["invoices"] if i["contract_id"] == contract.public_id]
    assert 250 < len(mine) <= 260  # a run bills at most 260 periods of a contract
    periods = []
    for _ in range(8):  # the following runs continue where the last one stopped
        run = api.post("/invoices/generate-recurring", {"preview": False})
        assert run.status_code == 200, run.data
        periods += [i["period_start"] for i in run.data["invoices"]
                    if i["contract_id"] == contract.public_id]
    assert len(periods) == len(set(periods)) > 1500  # every month since 1900, once
    with scope(company=personas.company_a.pk):
        from nestogy.billing.models import Invoice

        june = Invoice.objects.get(contract=contract, period_start="1950-07-01")
        assert june.total == 5
