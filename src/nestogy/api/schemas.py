"""Schemas, types and the request parser shared by every router.

Decimal inputs (money, quantities, percents) are accepted in two forms, both documented in
OpenAPI as ``oneOf``:

- a decimal string (``"12.50"``), which must match the field's pattern;
- a JSON number (``12.5``, ``1e2``), which is read from its literal text as a ``Decimal``
  (:class:`JsonParser` parses bodies with ``parse_float=Decimal``), never through a binary
  float: ``0.1`` stays exactly ``0.1``.

Either way the value must be finite and fit the field's precision (integer digits and
decimal places of the database column, and the field's range); otherwise the answer is a
422 naming the field. Responses always carry decimals as strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from django.conf import settings
from ninja import Query, Schema
from ninja.parser import Parser
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, WithJsonSchema

from nestogy.core.errors import ValidationError


class InputSchema(Schema):
    """Base of request bodies: unknown fields are rejected (422 naming the field)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class FieldErrorOut(Schema):
    field: str | None
    message: str
    code: str


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None
    errors: list[FieldErrorOut]


class ErrorOut(Schema):
    error: ErrorDetail


class SecretState(Schema):
    """A write-only value as readers see it: whether it is set and its last 4 characters
    (none for short values); ``count`` for a list, ``error`` when it cannot be decrypted."""

    set: bool
    last4: str | None = None
    count: int | None = None
    error: str | None = None


ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                          409: ErrorOut, 422: ErrorOut}


def responses(ok: dict[int, Any]) -> dict[int, Any]:
    return {**ok, **ERRORS}


# -- parsing -------------------------------------------------------------------------------
def _parse_int(text: str) -> int | Decimal:
    # Python refuses int literals of more than 4300 digits; such a number is still a number
    # (and far out of every field's range), so the field answers, not the parser.
    return int(text) if len(text) <= 4000 else Decimal(text)


def _nul_paths(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                yield here
            else:
                yield from _nul_paths(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}[{index}]")


def refuse_nul(data: Any) -> None:
    """No text may carry a NUL character (PostgreSQL cannot store one): 422 naming it."""
    for path in _nul_paths(data):
        raise ValidationError(path or None, "must not contain NUL characters")


class JsonParser(Parser):
    """JSON bodies with numbers read as ``Decimal`` from their literal text.

    ``parse_float=Decimal`` keeps ``0.1`` exactly ``0.1`` and ``1e2`` as ``Decimal("1E+2")``;
    ``NaN`` and ``Infinity`` (which Python's json accepts) become non-finite ``Decimal``s that
    every numeric field refuses, naming itself. Text with NUL characters is refused, in
    bodies and query strings alike.
    """

    def parse_body(self, request):
        data = json.loads(request.body, parse_float=Decimal, parse_int=_parse_int,
                          parse_constant=Decimal)
        refuse_nul(data)
        return data

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        refuse_nul(result)
        return result


# -- decimals ------------------------------------------------------------------------------
def decimal_pattern(integer_digits: int, places: int, *, signed: bool = False,
                    positive: bool = False, at_most_100: bool = False) -> str:
    """The decimal-string grammar of a field: no exponent, no leading zeros, no spaces."""
    fraction = rf"(\.\d{{1,{places}}})?" if places else ""
    if at_most_100:
        return rf"^(100(\.0{{1,{places}}})?|([1-9]?\d){fraction})$"
    if positive:
        small = "|".join(rf"0\.{'0' * zeros}[1-9]\d{{0,{places - zeros - 1}}}"
                         for zeros in range(places))
        return rf"^([1-9]\d{{0,{integer_digits - 1}}}{fraction}" + (f"|{small})$" if small
                                                                      else ")$")
    sign = "-?" if signed else ""
    return rf"^{sign}(0|[1-9]\d{{0,{integer_digits - 1}}}){fraction}$"


def _too_large(integer_digits: int) -> str:
    return f"must be less than {Decimal(10) ** integer_digits:f} in absolute value"


def DecimalInput(*, integer_digits: int, places: int, signed: bool = False,
                 positive: bool = False, at_most_100: bool = False,
                 example: str = "12.50") -> Any:
    """A decimal field: a decimal string or a JSON number, validated to a decimal string.

    ``integer_digits``/``places`` are the column's precision; ``signed`` allows negatives,
    ``positive`` refuses zero, ``at_most_100`` is a percent.
    """
    pattern = decimal_pattern(integer_digits, places, signed=signed, positive=positive,
                              at_most_100=at_most_100)
    compiled = re.compile(pattern)
    step = Decimal(1).scaleb(-places)
    largest = Decimal(100) if at_most_100 else Decimal(10) ** integer_digits - step
    refusal = (f"must be a decimal string such as \"{example}\" or a JSON number")

    def validate(value: Any) -> str:
        if isinstance(value, bool | float):
            raise ValueError(refusal)
        if isinstance(value, str):
            if not compiled.fullmatch(value):
                raise ValueError(f"{refusal}; a string must match {pattern}")
            number = Decimal(value)
        elif isinstance(value, int | Decimal):
            number = Decimal(value)
        else:
            raise ValueError(refusal)
        if not number.is_finite():
            raise ValueError("must be a finite number")
        if number and number.adjusted() >= integer_digits:
            raise ValueError(_too_large(integer_digits))
        try:
            exact = number.quantize(step)
        except InvalidOperation:
            raise ValueError(_too_large(integer_digits)) from None
        if exact != number:
            raise ValueError(f"must have at most {places} decimal places")
        if positive and number <= 0:
            raise ValueError("must be greater than 0")
        if not signed and number < 0:
            raise ValueError("must not be negative")
        if abs(number) > largest:
            raise ValueError(f"must be at most {largest:f}")
        if isinstance(value, str):
            return value
        # A number: its exact value, without an exponent or zeros beyond the places.
        return format(exact if number.as_tuple().exponent < -places else number, "f")

    number_schema: dict[str, Any] = {"type": "number", "maximum": float(largest),
                                     "multipleOf": float(step)}
    if positive:
        number_schema["exclusiveMinimum"] = 0
    else:
        number_schema["minimum"] = -float(largest) if signed else 0
    description = (f"A decimal: a string matching the pattern, or a JSON number (read "
                   f"exactly, never through a binary float) with at most {places} decimal "
                   f"places{', from 0 to 100' if at_most_100 else ''}.")
    schema = {"oneOf": [{"type": "string", "pattern": pattern, "examples": [example]},
                        number_schema],
              "description": description}
    return Annotated[str, BeforeValidator(validate), WithJsonSchema(schema)]


# Precision of the columns: money is MONEY (14, 4). Quantities are stored as QTY (18, 6) but
# accepted with at most 15 significant digits (9 + 6), which every database keeps exactly
# (SQLite holds a decimal column's value as a double: 15 significant digits).
Money = DecimalInput(integer_digits=10, places=4, signed=True, example="12.50")
MoneyPositive = DecimalInput(integer_digits=10, places=4, positive=True, example="54.84")
TierPrice = DecimalInput(integer_digits=9, places=6, example="0.25")
Quantity = DecimalInput(integer_digits=9, places=6, example="2.5")
QuantityPositive = DecimalInput(integer_digits=9, places=6, positive=True, example="100")
Percent = DecimalInput(integer_digits=3, places=4, at_most_100=True, example="8.25")

# Kept for callers of the former name: a non-negative quantity.
DecimalStr = Quantity


# -- other shared types --------------------------------------------------------------------
def _aware(value: datetime) -> datetime:
    """An aware timestamp, as UTC (PostgreSQL refuses offsets beyond ±15:59, which ISO 8601
    and Python allow up to ±23:59; the instant is what is kept anyway)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must be a timestamp with an offset (e.g. 2025-01-31T09:00:00+00:00)")
    if not 1900 <= value.year <= 2199:
        raise ValueError("must be between the years 1900 and 2199")
    return value.astimezone(UTC)


def _sane_date(value: date) -> date:
    if not 1900 <= value.year <= 2199:
        raise ValueError("must be between the years 1900 and 2199")
    return value


# A timestamp with a UTC offset (naive ones are refused), years 1900-2199; a date likewise.
_YEARS = r"^(19|2[01])\d\d-"
Timestamp = Annotated[datetime, AfterValidator(_aware),
                      WithJsonSchema({"type": "string", "format": "date-time",
                                      "pattern": _YEARS,
                                      "description": "ISO 8601 with an offset, years "
                                                     "1900-2199"})]
Day = Annotated[date, AfterValidator(_sane_date),
                WithJsonSchema({"type": "string", "format": "date", "pattern": _YEARS,
                                "description": "YYYY-MM-DD, years 1900-2199"})]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$", examples=["USD"])]


def text(max_length: int, *, min_length: int = 0) -> Any:
    """Free text of at most ``max_length`` characters (the column's length)."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length)]


def Cursor() -> Any:
    """The ``cursor`` query parameter: the ``next_cursor`` a previous page answered."""
    return Query(None, max_length=4096, pattern=r"^[A-Za-z0-9_=-]*$",
                 description="next_cursor of the previous page")


# A text search in a list.
Search = Annotated[str, Field(max_length=200)]


def Limit() -> Any:
    """The ``limit`` query parameter of every list (1 to NESTOGY_API_MAX_LIMIT)."""
    maximum = getattr(settings, "NESTOGY_API_MAX_LIMIT", 200)
    return Query(getattr(settings, "NINJA_PAGINATION_PER_PAGE", 50), ge=1, le=maximum,
                 description=f"page size, 1-{maximum}")


TimeZone = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$",
                                description="An IANA time zone name such as Europe/Berlin",
                                examples=["Europe/Berlin"])]
OptionalTimeZone = Annotated[str, Field(max_length=64,
                                        pattern=r"^([A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*)?$",
                                        description="An IANA time zone name such as "
                                                    "Europe/Berlin; empty for none",
                                        examples=["Europe/Berlin"])]
Email = Annotated[str, Field(max_length=254, pattern=r"^\s*[^@\s]+@[^@\s]+\s*$",
                             json_schema_extra={"format": "email"},
                             examples=["dana@example.com"])]
EmailOrEmpty = Annotated[str, Field(max_length=254, pattern=r"^(\s*[^@\s]+@[^@\s]+\s*)?$",
                                    description="an email address, or empty",
                                    examples=["ap@example.com"])]
# Names and other required text: at least one non-space character.
def name_text(max_length: int = 200) -> Any:
    return Annotated[str, Field(min_length=1, max_length=max_length, pattern=r"\S")]


# Ids of objects (``cli_01j...``). Unknown or foreign ids answer 404 (or 422 in a body).
ObjectId = Annotated[str, Field(min_length=1, max_length=64)]
