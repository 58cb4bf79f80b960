"""The Stripe gateway through the official library against the local stand-in."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from nestogy.payments.gateways import (
    REGISTRY,
    ChargeResult,
    PermanentGatewayError,
    TransientGatewayError,
    get_gateway,
)
from nestogy.payments.gateways.base import from_minor, to_minor
from nestogy.payments.gateways.stripe import StripeGateway
from nestogy.payments.signature import BadSignature, StaleTimestamp
from tests.payments.stripe_standin import visit


@pytest.fixture
def card(standin, stripe_gateway):
    customer = stripe_gateway.create_customer(email="ap@acme.test", name="Acme",
                                              metadata={"client": "cli_1"},
                                              idempotency_key="cus_cli_1")
    pm = standin.add_card(last4="1881")
    stripe_gateway.attach_payment_method(customer_reference=customer,
                                         payment_method_reference=pm)
    return customer, pm


def charge(gateway, card, key, amount="54.84"):
    customer, pm = card
    return gateway.charge(amount=Decimal(amount), currency="USD", customer_reference=customer,
                          payment_method_reference=pm, idempotency_key=key,
                          description="INV-00001", metadata={"invoice": "inv_1"})


def test_registry_and_configuration(monkeypatch):
    assert "stripe" in REGISTRY
    with pytest.raises(KeyError):
        get_gateway("paypal")
    monkeypatch.setenv("NESTOGY_STRIPE_API_KEY", "sk_test_env")
    monkeypatch.setenv("NESTOGY_STRIPE_API_BASE", "http://127.0.0.1:9")
    gateway = get_gateway("stripe")
    assert isinstance(gateway, StripeGateway)
    assert (gateway.api_key, gateway.api_base) == ("sk_test_env", "http://127.0.0.1:9")


def test_company_setting_wins_over_environment(in_a, monkeypatch):
    monkeypatch.setenv("NESTOGY_STRIPE_API_KEY", "sk_test_env")
    in_a.company_a.set_setting("payments.stripe_api_key", "sk_test_company")
    in_a.company_a.set_setting("payments.stripe_webhook_secret", "whsec_company")
    gateway = get_gateway("stripe", company=in_a.company_a)
    assert gateway.api_key == "sk_test_company"
    assert gateway.webhook_secrets == ["whsec_company"]


def test_unconfigured_gateway_refuses_clearly(monkeypatch):
    monkeypatch.delenv("NESTOGY_STRIPE_API_KEY", raising=False)
    with pytest.raises(PermanentGatewayError, match="not configured"):
        get_gateway("stripe").retrieve_charge("pi_1")


def test_customer_and_payment_method_on_file(standin, stripe_gateway):
    customer = stripe_gateway.create_customer(email="ap@acme.test", name="Acme",
                                              metadata={"client": "cli_1"},
                                              idempotency_key="cus-key-1")
    again = stripe_gateway.create_customer(email="ap@acme.test", name="Acme",
                                           metadata={"client": "cli_1"},
                                           idempotency_key="cus-key-1")
    assert customer == again and len(standin.customers) == 1
    pm = standin.add_card(brand="mastercard", last4="4444")
    info = stripe_gateway.attach_payment_method(customer_reference=customer,
                                                payment_method_reference=pm)
    assert (info.brand, info.last4, info.exp_year) == ("mastercard", "4444", 2030)
    assert standin.customers[customer]["invoice_settings"]["default_payment_method"] == pm
    # The request really went through the library as Stripe's form encoding.
    method, path, params, _ = standin.requests[-1]
    assert (method, path) == ("POST", f"/v1/customers/{customer}")
    assert params == {"invoice_settings": {"default_payment_method": pm}}


def test_off_session_charge_succeeds(standin, stripe_gateway, card):
    result = charge(stripe_gateway, card, "inv_1_attempt_1")
    assert result.status == ChargeResult.SUCCEEDED and result.succeeded
    assert result.amount == Decimal("54.84") and result.currency == "USD"
    assert result.reference.startswith("pi_")
    [ledger] = standin.succeeded_charges()
    assert (ledger.amount, ledger.currency, ledger.idempotency_key) == (5484, "usd",
                                                                        "inv_1_attempt_1")
    _, _path, params, key = next(r for r in standin.requests if r[1] == "/v1/payment_intents")
    assert params["off_session"] == "true" and params["confirm"] == "true"
    assert params["metadata"] == {"invoice": "inv_1"} and key == "inv_1_attempt_1"


def test_same_idempotency_key_never_charges_twice(standin, stripe_gateway, card):
    first = charge(stripe_gateway, card, "inv_1_attempt_1")
    second = charge(stripe_gateway, card, "inv_1_attempt_1")
    assert first.reference == second.reference
    assert len(standin.succeeded_charges()) == 1
    third = charge(stripe_gateway, card, "inv_1_attempt_2")
    assert third.reference != first.reference and len(standin.succeeded_charges()) == 2


def test_same_key_with_other_parameters_is_refused(standin, stripe_gateway, card):
    charge(stripe_gateway, card, "k1")
    with pytest.raises(PermanentGatewayError) as info:
        charge(stripe_gateway, card, "k1", amount="10.00")
    assert info.value.code == "idempotency_error"
    assert len(standin.succeeded_charges()) == 1


def test_decline_is_a_result_with_code_and_message(standin, stripe_gateway, card):
    standin.decline_next(1, decline_code="insufficient_funds")
    result = charge(stripe_gateway, card, "inv_1_attempt_1")
    assert result.declined
    assert result.decline_code == "insufficient_funds"
    assert result.message == "Your card was declined."
    assert result.reference.startswith("pi_")
    assert standin.succeeded_charges() == []
    # Replaying the declined key answers the same decline (Stripe stores 4xx results too).
    assert charge(stripe_gateway, card, "inv_1_attempt_1").declined


def test_server_error_is_transient_and_charges_nothing(standin, stripe_gateway, card):
    standin.fail_next(1, status=503)
    with pytest.raises(TransientGatewayError) as info:
        charge(stripe_gateway, card, "k")
    assert info.value.http_status == 503
    assert standin.succeeded_charges() == []
    assert charge(stripe_gateway, card, "k").succeeded


def test_timeout_after_charge_is_reconciled_by_the_same_key(standin, card):
    gateway = get_gateway("stripe", **standin.client_options(), timeout=0.5)
    standin.hang_next(1.5)
    started = time.monotonic()
    with pytest.raises(TransientGatewayError):
        charge(gateway, card, "inv_9_attempt_1")
    assert time.monotonic() - started < 1.4, "the client timeout must cut the wait"
    assert len(standin.succeeded_charges()) == 1  # the gateway did charge
    again = charge(gateway, card, "inv_9_attempt_1")
    assert again.succeeded
    assert len(standin.succeeded_charges()) == 1  # and never a second time
    assert again.reference == standin.succeeded_charges()[0].payment_intent


def test_retrieve_charge(stripe_gateway, card):
    result = charge(stripe_gateway, card, "k")
    assert stripe_gateway.retrieve_charge(result.reference).succeeded
    with pytest.raises(PermanentGatewayError):
        stripe_gateway.retrieve_charge("pi_missing")


def test_bad_api_key_is_permanent(standin):
    gateway = get_gateway("stripe", **{**standin.client_options(), "api_key": "sk_wrong"})
    with pytest.raises(PermanentGatewayError):
        gateway.create_customer(email="", name="x", metadata={}, idempotency_key="x")


def test_refunds_partial_and_over(standin, stripe_gateway, card):
    result = charge(stripe_gateway, card, "k", amount="100.00")
    refund = stripe_gateway.refund(charge_reference=result.reference, amount=Decimal("40.00"),
                                   currency="USD", idempotency_key="r1")
    assert (refund.status, refund.amount) == ("succeeded", Decimal("40.00"))
    # Same key: same refund, not a second one.
    stripe_gateway.refund(charge_reference=result.reference, amount=Decimal("40.00"),
                          currency="USD", idempotency_key="r1")
    assert standin.ledger[-1].amount_refunded == 4000
    with pytest.raises(PermanentGatewayError):
        stripe_gateway.refund(charge_reference=result.reference, amount=Decimal("60.01"),
                              currency="USD", idempotency_key="r2")


def test_checkout_session_url_completes_payment_and_signs_webhooks(standin, stripe_gateway):
    session = stripe_gateway.create_checkout_session(
        amount=Decimal("250.00"), currency="EUR", description="INV-00042",
        success_url="http://portal.test/ok", cancel_url="http://portal.test/cancel",
        idempotency_key="checkout-inv-42", metadata={"invoice": "inv_42"})
    assert session.reference.startswith("cs_test") and session.url.startswith(standin.url)
    assert visit(session.url)["redirect"] == "http://portal.test/ok"
    [paid] = standin.succeeded_charges()
    assert (paid.amount, paid.currency, paid.metadata) == (25000, "eur", {"invoice": "inv_42"})
    types = []
    for body, header in standin.webhooks:
        event = stripe_gateway.parse_webhook(body, {"Stripe-Signature": header})
        types.append(event.type)
    assert types == ["checkout.session.completed", "payment_intent.succeeded"]
    visit(session.url)  # a second visit does not pay again
    assert len(standin.succeeded_charges()) == 1


def test_parse_webhook_rejects_forgery_and_staleness(standin, stripe_gateway):
    event = standin.make_event("payment_intent.succeeded", {"id": "pi_1"})
    body, header = standin.sign(event, secret="whsec_forger")
    with pytest.raises(BadSignature):
        stripe_gateway.parse_webhook(body, {"Stripe-Signature": header})
    body, header = standin.sign(event, timestamp=int(time.time()) - 301)
    with pytest.raises(StaleTimestamp):
        stripe_gateway.parse_webhook(body, {"Stripe-Signature": header})
    body, header = standin.sign(event)
    parsed = stripe_gateway.parse_webhook(body, {"Stripe-Signature": header})
    assert (parsed.id, parsed.object) == (event["id"], {"id": "pi_1"})
    assert json.loads(body) == parsed.payload


@pytest.mark.parametrize(("amount", "currency", "minor", "back"), [
    ("54.84", "USD", 5484, "54.84"), ("0.005", "USD", 1, "0.01"), ("1000", "JPY", 1000, "1000"),
    ("1.2345", "KWD", 1235, "1.235"),
])
def test_minor_units_round_half_up(amount, currency, minor, back):
    assert to_minor(Decimal(amount), currency) == minor
    assert str(from_minor(minor, currency)) == back
