"""Placeholder until the money module lands (replaced by the full implementation)."""

from __future__ import annotations

import re


class MoneyError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def validate_currency(code: str) -> str:
    code = (code or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise MoneyError("currency", "must be a three-letter ISO 4217 code")
    return code
