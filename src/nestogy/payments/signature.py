"""Stripe webhook signatures (docs/payments.md), verified without trusting the body.

Stripe signs each webhook with the endpoint's secret and sends::

    Stripe-Signature: t=1733100000,v1=5257a869e7...,v1=...,v0=...

``v1`` is the hex HMAC-SHA256 of ``"{t}.{raw body}"`` keyed with the secret. Several ``v1``
values may be present (secret rotation: any match is enough); other schemes are ignored. The
comparison is constant-time (``hmac.compare_digest``). The timestamp must be within
``tolerance`` seconds (300 by default) of ``now``: older is a replay ("stale"); further in the
future than the tolerance is also refused (a clock that far off is not trusted).

The three failures are distinct exceptions so callers and logs can tell a malformed header
from a forged signature from a replayed old message; all are :class:`SignatureError` and the
webhook endpoint answers 400 for each.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

DEFAULT_TOLERANCE = 300
SCHEME = "v1"


class SignatureError(Exception):
    """Base of every verification failure."""

    code = "invalid_signature"


class MalformedHeader(SignatureError):
    code = "malformed_signature_header"


class BadSignature(SignatureError):
    code = "bad_signature"


class StaleTimestamp(SignatureError):
    code = "stale_timestamp"


class VerificationFailed(SignatureError):
    """What a webhook sender is told about any failure above: one code, one message.

    The specific reason (no secret configured for the company the payload names, no
    matching signature, a stale timestamp, a malformed header) is logged for the operator,
    never answered: the answer must not tell a prober whether a company has its own secret.
    """

    code = "invalid_signature"
    public_message = "the webhook signature could not be verified"

    def __init__(self) -> None:
        super().__init__(self.public_message)


def compute_signature(payload: bytes | str, secret: str, timestamp: int) -> str:
    body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    signed = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign_header(payload: bytes | str, secret: str, timestamp: int) -> str:
    """The header Stripe would send for ``payload`` at ``timestamp`` (tests, the stand-in)."""
    return f"t={int(timestamp)},{SCHEME}={compute_signature(payload, secret, timestamp)}"


def parse_header(header: str | None) -> tuple[int, list[str]]:
    """``(timestamp, [v1 signatures])``; raises :class:`MalformedHeader`."""
    if not header or not isinstance(header, str):
        raise MalformedHeader("missing Stripe-Signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise MalformedHeader(f"header element {item.strip()!r} is not key=value")
        if key == "t":
            if timestamp is not None:
                raise MalformedHeader("more than one timestamp")
            if not value.isdigit():
                raise MalformedHeader("timestamp is not a whole number of seconds")
            timestamp = int(value)
        elif key == SCHEME and value:
            signatures.append(value)
    if timestamp is None:
        raise MalformedHeader("no timestamp (t=) in header")
    if not signatures:
        raise MalformedHeader(f"no {SCHEME} signature in header")
    return timestamp, signatures


def verify(payload: bytes | str, header: str | None, secrets: str | list[str], *,
           tolerance: int = DEFAULT_TOLERANCE,
           now: Callable[[], float] = time.time) -> int:
    """Verify ``header`` for the raw ``payload``; return the signed timestamp.

    ``secrets`` is one secret or several (rotation); a match with any of them passes.
    ``now`` returns the current POSIX time (injectable for tests).
    """
    timestamp, signatures = parse_header(header)
    candidates = [secrets] if isinstance(secrets, str) else list(secrets)
    candidates = [s for s in candidates if s]
    if not candidates:
        raise BadSignature("no webhook secret is configured")
    matched = False
    for secret in candidates:
        expected = compute_signature(payload, secret, timestamp)
        for given in signatures:
            # compare_digest on ASCII bytes: constant time, no early exit on a mismatch.
            if hmac.compare_digest(expected.encode("ascii"),
                                   given.encode("ascii", errors="replace")):
                matched = True
    if not matched:
        raise BadSignature("no signature matches the payload")
    age = now() - timestamp
    if tolerance and (age > tolerance or age < -tolerance):
        raise StaleTimestamp(f"timestamp {timestamp} is outside the {tolerance} s tolerance")
    return timestamp
