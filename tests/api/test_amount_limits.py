"""Amounts are stored with 10 integer digits (MONEY 14,4). A line, an invoice total or a
contract item whose quantity × unit_price cannot be stored is refused with 422 naming the
field and writes nothing (PostgreSQL answered "numeric field overflow", a 500, before), and
a recurring run leaves such a period unbilled instead of failing every contract."""

from __future__ import annotations

from tests.test_api_contract import object_ids, row_counts


def test_a_line_whose_amount_cannot_be_stored_answers_422(personas):
    ids = object_ids(personas)
    api = personas.owner_a.api
    before = row_counts()
    response = api.post("/invoices", {"client_id": ids["client_id"], "items": [
        {"description": "Huge", "quantity": "999999999", "unit_price": "9999999999"}]})
    assert response.status_code == 422, response.data
    assert response.data["error"]["field"] == "items[0].quantity"
    totals = api.post("/invoices", {"client_id": ids["client_id"], "items": [
        {"description": "Big", "unit_price": "6000000000", "taxable": False},
        {"description": "Big", "unit_price": "6000000000", "taxable": False}]})
    assert totals.status_code == 422 and totals.data["error"]["field"] == "items"
    assert row_counts() == before
    fits = api.post("/invoices", {"client_id": ids["client_id"], "items": [
        {"description": "Largest", "unit_price": "9999999999.99", "taxable": False}]})
    assert fits.status_code == 201 and fits.data["total"] == "9999999999.99"


def test_adding_lines_that_overflow_the_total_answers_422(personas):
    ids = object_ids(personas)
    api = personas.owner_a.api
    draft = api.post("/invoices", {"client_id": ids["client_id"], "items": [
        {"description": "Big", "unit_price": "9000000000", "taxable": False}]}).data
    before = row_counts()
    more = api.post(f"/invoices/{draft['id']}/items", {"items": [
        {"description": "More", "unit_price": "2000000000", "taxable": False}]})
    assert more.status_code == 422 and more.data["error"]["field"] == "items"
    assert row_counts() == before


def test_a_contract_item_billing_more_than_can_be_stored_answers_422(personas):
    ids = object_ids(personas)
    api = personas.owner_a.api
    before = row_counts()
    response = api.post("/contracts", {
        "client_id": ids["client_id"], "name": "Huge", "start_date": "2025-01-01",
        "billing_cycle": "monthly", "items": [
            {"kind": "fixed", "description": "Seats", "quantity": "999999999",
             "unit_price": "9999999999"}]})
    assert response.status_code == 422, response.data
    assert response.data["error"]["field"] == "items[0].quantity"
    assert row_counts() == before
    contract = api.post("/contracts", {
        "client_id": ids["client_id"], "name": "Dear seats", "start_date": "2025-01-01",
        "billing_cycle": "monthly", "items": [
            {"kind": "fixed", "description": "Seats", "quantity": "1", "unit_price": "1000"}]})
    assert contract.status_code == 201
    seats = f"/contracts/{contract.data['id']}/items/{contract.data['items'][0]['id']}/quantity"
    fits = api.post(seats, {"quantity": "9999999", "effective_from": "2025-02-01"})
    assert fits.status_code == 200  # 9999999 × 1000 fits
    too_many = api.post(seats, {"quantity": "10000000", "effective_from": "2025-03-01"})
    assert too_many.status_code == 422 and too_many.data["error"]["field"] == "quantity"


def test_recurring_run_skips_a_period_whose_usage_cannot_be_stored(personas):
    ids = object_ids(personas)
    api = personas.owner_a.api
    contract = api.post("/contracts", {
        "client_id": ids["client_id"], "name": "Metered", "start_date": "2025-01-01",
        "billing_cycle": "monthly", "items": [
            {"kind": "metered", "description": "Backup", "metric": "GB",
             "pricing": {"mode": "volume", "tiers": [{"up_to": None, "unit_price": "100"}]}}]})
    assert contract.status_code == 201, contract.data
    for n in range(3):
        usage = api.post("/usage", {"contract_item_id": contract.data["items"][0]["id"],
                                    "quantity": "999999999",
                                    "occurred_at": "2025-01-10T10:00:00+00:00",
                                    "idempotency_key": f"huge-{n}"})
        assert usage.status_code == 201, usage.data
    for preview in (True, False):
        run = api.post("/invoices/generate-recurring", {"as_of": "2025-03-01",
                                                        "preview": preview})
        assert run.status_code == 200, run.data
        billed = {(i["contract_id"], i["period_start"]) for i in run.data["invoices"]}
        assert (contract.data["id"], "2025-02-01") not in billed  # 3e11: cannot be stored
        assert (ids["contract_id"], "2025-02-01") in billed  # the other contract is billed
