"""Per-company settings: every key is declared in code with its default and type.

A company stores only the values it changed (``Company.settings``); reading a key that was
never set returns the declared default, so adding a setting needs no data migration. Domain
apps declare their own keys with :func:`define` when they are imported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from nestogy.core.errors import ValidationError


@dataclass(frozen=True)
class SettingDef:
    key: str
    default: Any
    kind: type
    help: str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    # A secret (API key, signing secret, URL carrying a token): write-only and encrypted.
    secret: bool = False
    # Extra check after the type checks: takes the value, returns it (possibly normalised)
    # or raises ValidationError naming ``settings.<key>``.
    validate: Callable[[Any], Any] | None = None
    # Longest text value (text settings only; DEFAULT_MAX_LENGTH unless declared).
    max_length: int | None = None


DEFAULT_MAX_LENGTH = 1000


REGISTRY: dict[str, SettingDef] = {}


def define(key: str, default: Any, help: str, *, kind: type | None = None,
           choices: tuple[Any, ...] | None = None, minimum: float | None = None,
           maximum: float | None = None, secret: bool = False,
           validate: Callable[[Any], Any] | None = None,
           max_length: int | None = None) -> SettingDef:
    kind = kind or type(default)
    if kind is str and max_length is None:
        max_length = DEFAULT_MAX_LENGTH
    definition = SettingDef(key, default, kind, help, choices, minimum, maximum,
                            secret, validate, max_length)
    existing = REGISTRY.get(key)
    if existing is not None and existing != definition:
        raise RuntimeError(f"company setting {key!r} declared twice with different definitions")
    REGISTRY[key] = definition
    return definition


def coerce(key: str, value: Any) -> Any:
    """Validate ``value`` for ``key`` and return it in its stored (JSON) form."""
    definition = REGISTRY.get(key)
    field = f"settings.{key}"
    if definition is None:
        raise ValidationError(field, "unknown setting")
    kind = definition.kind
    if kind is bool:
        if not isinstance(value, bool):
            raise ValidationError(field, "must be true or false")
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(field, "must be a whole number")
    elif kind is Decimal:
        try:
            value = str(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            raise ValidationError(field, "must be a decimal number") from None
    elif kind is list:
        if not isinstance(value, list):
            raise ValidationError(field, "must be a list")
        value = _plain(value, field)
    elif kind is dict:
        if not isinstance(value, dict):
            raise ValidationError(field, "must be an object")
        value = _plain(value, field)
    elif kind is str:
        if not isinstance(value, str):
            raise ValidationError(field, "must be text")
        if definition.max_length is not None and len(value) > definition.max_length:
            raise ValidationError(field, f"must be at most {definition.max_length} characters")
    if definition.choices is not None and value not in definition.choices:
        raise ValidationError(field, f"must be one of {list(definition.choices)}")
    if definition.minimum is not None and float(value) < definition.minimum:
        raise ValidationError(field, f"must be at least {definition.minimum:g}")
    if definition.maximum is not None and float(value) > definition.maximum:
        raise ValidationError(field, f"must be at most {definition.maximum:g}")
    if definition.validate is not None:
        value = definition.validate(value)
    return value


def _plain(value: Any, field: str) -> Any:
    """``value`` with JSON numbers read as ``Decimal`` (the API reads them so) made JSON-safe:
    whole numbers become ints, others floats; NaN and infinities are refused."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(field, "must not contain NaN or infinite numbers")
        return int(value) if value == value.to_integral_value() and abs(value) < 2 ** 63 \
            else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(field, "must not contain NaN or infinite numbers")
    if isinstance(value, list):
        return [_plain(item, field) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item, field) for key, item in value.items()}
    return value


def read(stored: dict[str, Any], key: str) -> Any:
    definition = REGISTRY[key]
    if key not in stored:
        return definition.default
    value = stored[key]
    if definition.kind is Decimal:
        return Decimal(str(value))
    return value


# Settings of the foundation itself. Domain apps define theirs next to their code.
define("branding.logo_url", "", "URL of the company logo shown in the portal and on invoices")
define("branding.support_email", "", "Reply-to address of client-facing mail")
