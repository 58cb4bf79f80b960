"""Stripe webhook signatures: our verifier and the official library agree."""

from __future__ import annotations

import json
import time

import pytest
import stripe
from hypothesis import given, settings
from hypothesis import strategies as st

from nestogy.payments import signature
from nestogy.payments.signature import BadSignature, MalformedHeader, StaleTimestamp

SECRET = "whsec_test_secret"
NOW = 1_733_100_000
BODY = json.dumps({"id": "evt_1", "object": "event", "type": "payment_intent.succeeded",
                   "data": {"object": {"id": "pi_1"}}}).encode()


def at(t):
    return lambda: t


def test_header_from_the_official_library_verifies():
    header = stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRET,
                                                               timestamp=NOW)
    assert signature.verify(BODY, header, SECRET, now=at(NOW + 10)) == NOW


def test_our_header_passes_the_official_library():
    header = signature.sign_header(BODY, SECRET, int(time.time()))
    event = stripe.Webhook.construct_event(BODY, header, SECRET)
    assert event.id == "evt_1"
    assert stripe.WebhookSignature.verify_header(BODY, header, SECRET, tolerance=300)


def test_known_vector():
    # HMAC-SHA256("whsec_test_secret", "1733100000.{body}") computed independently.
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature.compute_signature(BODY, SECRET, NOW) == expected
    assert signature.sign_header(BODY, SECRET, NOW) == f"t={NOW},v1={expected}"


def test_forged_signature_is_rejected_by_both():
    header = signature.sign_header(BODY, "whsec_attacker", NOW)
    with pytest.raises(BadSignature):
        signature.verify(BODY, header, SECRET, now=at(NOW))
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(BODY, header, SECRET, tolerance=None)


def test_tampered_body_is_rejected():
    header = signature.sign_header(BODY, SECRET, NOW)
    with pytest.raises(BadSignature):
        signature.verify(BODY.replace(b"pi_1", b"pi_2"), header, SECRET, now=at(NOW))


def test_one_matching_v1_among_several_is_enough_and_other_schemes_are_ignored():
    good = signature.compute_signature(BODY, SECRET, NOW)
    header = f"t={NOW},v1={'0' * 64},v0={good},v1={good}"
    assert signature.verify(BODY, header, SECRET, now=at(NOW)) == NOW
    assert stripe.WebhookSignature.verify_header(BODY, header, SECRET, tolerance=None)
    # v0 alone does not count.
    with pytest.raises(MalformedHeader):
        signature.verify(BODY, f"t={NOW},v0={good}", SECRET, now=at(NOW))


def test_rotated_secrets_any_matches():
    header = signature.sign_header(BODY, "whsec_new", NOW)
    assert signature.verify(BODY, header, ["whsec_old", "whsec_new"], now=at(NOW)) == NOW


@pytest.mark.parametrize("offset", [0, 299, 300, -300])
def test_within_tolerance(offset):
    header = signature.sign_header(BODY, SECRET, NOW)
    assert signature.verify(BODY, header, SECRET, now=at(NOW + offset)) == NOW


@pytest.mark.parametrize("offset", [301, 3600, -301])
def test_stale_or_future_timestamp(offset):
    header = signature.sign_header(BODY, SECRET, NOW)
    with pytest.raises(StaleTimestamp):
        signature.verify(BODY, header, SECRET, now=at(NOW + offset))


def test_stale_agrees_with_the_official_library():
    old = int(time.time()) - 301
    header = signature.sign_header(BODY, SECRET, old)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(BODY, header, SECRET, tolerance=300)
    with pytest.raises(StaleTimestamp):
        signature.verify(BODY, header, SECRET)


@pytest.mark.parametrize("header", [None, "", "garbage", "t=abc,v1=00", "v1=00",
                                    f"t={NOW}", f"t={NOW},t={NOW},v1=00", f"t={NOW},,v1=00"])
def test_malformed_headers(header):
    with pytest.raises(MalformedHeader):
        signature.verify(BODY, header, SECRET, now=at(NOW))


def test_no_secret_configured_is_a_bad_signature():
    header = signature.sign_header(BODY, SECRET, NOW)
    with pytest.raises(BadSignature):
        signature.verify(BODY, header, "", now=at(NOW))


def test_errors_are_distinct_but_share_a_base():
    assert {MalformedHeader.code, BadSignature.code, StaleTimestamp.code} == {
        "malformed_signature_header", "bad_signature", "stale_timestamp"}
    for cls in (MalformedHeader, BadSignature, StaleTimestamp):
        assert issubclass(cls, signature.SignatureError)


def test_comparison_is_constant_time(monkeypatch):
    calls = []
    real = signature.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signature.hmac, "compare_digest", spy)
    header = signature.sign_header(BODY, SECRET, NOW)
    signature.verify(BODY, header, SECRET, now=at(NOW))
    assert calls, "signatures must be compared with hmac.compare_digest"


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=300).map(lambda b: b.decode("latin-1").encode()),
       secret=st.text(alphabet="abcdefghijklmnop0123456789_", min_size=1, max_size=40),
       ts=st.integers(min_value=1, max_value=4_000_000_000))
def test_agrees_with_stripe_on_any_body(body, secret, ts):
    ours = signature.sign_header(body, secret, ts)
    theirs = stripe.WebhookSignature.generate_signature_header(body.decode(), secret,
                                                               timestamp=ts)
    assert ours == theirs
    assert signature.verify(body, theirs, secret, now=at(ts)) == ts
