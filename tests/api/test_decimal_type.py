"""The decimal input type (money, quantities, percents) on its own: exact round trips of
every value of the field's scale, as a JSON number (plain or exponent) and as a string."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError

from nestogy.api.schemas import Money, Percent, Quantity
from tests.api.test_decimals import decimals, literal

FIELD_TYPES = [(Money, 10, 4, True), (Quantity, 9, 6, False)]


@pytest.mark.parametrize(("kind", "integer_digits", "places", "signed"), FIELD_TYPES)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_decimal_of_the_fields_scale_round_trips_as_number_and_string(
        kind, integer_digits, places, signed, data):
    value = data.draw(decimals(integer_digits, places, signed=signed))
    adapter = TypeAdapter(kind)
    for form in ("number", "exponent", "string"):
        parsed = json.loads(literal(value, form), parse_float=Decimal)
        assert Decimal(adapter.validate_python(parsed)) == value, (form, value)


def test_refusals_of_the_decimal_type():
    quantity = TypeAdapter(Quantity)
    percent = TypeAdapter(Percent)
    for bad in (Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("1e9"),
                Decimal("1.0000001"), Decimal("-1"), "1e2", "0.1234567", " 1", "NaN", 0.5,
                True, [1]):
        with pytest.raises(PydanticError):
            quantity.validate_python(bad)
    for bad in (Decimal("100.0001"), "101", Decimal("-0.5")):
        with pytest.raises(PydanticError):
            percent.validate_python(bad)
    assert quantity.validate_python(Decimal("1E+2")) == "100"
    assert quantity.validate_python(Decimal("1.5000000")) == "1.500000"
    assert percent.validate_python(Decimal("100")) == "100"


