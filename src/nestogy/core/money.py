"""Money: ``Decimal`` amounts rounded half-up to the currency's minor unit, never floats.

Rules (docs/billing.md): amounts are rounded **half-up to the currency's minor unit**
once, at line level; JSON carries money as decimal strings. Floats are refused at the edge
(:func:`to_decimal`) because ``0.1 + 0.2`` is not ``0.3``.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any


class MoneyError(ValueError):
    """A money value or currency that cannot be accepted; names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# ISO 4217 minor units of the currencies whose exponent is not 2. Everything else: 2.
_MINOR_UNITS: dict[str, int] = {
    # no minor unit
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # three decimals
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # four decimals
    "CLF": 4, "UYW": 4,
}

ZERO = Decimal("0")


def validate_currency(code: str) -> str:
    code = (code or "").strip().upper() if isinstance(code, str) else ""
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise MoneyError("currency", "must be a three-letter ISO 4217 code")
    return code


def minor_units(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (JPY 0, KWD 3, default 2)."""
    return _MINOR_UNITS.get((currency or "").upper(), 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def quantize_money(amount: Decimal | int | str, currency: str) -> Decimal:
    """Round ``amount`` half-up to the minor unit of ``currency`` (2.675 USD -> 2.68)."""
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    return value.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def to_decimal(value: Any, field: str, *, allow_negative: bool = True,
               max_places: int | None = None) -> Decimal:
    """Parse a money or quantity input: ``Decimal``, int or decimal string. Floats are refused.

    Raises :class:`MoneyError` naming ``field`` for floats, NaN, infinities, garbage, negative
    values when ``allow_negative`` is false, and more than ``max_places`` decimals.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(field, "must be a decimal string such as \"12.50\", not a float")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
            raise MoneyError(field, "must be a decimal number such as \"12.50\"")
        try:
            result = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the regex already guards this
            raise MoneyError(field, "must be a decimal number") from None
    else:
        raise MoneyError(field, "must be a decimal string such as \"12.50\"")
    if not result.is_finite():
        raise MoneyError(field, "must be a finite number")
    if not allow_negative and result < 0:
        raise MoneyError(field, "must not be negative")
    if max_places is not None and -result.as_tuple().exponent > max_places \
            and result != result.quantize(Decimal(1).scaleb(-max_places)):
        raise MoneyError(field, f"must have at most {max_places} decimal places")
    if abs(result) >= Decimal("1e14"):
        raise MoneyError(field, "is too large")
    return result


def money_str(amount: Decimal, currency: str) -> str:
    """The JSON form: a decimal string with exactly the currency's minor digits."""
    return str(quantize_money(amount, currency))


def percent_of(amount: Decimal, percent: Decimal, currency: str) -> Decimal:
    """``amount × percent / 100`` rounded half-up once (tax, uplift)."""
    return quantize_money(amount * percent / Decimal(100), currency)


def format_money(amount, currency: str = "") -> str:
    """``1,234.50 USD``: grouped, with the currency's minor digits (templates' ``money``)."""
    if amount is None:
        return ""
    value = quantize_money(Decimal(amount), currency) if currency else Decimal(amount)
    return f"{value:,} {currency}".strip()
