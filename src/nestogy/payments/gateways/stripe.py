"""The Stripe gateway, on the official ``stripe`` library (``StripeClient``, API v1).

- Off-session charges are PaymentIntents created with ``confirm=true, off_session=true`` and
  an ``Idempotency-Key``: Stripe stores the first response for a key (24 h) and answers
  every repeat with it, so re-sending the key after a timeout reports the charge that
  already happened instead of making a second one.
- The library's own network retries are off (``max_network_retries=0``): Nestogy decides
  when to retry, always with the attempt's own key.
- Configuration, most specific first: options passed to :func:`get_gateway` (tests),
  the company's secret settings (``payments.stripe_api_key``,
  ``payments.stripe_webhook_secret``, stored encrypted, read with ``Company.get_secret``),
  the environment (``NESTOGY_STRIPE_API_KEY``, ``NESTOGY_STRIPE_WEBHOOK_SECRET``,
  ``NESTOGY_STRIPE_API_BASE``, ``NESTOGY_STRIPE_TIMEOUT`` seconds, default 30).
"""

from __future__ import annotations

import json
import logging
import os
import time
from decimal import Decimal
from typing import Any

import stripe

from nestogy.core.secrets import UndecryptableSecret
from nestogy.payments import signature
from nestogy.payments.gateways import register
from nestogy.payments.gateways.base import (
    ChargeResult,
    CheckoutSession,
    Gateway,
    PaymentMethodInfo,
    PermanentGatewayError,
    RefundResult,
    TransientGatewayError,
    WebhookEventData,
    from_minor,
    to_minor,
)

DEFAULT_TIMEOUT = 30.0

logger = logging.getLogger(__name__)


def _secret(company: Any, key: str) -> tuple[str, str]:
    """``(value, problem)``: a company's secret setting, or why it cannot be used. A value
    that cannot be decrypted is a problem, never a reason to fall back to another key."""
    if company is None:
        return "", ""
    try:
        return str(company.get_secret(key) or ""), ""
    except KeyError:
        return "", ""
    except UndecryptableSecret as exc:
        logger.error("company %s: %s cannot be used: %s", getattr(company, "public_id", "?"),
                     key, exc)
        return "", f"{key} cannot be decrypted with the configured keys"


def _as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if hasattr(obj, "to_dict"):
        return obj.to_dict(for_json=True)
    if isinstance(obj, dict):
        return json.loads(json.dumps(obj, default=str))
    return {}


class StripeGateway(Gateway):
    name = "stripe"

    def __init__(self, *, api_key: str = "", api_base: str | None = None,
                 webhook_secret: str | list[str] = "", timeout: float = DEFAULT_TIMEOUT,
                 http_client: Any = None, config_error: str = ""):
        self.api_key = api_key
        self.config_error = config_error
        self.api_base = api_base
        self.webhook_secrets = ([webhook_secret] if isinstance(webhook_secret, str)
                                else list(webhook_secret))
        self.timeout = timeout
        self._http_client = http_client
        self._client: stripe.StripeClient | None = None

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            if self.config_error:
                raise PermanentGatewayError(f"Stripe is not configured: {self.config_error}",
                                            code="not_configured")
            if not self.api_key:
                raise PermanentGatewayError(
                    "Stripe is not configured: set payments.stripe_api_key or "
                    "NESTOGY_STRIPE_API_KEY", code="not_configured")
            # Not through nestogy.core.egress: the Stripe library talks to Stripe's API base,
            # which only the operator sets (NESTOGY_STRIPE_API_BASE, for a test double); no
            # tenant-set value chooses the host. A tenant's API key only authenticates.
            self._client = stripe.StripeClient(
                self.api_key,
                base_addresses={"api": self.api_base} if self.api_base else None,
                http_client=self._http_client or stripe.RequestsClient(timeout=self.timeout),
                max_network_retries=0,
            )
        return self._client

    def _call(self, func, *args: Any, **kwargs: Any) -> Any:
        """Run a library call, mapping its errors onto transient and permanent ones."""
        try:
            return func(*args, **kwargs)
        except stripe.CardError:
            raise
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise TransientGatewayError(str(exc.user_message or exc), code="network",
                                        http_status=exc.http_status) from exc
        except stripe.IdempotencyError as exc:
            raise PermanentGatewayError(str(exc.user_message or exc), code="idempotency_error",
                                        http_status=exc.http_status) from exc
        except (stripe.AuthenticationError, stripe.PermissionError,
                stripe.InvalidRequestError) as exc:
            raise PermanentGatewayError(str(exc.user_message or exc), code=exc.code or "",
                                        http_status=exc.http_status) from exc
        except stripe.APIError as exc:
            # 5xx, and 409 "a request with this key is still in progress": ask again later.
            raise TransientGatewayError(str(exc.user_message or exc), code=exc.code or "api_error",
                                        http_status=exc.http_status) from exc
        except stripe.StripeError as exc:
            raise PermanentGatewayError(str(exc.user_message or exc), code=exc.code or "",
                                        http_status=exc.http_status) from exc

    @staticmethod
    def _intent_result(intent: Any) -> ChargeResult:
        data = _as_dict(intent)
        currency = str(data.get("currency", "")).upper()
        amount = from_minor(int(data.get("amount", 0)), currency) if currency else None
        status = data.get("status")
        if status == "succeeded":
            kind = ChargeResult.SUCCEEDED
        elif status in {"processing", "requires_capture"}:
            kind = ChargeResult.PENDING
        else:
            kind = ChargeResult.DECLINED
        error = data.get("last_payment_error") or {}
        code = ""
        message = ""
        if kind == ChargeResult.DECLINED:
            code = error.get("decline_code") or error.get("code") or str(status or "declined")
            message = error.get("message") or f"payment intent is {status}"
        return ChargeResult(status=kind, reference=str(data.get("id", "")), amount=amount,
                            currency=currency, decline_code=code, message=message, raw=data)

    # -- customers and payment methods ------------------------------------------------------
    def create_customer(self, *, email: str, name: str, metadata: dict[str, str],
                        idempotency_key: str) -> str:
        params: dict[str, Any] = {"name": name, "metadata": metadata}
        if email:
            params["email"] = email
        customer = self._call(self.client.v1.customers.create, params=params,
                              options={"idempotency_key": idempotency_key})
        return customer.id

    def attach_payment_method(self, *, customer_reference: str,
                              payment_method_reference: str) -> PaymentMethodInfo:
        method = self._call(self.client.v1.payment_methods.attach, payment_method_reference,
                            params={"customer": customer_reference})
        self._call(self.client.v1.customers.update, customer_reference,
                   params={"invoice_settings": {
                       "default_payment_method": payment_method_reference}})
        card = _as_dict(method).get("card") or {}
        return PaymentMethodInfo(reference=method.id, customer_reference=customer_reference,
                                 brand=card.get("brand", ""), last4=card.get("last4", ""),
                                 exp_month=card.get("exp_month"), exp_year=card.get("exp_year"))

    # -- charges ----------------------------------------------------------------------------
    def charge(self, *, amount: Decimal, currency: str, customer_reference: str,
               payment_method_reference: str, idempotency_key: str, description: str = "",
               metadata: dict[str, str] | None = None) -> ChargeResult:
        if not idempotency_key:
            raise ValueError("every charge needs an idempotency key")
        params: dict[str, Any] = {
            "amount": to_minor(amount, currency), "currency": currency.lower(),
            "customer": customer_reference, "payment_method": payment_method_reference,
            "off_session": True, "confirm": True, "metadata": dict(metadata or {}),
        }
        if description:
            params["description"] = description
        try:
            intent = self._call(self.client.v1.payment_intents.create, params=params,
                                options={"idempotency_key": idempotency_key})
        except stripe.CardError as exc:
            err = exc.error
            intent_data = _as_dict(getattr(err, "payment_intent", None))
            return ChargeResult(
                status=ChargeResult.DECLINED, reference=str(intent_data.get("id", "")),
                amount=Decimal(amount), currency=currency.upper(),
                decline_code=(getattr(err, "decline_code", None) or exc.code or "card_declined"),
                message=str(exc.user_message or "card declined"),
                raw=exc.json_body if isinstance(exc.json_body, dict) else {})
        return self._intent_result(intent)

    def retrieve_charge(self, reference: str) -> ChargeResult:
        intent = self._call(self.client.v1.payment_intents.retrieve, reference)
        return self._intent_result(intent)

    def refund(self, *, charge_reference: str, amount: Decimal, currency: str,
               idempotency_key: str) -> RefundResult:
        refund = self._call(self.client.v1.refunds.create,
                            params={"payment_intent": charge_reference,
                                    "amount": to_minor(amount, currency)},
                            options={"idempotency_key": idempotency_key})
        data = _as_dict(refund)
        return RefundResult(reference=refund.id, status=str(data.get("status", "pending")),
                            amount=from_minor(int(data.get("amount", 0)), currency),
                            currency=currency.upper())

    def create_checkout_session(self, *, amount: Decimal, currency: str, description: str,
                                success_url: str, cancel_url: str, idempotency_key: str,
                                customer_reference: str = "",
                                metadata: dict[str, str] | None = None) -> CheckoutSession:
        meta = dict(metadata or {})
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": currency.lower(), "unit_amount": to_minor(amount, currency),
                "product_data": {"name": description or "Payment"}}}],
            "success_url": success_url, "cancel_url": cancel_url,
            "metadata": meta, "payment_intent_data": {"metadata": meta},
        }
        if customer_reference:
            params["customer"] = customer_reference
        session = self._call(self.client.v1.checkout.sessions.create, params=params,
                             options={"idempotency_key": idempotency_key})
        return CheckoutSession(reference=session.id, url=session.url)

    # -- webhooks ---------------------------------------------------------------------------
    def parse_webhook(self, payload: bytes, headers: dict[str, str], *,
                      now: float | None = None) -> WebhookEventData:
        header = headers.get("Stripe-Signature") or headers.get("stripe-signature")
        signature.verify(payload, header, self.webhook_secrets,
                         now=(lambda: now) if now is not None else time.time)
        try:
            event = json.loads(payload)
            event_id = str(event["id"])
            event_type = str(event["type"])
            obj = event.get("data", {}).get("object") or {}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise signature.MalformedHeader("signed body is not a Stripe event") from None
        if not isinstance(obj, dict):
            obj = {}
        return WebhookEventData(id=event_id, type=event_type, object=obj,
                                created=event.get("created"), payload=event)


def stripe_factory(*, company: Any = None, **options: Any) -> StripeGateway:
    env = os.environ
    secret = options.pop("webhook_secret", None)
    if not secret:
        company_secret, secret_problem = _secret(company, "payments.stripe_webhook_secret")
        # An unreadable company secret verifies nothing (no fallback to the installation's).
        secret = company_secret or ("" if secret_problem
                                    else env.get("NESTOGY_STRIPE_WEBHOOK_SECRET", ""))
    api_key, problem = options.pop("api_key", None), ""
    if not api_key:
        api_key, problem = _secret(company, "payments.stripe_api_key")
        api_key = api_key or ("" if problem else env.get("NESTOGY_STRIPE_API_KEY", ""))
    return StripeGateway(
        api_key=api_key, config_error=problem,
        api_base=options.pop("api_base", None) or env.get("NESTOGY_STRIPE_API_BASE") or None,
        webhook_secret=secret,
        timeout=float(options.pop("timeout", None) or env.get("NESTOGY_STRIPE_TIMEOUT")
                      or DEFAULT_TIMEOUT),
        http_client=options.pop("http_client", None),
    )


register("stripe", stripe_factory)
