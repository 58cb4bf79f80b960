"""The gateway interface: what Nestogy asks of a card processor, in its own terms.

A gateway charges a stored payment method off-session with an idempotency key, looks a
charge up again, refunds, keeps customers and payment methods on file, and opens hosted
checkout pages. Outcomes are values (:class:`ChargeResult`: succeeded, declined with a code
and message, or pending); failures to get an answer are exceptions:

- :class:`TransientGatewayError`: timeout, connection reset, 5xx, rate limit. The outcome is
  *unknown*: the gateway may have charged. The caller must re-send the **same** idempotency
  key to learn the result, never a new one.
- :class:`PermanentGatewayError`: bad credentials, invalid request, unknown object. Retrying
  the same request will not help.

Money crosses this boundary as ``Decimal`` in major units with an ISO currency; each gateway
converts to its own wire format.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# ISO 4217 minor units where they differ from 2 (Stripe's zero- and three-decimal lists).
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF",
                          "UGX", "VND", "VUV", "XAF", "XOF", "XPF"})
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def minor_digits(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_minor(amount: Decimal, currency: str) -> int:
    """``Decimal("54.84"), "USD"`` → ``5484`` (half-up at the currency's minor unit)."""
    digits = minor_digits(currency)
    quantum = Decimal(1).scaleb(-digits)
    return int(Decimal(amount).quantize(quantum, rounding=ROUND_HALF_UP).scaleb(digits))


def from_minor(amount: int, currency: str) -> Decimal:
    digits = minor_digits(currency)
    return (Decimal(int(amount)).scaleb(-digits)).quantize(Decimal(1).scaleb(-digits))


class GatewayError(Exception):
    def __init__(self, message: str, *, code: str = "", http_status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class TransientGatewayError(GatewayError):
    """No answer, or a temporary failure: the outcome is unknown; retry the same key."""


class PermanentGatewayError(GatewayError):
    """The request itself is wrong (credentials, parameters, unknown object)."""


@dataclass(frozen=True)
class ChargeResult:
    status: str  # "succeeded" | "declined" | "pending"
    reference: str = ""  # the gateway's id of the charge (Stripe: the PaymentIntent id)
    amount: Decimal | None = None
    currency: str = ""
    decline_code: str = ""
    message: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    PENDING = "pending"

    @property
    def succeeded(self) -> bool:
        return self.status == self.SUCCEEDED

    @property
    def declined(self) -> bool:
        return self.status == self.DECLINED


@dataclass(frozen=True)
class PaymentMethodInfo:
    reference: str
    customer_reference: str
    brand: str = ""
    last4: str = ""
    exp_month: int | None = None
    exp_year: int | None = None


@dataclass(frozen=True)
class RefundResult:
    reference: str
    status: str  # "succeeded" | "pending" | "failed"
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class CheckoutSession:
    reference: str
    url: str


@dataclass(frozen=True)
class WebhookEventData:
    """A verified incoming event: its id, type and the object it carries."""

    id: str
    type: str
    object: dict[str, Any]
    created: int | None
    payload: dict[str, Any] = field(repr=False, default_factory=dict)


class Gateway(ABC):
    """A card processor. Implementations are registered by name in ``gateways.REGISTRY``."""

    name: str = ""

    @abstractmethod
    def create_customer(self, *, email: str, name: str, metadata: dict[str, str],
                        idempotency_key: str) -> str:
        """Create the gateway's customer record; return its reference."""

    @abstractmethod
    def attach_payment_method(self, *, customer_reference: str,
                              payment_method_reference: str) -> PaymentMethodInfo:
        """Keep a payment method on file for the customer and make it the default."""

    @abstractmethod
    def charge(self, *, amount: Decimal, currency: str, customer_reference: str,
               payment_method_reference: str, idempotency_key: str, description: str = "",
               metadata: dict[str, str] | None = None) -> ChargeResult:
        """Charge off-session. Same ``idempotency_key`` → the first result, never twice."""

    @abstractmethod
    def retrieve_charge(self, reference: str) -> ChargeResult:
        """The current state of a charge made earlier."""

    @abstractmethod
    def refund(self, *, charge_reference: str, amount: Decimal, currency: str,
               idempotency_key: str) -> RefundResult:
        """Refund ``amount`` of a charge (partial refunds allowed)."""

    @abstractmethod
    def create_checkout_session(self, *, amount: Decimal, currency: str, description: str,
                                success_url: str, cancel_url: str, idempotency_key: str,
                                customer_reference: str = "",
                                metadata: dict[str, str] | None = None) -> CheckoutSession:
        """A hosted payment page for one amount (the portal's "pay this invoice")."""

    @abstractmethod
    def parse_webhook(self, payload: bytes, headers: dict[str, str], *,
                      now: float | None = None) -> WebhookEventData:
        """Verify an incoming webhook and return its event; raises ``SignatureError``."""
