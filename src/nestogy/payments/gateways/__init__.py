"""Gateway registry: ``get_gateway("stripe", company=...)`` returns a configured gateway.

Gateways register a factory with :func:`register`; the factory receives the company (or
``None`` for installation-wide configuration) and keyword overrides (tests pass
``api_base`` to point the official client at a local stand-in).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nestogy.payments.gateways.base import (
    ChargeResult,
    CheckoutSession,
    Gateway,
    GatewayError,
    PaymentMethodInfo,
    PermanentGatewayError,
    RefundResult,
    TransientGatewayError,
    WebhookEventData,
)

__all__ = ["REGISTRY", "ChargeResult", "CheckoutSession", "Gateway", "GatewayError",
           "PaymentMethodInfo", "PermanentGatewayError", "RefundResult",
           "TransientGatewayError", "WebhookEventData", "get_gateway", "register"]

REGISTRY: dict[str, Callable[..., Gateway]] = {}
_overrides: dict[str, dict[str, Any]] = {}


def register(name: str, factory: Callable[..., Gateway]) -> None:
    REGISTRY[name] = factory


def get_gateway(name: str, *, company: Any = None, **options: Any) -> Gateway:
    """A gateway by name, configured for ``company``; unknown names raise ``KeyError``."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown payment gateway {name!r}; known: {sorted(REGISTRY)}") from None
    return factory(company=company, **{**_overrides.get(name, {}), **options})


def configure(name: str, **options: Any) -> None:
    """Installation-level options for a gateway (tests point Stripe at the stand-in)."""
    _overrides[name] = dict(options)


def reset_configuration(name: str | None = None) -> None:
    if name is None:
        _overrides.clear()
    else:
        _overrides.pop(name, None)
