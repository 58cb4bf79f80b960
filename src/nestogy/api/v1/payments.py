"""Payments: /invoices/{id}/payments, retry-payment, apply-credit, /payments, refunds,
cards on file and statements under /clients/{id}, and the Stripe webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from ninja import Router, Schema, Status
from pydantic import Field

from nestogy.accounts.roles import require
from nestogy.api.errors import error_body
from nestogy.api.idempotency import idempotent
from nestogy.api.outputs import invoice_out
from nestogy.api.pagination import paginate
from nestogy.api.schemas import (
    Currency,
    Cursor,
    ErrorOut,
    InputSchema,
    Limit,
    MoneyPositive,
    ObjectId,
    Timestamp,
    name_text,
    responses,
    text,
)
from nestogy.billing import queries as billing_queries
from nestogy.clients import queries as client_queries
from nestogy.core.errors import ValidationError
from nestogy.core.money import money_str, validate_currency
from nestogy.payments import (
    charging,
    methods,
    queries,
    recording,
    refunds,
    statement,
    webhook_intake,
)
from nestogy.payments.models import Payment, PaymentAttempt, PaymentMethodOnFile, Refund
from nestogy.payments.signature import SignatureError, VerificationFailed

invoices_router = Router(tags=["payments"])
router = Router(tags=["payments"])
clients_router = Router(tags=["payments"])
webhooks_router = Router(tags=["payments"], auth=None)

# Amounts: greater than 0, below 10^10, with no more decimals than the currency has.
Amount = Annotated[MoneyPositive, Field(description="at most the currency's minor unit of "
                                                    "decimals (2 for USD, 0 for JPY)")]


class PaymentIn(InputSchema):
    amount: Amount
    method: Literal[tuple(Payment.Method.values)]
    reference: text(200) | None = None
    received_at: Annotated[Timestamp, Field(description="not in the future")] | None = None
    notes: text(2000) | None = None


class AllocationIn(InputSchema):
    invoice_id: ObjectId
    amount: Amount


class ClientPaymentIn(PaymentIn):
    client_id: ObjectId
    currency: Currency | None = None
    allocations: Annotated[list[AllocationIn], Field(max_length=500)] | None = None


class RefundIn(InputSchema):
    amount: Amount | None = None
    reason: text(300) | None = None


class CreditIn(InputSchema):
    amount: Amount | None = None


class MethodIn(InputSchema):
    payment_method_reference: name_text(255)
    auto_pay: bool = False


class AllocationOut(Schema):
    invoice_id: str
    invoice_number: str | None
    amount: str
    from_credit: bool


class PaymentOut(Schema):
    id: str
    client_id: str
    amount: str
    currency: str
    method: str
    reference: str
    received_at: datetime
    status: str
    gateway: str
    gateway_reference: str
    unapplied: str
    amount_refunded: str
    allocations: list[AllocationOut]
    created_at: datetime


class PaymentList(Schema):
    items: list[PaymentOut]
    next_cursor: str | None


class InvoicePaymentOut(Schema):
    payment: PaymentOut
    invoice: dict[str, Any]


class AttemptOut(Schema):
    id: str
    invoice_id: str
    attempt_number: int
    idempotency_key: str
    trigger: str
    amount: str
    currency: str
    status: str
    gateway_reference: str
    error_code: str
    error_message: str
    attempted_at: datetime | None
    completed_at: datetime | None
    next_retry_at: datetime | None


class AttemptList(Schema):
    items: list[AttemptOut]
    in_collections: bool


class RetryOut(Schema):
    attempt: AttemptOut
    invoice: dict[str, Any]


class CreditOut(Schema):
    applied: str
    invoice: dict[str, Any]


class RefundOut(Schema):
    id: str
    payment_id: str
    amount: str
    reason: str
    status: str
    gateway_reference: str
    created_at: datetime


class MethodOut(Schema):
    id: str
    client_id: str
    gateway: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    auto_pay: bool


class MethodList(Schema):
    items: list[MethodOut]


class CreditBalance(Schema):
    currency: str
    amount: str


class CreditBalanceList(Schema):
    items: list[CreditBalance]


class WebhookOut(Schema):
    received: bool
    duplicate: bool
    event_id: str


def payment_out(payment: Payment) -> dict:
    cur = payment.currency
    allocations = [{"invoice_id": a.invoice.public_id, "invoice_number": a.invoice.number,
                    "amount": money_str(a.amount, cur), "from_credit": a.from_credit}
                   for a in payment.allocations.select_related("invoice").order_by("id")]
    return {"id": payment.public_id, "client_id": payment.client.public_id,
            "amount": money_str(payment.amount, cur), "currency": cur,
            "method": payment.method, "reference": payment.reference,
            "received_at": payment.received_at, "status": payment.status,
            "gateway": payment.gateway, "gateway_reference": payment.gateway_reference,
            "unapplied": money_str(payment.unapplied, cur),
            "amount_refunded": money_str(payment.amount_refunded, cur),
            "allocations": allocations, "created_at": payment.created_at}


def attempt_out(attempt: PaymentAttempt) -> dict:
    cur = attempt.currency
    return {"id": attempt.public_id, "invoice_id": attempt.invoice.public_id,
            "attempt_number": attempt.attempt_number,
            "idempotency_key": attempt.idempotency_key, "trigger": attempt.trigger,
            "amount": money_str(attempt.amount, cur), "currency": cur,
            "status": attempt.status, "gateway_reference": attempt.gateway_reference,
            "error_code": attempt.error_code, "error_message": attempt.error_message,
            "attempted_at": attempt.attempted_at, "completed_at": attempt.completed_at,
            "next_retry_at": attempt.next_retry_at}


def refund_out(refund: Refund) -> dict:
    return {"id": refund.public_id, "payment_id": refund.payment.public_id,
            "amount": money_str(refund.amount, refund.payment.currency),
            "reason": refund.reason, "status": refund.status,
            "gateway_reference": refund.gateway_reference, "created_at": refund.created_at}


def method_out(method: PaymentMethodOnFile) -> dict:
    return {"id": method.public_id, "client_id": method.client.public_id,
            "gateway": method.gateway, "brand": method.brand, "last4": method.last4,
            "exp_month": method.exp_month, "exp_year": method.exp_year,
            "auto_pay": method.auto_pay}


def _invoice(public_id: str) -> dict:
    return invoice_out(billing_queries.get_invoice(public_id))


# -- /invoices/{invoice_id}/... -------------------------------------------------------------
@invoices_router.post("/{invoice_id}/payments", response=responses({201: InvoicePaymentOut}),
                      summary="Record a payment received against an invoice "
                              "(excess becomes client credit)")
def record_payment(request, invoice_id: str, payload: PaymentIn):
    require(request.auth, "payments.manage")
    invoice = billing_queries.get_invoice(invoice_id)

    def run():
        payment = recording.record_invoice_payment(
            invoice, payload.model_dump(exclude_unset=True), actor=request.auth.user)
        return 201, {"payment": payment_out(payment), "invoice": _invoice(invoice_id)}

    return idempotent(request, run)


@invoices_router.post("/{invoice_id}/retry-payment", response=responses({200: RetryOut}),
                      summary="Charge the client's card on file for the balance now")
def retry_payment(request, invoice_id: str):
    require(request.auth, "payments.manage")
    invoice = billing_queries.get_invoice(invoice_id)

    def run():
        attempt = charging.retry_payment_now(invoice, actor=request.auth.user)
        attempt = PaymentAttempt.objects.select_related("invoice").get(pk=attempt.pk)
        return 200, {"attempt": attempt_out(attempt), "invoice": _invoice(invoice_id)}

    return idempotent(request, run)


@invoices_router.post("/{invoice_id}/apply-credit", response=responses({200: CreditOut}),
                      summary="Pay an invoice from the client's credit")
def apply_credit(request, invoice_id: str, payload: CreditIn | None = None):
    require(request.auth, "payments.manage")
    invoice = billing_queries.get_invoice(invoice_id)

    def run():
        amount = payload.amount if payload is not None else None
        applied = recording.apply_credit(invoice, amount=amount, actor=request.auth.user)
        return 200, {"applied": money_str(applied, invoice.currency),
                     "invoice": _invoice(invoice_id)}

    return idempotent(request, run)


@invoices_router.get("/{invoice_id}/payment-attempts", response=responses({200: AttemptList}),
                     summary="Automatic charge attempts of an invoice, with retry times")
def list_attempts(request, invoice_id: str):
    require(request.auth, "invoices.view")
    invoice = billing_queries.get_invoice(invoice_id)
    rows = queries.attempts_for(invoice).select_related("invoice")
    return {"items": [attempt_out(a) for a in rows],
            "in_collections": queries.in_collections(invoice)}


# -- /payments ------------------------------------------------------------------------------
@router.post("", response=responses({201: PaymentOut}),
             summary="Record a client payment over several invoices (oldest due first when "
                     "no allocations are given; the rest is credit)")
def create_payment(request, payload: ClientPaymentIn):
    require(request.auth, "payments.manage")
    client = client_queries.get_client(payload.client_id, "client_id")

    def run():
        data = payload.model_dump(exclude_unset=True,
                                  exclude={"client_id", "currency", "allocations"})
        currency = None
        if payload.currency is not None:
            try:
                currency = validate_currency(payload.currency)
            except ValueError:
                raise ValidationError("currency", "must be a three-letter ISO 4217 code") \
                    from None
        allocations = None
        if payload.allocations is not None:
            allocations = []
            for index, item in enumerate(payload.allocations):
                invoice = billing_queries.get_invoice(item.invoice_id,
                                                      f"allocations[{index}].invoice_id")
                allocations.append((invoice, item.amount))
            if currency is None and allocations:
                currency = allocations[0][0].currency
        payment = recording.record_client_payment(client, data, allocations, currency=currency,
                                                actor=request.auth.user)
        return 201, payment_out(payment)

    return idempotent(request, run)


@router.get("", response=responses({200: PaymentList}), summary="List payments")
def list_payments(request, limit: int = Limit(), cursor: str | None = Cursor(),
                  client_id: ObjectId | None = None,
                  method: Literal[tuple(Payment.Method.values)] | None = None):
    require(request.auth, "invoices.view")
    client = client_queries.get_client(client_id, "client_id") if client_id else None
    qs = queries.payments(client=client, method=method).prefetch_related("allocations__invoice")
    rows, next_cursor = paginate(qs, limit=limit, cursor=cursor, order=("-id",))
    return {"items": [payment_out(p) for p in rows], "next_cursor": next_cursor}


@router.get("/{payment_id}", response=responses({200: PaymentOut}), summary="Get a payment")
def get_payment(request, payment_id: str):
    require(request.auth, "invoices.view")
    return payment_out(queries.get_payment(payment_id))


@router.post("/{payment_id}/refunds", response=responses({201: RefundOut}),
             summary="Refund a payment (card payments at the gateway); credit first, then "
                     "the invoices it paid are re-opened")
def refund(request, payment_id: str, payload: RefundIn):
    require(request.auth, "payments.manage")
    payment = queries.get_payment(payment_id)

    def run():
        result = refunds.refund_payment(payment, payload.model_dump(exclude_unset=True),
                                        actor=request.auth.user)
        return 201, refund_out(Refund.objects.select_related("payment").get(pk=result.pk))

    return idempotent(request, run)


# -- /clients/{client_id}/... ---------------------------------------------------------------
@clients_router.get("/{client_id}/payment-methods", response=responses({200: MethodList}),
                    summary="Cards on file of a client")
def list_methods(request, client_id: str):
    require(request.auth, "invoices.view")
    client = client_queries.get_client(client_id)
    return {"items": [method_out(m) for m in queries.methods_for(client)
                      .select_related("client")]}


@clients_router.post("/{client_id}/payment-methods", response=responses({201: MethodOut}),
                     summary="Keep a card on file (a payment method id from Stripe.js); "
                             "auto_pay charges it when invoices are issued")
def add_method(request, client_id: str, payload: MethodIn):
    require(request.auth, "payments.manage")
    client = client_queries.get_client(client_id)
    method = methods.add_payment_method(client, payload.model_dump(), actor=request.auth.user)
    return Status(201, method_out(method))


@clients_router.get("/{client_id}/credit", response=responses({200: CreditBalanceList}),
                    summary="The client's unapplied credit per currency")
def client_credit(request, client_id: str):
    require(request.auth, "invoices.view")
    client = client_queries.get_client(client_id)
    currencies = sorted(set(Payment.objects.filter(client=client, unapplied__gt=0)
                            .values_list("currency", flat=True)))
    return {"items": [{"currency": c, "amount": money_str(recording.credit_balance(client, c), c)}
                      for c in currencies]}


@clients_router.get("/{client_id}/statement.pdf", response=responses({200: None}),
                    summary="Statement of account as PDF: invoices, payments, running balance",
                    openapi_extra={"responses": {200: {
                        "description": "PDF", "content": {"application/pdf": {}}}}})
def client_statement(request, client_id: str, currency: Currency | None = None):
    require(request.auth, "invoices.view")
    client = client_queries.get_client(client_id)
    if currency is not None:
        try:
            currency = validate_currency(currency)
        except ValueError:
            raise ValidationError("currency", "must be a three-letter ISO 4217 code") from None
    response = HttpResponse(statement.statement_pdf(client, currency),
                            content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        False, f"statement-{client.public_id}.pdf")
    return response


# -- /webhooks/stripe -----------------------------------------------------------------------
@webhooks_router.post("/stripe", response={200: WebhookOut, 400: ErrorOut},
                      summary="Stripe webhook (no bearer token; Stripe-Signature verified)")
def stripe_webhook(request):
    try:
        event, created = webhook_intake.receive("stripe", request.body, dict(request.headers))
    except SignatureError:
        # One answer for every failure (the reason is logged by receive()).
        return Status(400, error_body(VerificationFailed.code, VerificationFailed.public_message))
    return {"received": True, "duplicate": not created, "event_id": event.event_id}
