"""Secrets at rest: Fernet encryption with key rotation (``MultiFernet``).

Values that grant access somewhere (payment API keys, signing secrets, URLs carrying tokens)
are stored *sealed*: ``enc:v1:<key id>:<Fernet token>``. The key id is the first 8 hex digits
of the SHA-256 of the key that sealed the value, so a value that cannot be opened names the
missing key, and rotation skips values that are already under the current key.

Keys, first = current (it seals; every key opens):

- ``NESTOGY_SECRETS_KEY`` (environment, comma-separated Fernet keys; setting
  ``NESTOGY_SECRETS_KEYS``), else
- the key file ``NESTOGY_SECRETS_KEY_FILE`` (one key per line), by default
  ``$NESTOGY_DATA_DIR/secrets_key``, generated once with mode 0600 when it does not exist.
  An explicitly configured key file is never generated: a missing one is an error.

Reading tolerates values written before encryption existed: a value without the ``enc:v1:``
prefix is returned as it is (``nestogy rotate_secrets`` seals it). A sealed value that no
configured key opens raises :class:`UndecryptableSecret` with the key id it needs; a key
that is not a Fernet key raises :class:`SecretsKeyError`. Nothing here logs a value.

:class:`EncryptedTextField` seals a model column on write and opens it on read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "enc:v1:"
# Secrets shorter than this show no "last 4" (four of a short value are too much of it).
LAST4_MIN_LENGTH = 12


class SecretsKeyError(ImproperlyConfigured):
    """The configured keys are missing or malformed."""


class UndecryptableSecret(Exception):
    """A sealed value that none of the configured keys opens."""


def generate_key() -> str:
    """A new random Fernet key (url-safe base64 of 32 bytes)."""
    return Fernet.generate_key().decode()


def key_id(key: str | bytes) -> str:
    raw = key.encode() if isinstance(key, str) else key
    return hashlib.sha256(raw.strip()).hexdigest()[:8]


def _parse_keys(keys: list[str], source: str) -> list[str]:
    cleaned = [k.strip() for k in keys if k and k.strip()]
    if not cleaned:
        raise SecretsKeyError(f"{source} holds no key")
    for position, key in enumerate(cleaned, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise SecretsKeyError(
                f"{source}: key {position} is not a Fernet key (32 url-safe base64-encoded "
                f"bytes); generate one with `nestogy rotate_secrets --generate-key`") from None
    return cleaned


def load_or_create_key_file(path: Path, *, create: bool = True) -> list[str]:
    """The keys in ``path`` (one per line, first = current), generating the file (mode 0600)
    with one new key when it does not exist and ``create`` is true."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        if not create:
            raise SecretsKeyError(f"the secrets key file {path} does not exist") from None
        text = ""
    if text.strip():
        return _parse_keys(text.splitlines(), f"the secrets key file {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    try:
        # Another process may have won the race: whichever file exists first is the key.
        os.link(tmp, path)
    except FileExistsError:
        return _parse_keys(path.read_text().splitlines(), f"the secrets key file {path}")
    finally:
        tmp.unlink(missing_ok=True)
    return [key]


def _configuration() -> tuple[tuple[str, ...], str, bool]:
    from django.conf import settings

    keys = tuple(getattr(settings, "NESTOGY_SECRETS_KEYS", None) or ())
    explicit = getattr(settings, "NESTOGY_SECRETS_KEY_FILE", None)
    default = Path(getattr(settings, "DATA_DIR", "./data")) / "secrets_key"
    return keys, str(explicit or default), explicit is None


@lru_cache(maxsize=8)
def _keyring(keys: tuple[str, ...], path: str, create: bool) -> tuple[MultiFernet, list[str]]:
    if keys:
        parsed = _parse_keys(list(keys), "NESTOGY_SECRETS_KEY")
    else:
        parsed = load_or_create_key_file(Path(path), create=create)
    return MultiFernet([Fernet(k.encode()) for k in parsed]), parsed


def keyring() -> tuple[MultiFernet, list[str]]:
    """The MultiFernet of the configured keys and the keys themselves (first = current)."""
    return _keyring(*_configuration())


def key_source() -> str:
    keys, path, _ = _configuration()
    return "NESTOGY_SECRETS_KEY" if keys else f"the key file {path}"


def configured_key_ids() -> list[str]:
    return [key_id(k) for k in keyring()[1]]


def current_key_id() -> str:
    return key_id(keyring()[1][0])


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def sealed_key_id(value: str) -> str:
    return value[len(PREFIX):].split(":", 1)[0]


def seal(plaintext: str) -> str:
    """Encrypt ``plaintext`` with the current key."""
    if not isinstance(plaintext, str):
        raise TypeError("seal() takes text; use seal_json() for other values")
    fernet, keys = keyring()
    token = fernet.encrypt(plaintext.encode()).decode()
    return f"{PREFIX}{key_id(keys[0])}:{token}"


def unseal(value: str) -> str:
    """The plaintext of a sealed value; a value that is not sealed is returned unchanged
    (written before encryption; ``rotate_secrets`` seals it)."""
    if not is_sealed(value):
        return value
    kid, _, token = value[len(PREFIX):].partition(":")
    fernet, keys = keyring()
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        configured = ", ".join(key_id(k) for k in keys)
        raise UndecryptableSecret(
            f"a stored secret was encrypted with key {kid}, which is not among the configured "
            f"keys ({configured}, from {key_source()}); restore that key (put it after the "
            f"current one) or set the secret again. See docs/operations.md, 'Secrets'."
        ) from None


def seal_json(value: Any) -> str:
    return seal(json.dumps(value, separators=(",", ":")))


def unseal_json(value: Any) -> Any:
    """Open a value sealed with :func:`seal_json`; an unsealed value is returned as it is."""
    if not is_sealed(value):
        return value
    return json.loads(unseal(value))


def needs_rotation(value: str) -> bool:
    """True for a plaintext value or one sealed with a key other than the current one."""
    return not is_sealed(value) or sealed_key_id(value) != current_key_id()


def rotate(value: str) -> str:
    """Re-encrypt a sealed value with the current key (seal a plaintext one)."""
    return seal(unseal(value))


def last4(value: Any) -> str | None:
    """The last four characters to show of a secret (of the last item of a list), or None
    when the value is too short to show any of it."""
    if isinstance(value, list):
        value = value[-1] if value else ""
    text = "" if value is None else str(value)
    return text[-4:] if len(text) >= LAST4_MIN_LENGTH else None


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def status(value: Any) -> dict[str, Any]:
    """What a reader may know of a secret: whether it is set and its last 4 characters."""
    if is_empty(value):
        return {"set": False, "last4": None}
    out: dict[str, Any] = {"set": True, "last4": last4(value)}
    if isinstance(value, list):
        out["count"] = len(value)
    return out


def describe(state: dict[str, Any]) -> str:
    """A status as one line for people: ``set, ends in …9xQz``."""
    if state.get("error"):
        return "set, but it cannot be decrypted with the configured keys"
    if not state.get("set"):
        return "not set"
    text = "set"
    if state.get("count", 1) > 1:
        text += f" ({state['count']} values)"
    if state.get("last4"):
        text += f", ends in …{state['last4']}"
    return text


def reseal_column(connection: Any, table: str, column: str, *, pk: str = "id",
                  only_urls: bool = False, dry_run: bool = False, unseal_all: bool = False,
                  batch: int = 500) -> dict[str, int]:
    """Bring every value of one text column under the current key, row by row.

    Plaintext values are sealed (with ``only_urls``, only those containing ``://``), values
    sealed with an older key are re-encrypted, current ones are left alone, so re-running
    after a crash continues where it stopped. Each row is written with a compare-and-set
    ``UPDATE … WHERE value = <what was read>``: a value changed meanwhile is skipped (it was
    written under the current key). ``unseal_all`` turns sealed values back into plaintext
    (reverse migrations). Returns counts: rows, sealed, rotated, current, unsealed,
    undecryptable, skipped.
    """
    q = connection.ops.quote_name
    counts = dict.fromkeys(("rows", "sealed", "rotated", "current", "unsealed",
                            "undecryptable", "skipped"), 0)
    select = (f"SELECT {q(pk)}, {q(column)} FROM {q(table)} "  # noqa: S608 (quoted names)
              f"WHERE {q(pk)} > %s AND {q(column)} IS NOT NULL AND {q(column)} <> '' "
              f"ORDER BY {q(pk)} LIMIT %s")
    update = (f"UPDATE {q(table)} SET {q(column)} = %s "  # noqa: S608 (quoted names)
              f"WHERE {q(pk)} = %s AND {q(column)} = %s")
    current = None if unseal_all else current_key_id()
    last = -(2 ** 62)  # integer primary keys
    while True:
        with connection.cursor() as cursor:
            cursor.execute(select, [last, batch])
            rows = cursor.fetchall()
        if not rows:
            return counts
        for row_pk, value in rows:
            last = row_pk
            counts["rows"] += 1
            try:
                if unseal_all:
                    if not is_sealed(value):
                        counts["current"] += 1
                        continue
                    new, outcome = unseal(value), "unsealed"
                elif is_sealed(value):
                    if sealed_key_id(value) == current:
                        counts["current"] += 1
                        continue
                    new, outcome = rotate(value), "rotated"
                elif only_urls and "://" not in value:
                    counts["current"] += 1
                    continue
                else:
                    new, outcome = seal(value), "sealed"
            except UndecryptableSecret:
                counts["undecryptable"] += 1
                continue
            if dry_run:
                counts[outcome] += 1
                continue
            with connection.cursor() as cursor:
                cursor.execute(update, [new, row_pk, value])
                counts[outcome if cursor.rowcount else "skipped"] += 1


_PARTS = re.compile(r"[/:@?&=#,;\s\\]+")


def scrub(text: str, value: Any) -> str:
    """``text`` with the secret ``value`` (a string or a list of them) and each of its parts
    of 6 or more characters (e.g. a token inside a URL) replaced by ``…``: for messages that
    might quote a secret (validation errors, remote error answers)."""
    values = value if isinstance(value, list) else [value]
    fragments: set[str] = set()
    for item in values:
        if isinstance(item, str) and item:
            fragments.add(item)
            fragments.update(part for part in _PARTS.split(item) if len(part) >= 6)
    for fragment in sorted(fragments, key=len, reverse=True):
        text = text.replace(fragment, "…")
    return text


def check_keys() -> str | None:
    """A problem with the key configuration, as a message, or None (for system checks)."""
    try:
        keyring()
    except SecretsKeyError as exc:
        return str(exc)
    return None


class EncryptedTextField(models.TextField):
    """A text column stored sealed (see the module docstring) and read as plaintext.

    ``only_urls=True`` seals only values containing ``://`` (URLs may carry tokens; e-mail
    addresses and phone numbers are left readable for the delivery log). Sealed values
    cannot be compared in SQL, so only ``isnull`` lookups are offered.
    """

    def __init__(self, *args: Any, only_urls: bool = False, **kwargs: Any):
        self.only_urls = only_urls
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.only_urls:
            kwargs["only_urls"] = True
        return name, path, args, kwargs

    def should_seal(self, value: str) -> bool:
        return bool(value) and not is_sealed(value) and (not self.only_urls or "://" in value)

    def from_db_value(self, value, expression, connection):
        return unseal(value) if is_sealed(value) else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if isinstance(value, str) and self.should_seal(value):
            return seal(value)
        return value

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)
