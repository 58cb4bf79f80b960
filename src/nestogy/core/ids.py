"""Opaque public ids: ``<prefix>_<26 chars>``, time-ordered (ULID layout, Crockford base32).

The database keeps integer primary keys; the API, the portal and every URL use public ids, so
ids reveal neither row counts nor other tenants' activity.
"""

from __future__ import annotations

import os
import time

from django.db import models

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_public_id(prefix: str) -> str:
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    body = _encode(millis, 10) + _encode(rand, 16)
    return f"{prefix}_{body}" if prefix else body


class PublicIdField(models.CharField):
    """A CharField filled on insert with ``new_public_id(model.public_id_prefix)``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if not value:
            value = new_public_id(getattr(model_instance, "public_id_prefix", ""))
            setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key, default in (("max_length", 40), ("editable", False), ("blank", True)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs
