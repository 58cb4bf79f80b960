"""Per-company settings: every key is declared in code with its default and type.

A company stores only the values it changed (``Company.settings``); reading a key that was
never set returns the declared default, so adding a setting needs no data migration. Each
app declares its keys with :func:`define` in its ``conf.py``, imported from its
``AppConfig.ready()`` (tenancy's own are in ``tenancy/conf.py``).

A setting declared ``secret=True`` (an API key, a signing secret, a URL carrying a token) is
write-only: it is stored sealed (:mod:`nestogy.core.secrets`), the code that needs it reads
it with :func:`read_secret` (``Company.get_secret``), and everything else sees only
:func:`secret_state` (set or not, the last 4 characters). :func:`read` refuses secrets, and a
validation error about a secret never repeats the value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from nestogy.core import secrets
from nestogy.core.errors import FieldError, ValidationError


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
    if not definition.secret:
        return _coerce(definition, field, value)
    try:
        return _coerce(definition, field, value)
    except ValidationError as exc:
        raise ValidationError.many([FieldError(e.field, secrets.scrub(e.message, value), e.code)
                                    for e in exc.errors]) from None


def _coerce(definition: SettingDef, field: str, value: Any) -> Any:
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


def is_secret(key: str) -> bool:
    definition = REGISTRY.get(key)
    return definition is not None and definition.secret


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
    if definition.secret:
        raise TypeError(f"{key} is a secret: read it with Company.get_secret() where it is "
                        "used, show it with secret_state()")
    if key not in stored:
        return definition.default
    value = stored[key]
    if definition.kind is Decimal:
        return Decimal(str(value))
    return value


def read_secret(stored: dict[str, Any], key: str) -> Any:
    """The plaintext of a secret setting (the default when unset). Raises
    :class:`~nestogy.core.secrets.UndecryptableSecret` when no configured key opens it."""
    definition = REGISTRY[key]
    if not definition.secret:
        raise TypeError(f"{key} is not a secret: read it with Company.get_setting()")
    if key not in stored:
        return definition.default
    return secrets.unseal_json(stored[key])


def secret_state(stored: dict[str, Any], key: str) -> dict[str, Any]:
    """What readers may see of a secret setting: ``{"set", "last4"}`` (and ``count`` for a
    list; ``error`` when the stored value cannot be decrypted)."""
    try:
        return secrets.status(read_secret(stored, key))
    except secrets.UndecryptableSecret:
        return {"set": True, "last4": None,
                "error": "cannot be decrypted with the configured keys"}


def apply(stored: dict[str, Any], key: str, value: Any) -> None:
    """Validate ``value`` and put it into ``stored`` (a company's settings dict) in its
    stored form: secrets sealed, ``None`` or an empty secret removing the key (default)."""
    if value is None:
        if key not in REGISTRY:
            raise ValidationError(f"settings.{key}", "unknown setting")
        stored.pop(key, None)
        return
    cleaned = coerce(key, value)
    if not REGISTRY[key].secret:
        stored[key] = cleaned
    elif secrets.is_empty(cleaned):
        stored.pop(key, None)
    else:
        stored[key] = secrets.seal_json(cleaned)

