"""Quantities and amounts: JSON numbers are read exactly (from their literal text, never
through a binary float), decimal strings keep working, answers are decimal strings, and
NaN, infinities and values beyond the field's precision answer 422 naming the field."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nestogy.billing.models import InvoiceLine
from nestogy.contracts.models import UsageRecord
from tests.test_api_contract import object_ids, row_counts

KEYS = itertools.count()


def post_raw(api, path: str, text: str):
    """POST a body given as JSON text (so numbers keep the exact literal we wrote)."""
    response = api.http.post("/api/v1" + path, data=text, content_type="application/json",
                             headers={"Authorization": f"Bearer {api.token}"})
    response.data = response.json()
    return response


def literal(value: Decimal, form: str) -> str:
    """The JSON text of ``value``: a plain number, an exponent number, or a string."""
    if form == "number":
        return format(value, "f")
    if form == "exponent":
        return format(value, "e")
    return json.dumps(format(value, "f"))


def decimals(integer_digits: int, places: int, *, signed: bool):
    largest = Decimal(10) ** integer_digits - Decimal(1).scaleb(-places)
    return st.decimals(min_value=-largest if signed else 0, max_value=largest, places=places,
                       allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=decimals(9, 6, signed=False), form=st.sampled_from(["number", "exponent",
                                                                  "string"]))
def test_usage_quantities_round_trip_exactly_over_http(personas, value, form):
    ids = getattr(personas, "_ids", None) or object_ids(personas)
    personas._ids = ids
    key = f"hyp-{form}-{value}-{next(KEYS)}"
    response = post_raw(personas.owner_a.api, "/usage", (
        f'{{"contract_item_id": "{ids["metered_item_id"]}", "quantity": '
        f'{literal(value, form)}, "occurred_at": "2025-01-10T10:00:00+00:00", '
        f'"idempotency_key": "{key}"}}'))
    assert response.status_code in (200, 201), response.data
    assert isinstance(response.data["quantity"], str)
    assert Decimal(response.data["quantity"]) == value
    with scopes_disabled():
        assert UsageRecord.objects.get(idempotency_key=key).quantity == value


def test_invoice_lines_take_numbers_exactly(personas):
    ids = object_ids(personas)
    response = post_raw(personas.owner_a.api, "/invoices", (
        f'{{"client_id": "{ids["client_id"]}", "items": ['
        '{"description": "Point one", "quantity": 3, "unit_price": 0.1},'
        '{"description": "Exponent", "quantity": 1e2, "unit_price": 1.5e-2},'
        '{"description": "String", "quantity": "2", "unit_price": "0.30"}]}'))
    assert response.status_code == 201, response.data
    lines = response.data["lines"]
    assert [(ln["quantity"], ln["unit_price"], ln["amount"]) for ln in lines] == [
        ("3", "0.1", "0.30"), ("100", "0.015", "1.50"), ("2", "0.3", "0.60")]
    with scopes_disabled():
        assert sorted(InvoiceLine.objects.filter(description="Point one").values_list(
            "unit_price", flat=True)) == [Decimal("0.1")]


@pytest.mark.parametrize(("literal_text", "field"), [
    ("NaN", "items[0].unit_price"), ("Infinity", "items[0].unit_price"),
    ("-Infinity", "items[0].unit_price"), ("1e400", "items[0].unit_price"),
    ("0.00001", "items[0].unit_price"), ("12345678901", "items[0].unit_price"),
    ('"1e2"', "items[0].unit_price"), ('"abc"', "items[0].unit_price"),
])
def test_nan_infinity_and_too_precise_numbers_answer_422_and_write_nothing(
        personas, literal_text, field):
    ids = object_ids(personas)
    before = row_counts()
    response = post_raw(personas.owner_a.api, "/invoices", (
        f'{{"client_id": "{ids["client_id"]}", "items": ['
        f'{{"description": "Bad", "unit_price": {literal_text}}}]}}'))
    assert response.status_code == 422, response.data
    assert response.data["error"]["field"] == field
    assert row_counts() == before


def test_pricing_tiers_take_numbers(personas):
    response = personas.owner_a.api.post("/pricing/quote", {
        "pricing": {"mode": "graduated", "tiers": [{"up_to": 10, "unit_price": "1"},
                                                   {"up_to": None, "unit_price": "0.5"}]},
        "quantity": "12"})
    assert response.status_code == 200, response.data
    assert response.data["amount"] == "11.00"
    exact = post_raw(personas.owner_a.api, "/pricing/quote", (
        '{"pricing": {"mode": "volume", "tiers": [{"up_to": 10.5, "unit_price": 0.1}, '
        '{"up_to": null, "unit_price": 0.05}]}, "quantity": 3}'))
    assert exact.status_code == 200, exact.data
    assert exact.data["amount"] == "0.30"


def test_the_document_describes_both_forms():
    from nestogy.api.app import api

    schema = api.get_openapi_schema(path_prefix="")
    line = schema["components"]["schemas"]["LineIn"]["properties"]["unit_price"]
    kinds = {option["type"] for option in line["oneOf"]}
    assert kinds == {"string", "number"}
    string = next(o for o in line["oneOf"] if o["type"] == "string")
    assert string["pattern"]
