"""Cards on file: a client's card kept at the gateway (tokenised by its browser SDK), with
the auto-pay flag (at most one per client)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from nestogy.audit.actions import log_action
from nestogy.clients.models import Client
from nestogy.core.errors import Conflict, ValidationError
from nestogy.core.validation import clean_text
from nestogy.payments.gateways import (
    Gateway,
    PermanentGatewayError,
    TransientGatewayError,
    get_gateway,
)
from nestogy.payments.models import PaymentMethodOnFile


@transaction.atomic
def add_payment_method(client: Client, data: dict[str, Any], *, actor=None,
                       gateway: Gateway | None = None) -> PaymentMethodOnFile:
    """Keep a card (tokenised by the gateway's browser SDK) on file for a client."""
    unknown = set(data) - {"payment_method_reference", "auto_pay", "gateway"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a payment method field")
    reference = clean_text(data.get("payment_method_reference"), "payment_method_reference",
                           max_length=255)
    if not reference:
        raise ValidationError("payment_method_reference", "is required")
    auto_pay = data.get("auto_pay", False)
    if not isinstance(auto_pay, bool):
        raise ValidationError("auto_pay", "must be true or false")
    name = data.get("gateway") or client.company.get_setting("payments.gateway")
    gw = gateway or get_gateway(name, company=client.company)
    existing = (PaymentMethodOnFile.objects.filter(client=client, gateway=name)
                .exclude(customer_reference="").values_list("customer_reference", flat=True)
                .first())
    try:
        customer = existing or gw.create_customer(
            email=client.email, name=client.name,
            metadata={"nestogy_company": client.company.public_id,
                      "nestogy_client": client.public_id},
            idempotency_key=f"customer_{client.public_id}")
        info = gw.attach_payment_method(customer_reference=customer,
                                        payment_method_reference=reference)
    except PermanentGatewayError as exc:
        raise ValidationError("payment_method_reference", exc.message) from None
    except TransientGatewayError as exc:
        raise Conflict(f"the gateway did not answer, try again: {exc.message}") from None
    if auto_pay:
        PaymentMethodOnFile.objects.filter(client=client, auto_pay=True).update(auto_pay=False)
    try:
        with transaction.atomic():
            method = PaymentMethodOnFile.objects.create(
                company_id=client.company_id, client=client, gateway=name,
                customer_reference=customer, payment_method_reference=info.reference,
                brand=info.brand, last4=info.last4, exp_month=info.exp_month,
                exp_year=info.exp_year, auto_pay=auto_pay)
    except IntegrityError:
        raise ValidationError("payment_method_reference", "is already on file") from None
    log_action(method, "payment_method.added", actor=actor,
               data={"client": client.public_id, "brand": method.brand, "last4": method.last4,
                     "auto_pay": auto_pay})
    return method


def method_for(client_id: int, *, auto_pay_only: bool) -> PaymentMethodOnFile | None:
    qs = PaymentMethodOnFile.objects.filter(client_id=client_id, is_active=True)
    if auto_pay_only:
        qs = qs.filter(auto_pay=True)
    return qs.order_by("-auto_pay", "-id").first()

