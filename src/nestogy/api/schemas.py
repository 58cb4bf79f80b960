"""Schemas shared by every router."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class InputSchema(Schema):
    """Base of request bodies: unknown fields are rejected (422 naming the field)."""

    model_config = ConfigDict(extra="forbid")


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


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# Money and quantities in request bodies (billing step): decimal strings; ints are accepted,
# floats are refused with a field error (0.1 + 0.2 is not 0.3).
def _decimal_input(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('must be a decimal string such as "12.50", not a float')
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


from typing import Annotated  # noqa: E402

from pydantic import BeforeValidator, WithJsonSchema  # noqa: E402

DecimalStr = Annotated[str, BeforeValidator(_decimal_input),
                       WithJsonSchema({"type": "string", "format": "decimal",
                                       "examples": ["12.50"]})]
