"""Payments, allocations, refunds, cards on file, charge attempts and the webhook inbox.

Money rules: a :class:`Payment` is money received from a client (any method). It is spread
over invoices by :class:`PaymentAllocation` rows (one payment may pay several invoices; an
invoice may be paid by several payments). Whatever part of a payment is not allocated is the
client's **credit** (``Payment.unapplied``): an overpayment becomes credit, and credit is
applied to later invoices by allocating from those payments. Refunds take back unapplied
credit first, then allocations (re-opening the invoices).

Automatic card payments are :class:`PaymentAttempt` rows, one per try, each with its own
idempotency key (``inv_<invoice>_attempt_<n>``) unique per company, so no retry can charge
twice. A failed attempt stores ``next_retry_at`` (indexed, company first); the dunning job
claims due rows with a conditional UPDATE. Exhaustion writes one :class:`CollectionsFlag`
per invoice (a unique constraint makes it once-only).

:class:`WebhookEvent` is the inbox of gateway webhooks: one row per ``(gateway, event_id)``
(unique constraint), stored before its company is known, processed by a task.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone

from nestogy.billing.models import Invoice
from nestogy.clients.models import Client
from nestogy.tenancy.models import Company, TenantOwnedModel

MONEY = {"max_digits": 14, "decimal_places": 4}
ZERO = Decimal(0)


class Payment(TenantOwnedModel):
    public_id_prefix = "pay"

    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        CHECK = "check", "Check"
        CASH = "cash", "Cash"
        CARD = "card", "Card"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        DISPUTED = "disputed", "Disputed"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20, choices=Method.choices)
    reference = models.CharField(max_length=200, blank=True,
                                 help_text="Check number, bank reference, receipt number")
    received_at = models.DateTimeField(default=timezone.now)
    gateway = models.CharField(max_length=30, blank=True)
    gateway_reference = models.CharField(max_length=255, blank=True,
                                         help_text="Stripe: the PaymentIntent id")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUCCEEDED)
    unapplied = models.DecimalField(**MONEY, default=ZERO,
                                    help_text="Not allocated to any invoice: client credit")
    amount_refunded = models.DecimalField(**MONEY, default=ZERO)
    notes = models.TextField(blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-received_at", "-id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            # A gateway charge is recorded once, whether the charge call or its webhook
            # reports it first.
            models.UniqueConstraint(fields=["company", "gateway", "gateway_reference"],
                                    condition=~Q(gateway_reference=""),
                                    name="payment_gateway_ref_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(unapplied__gte=0),
                                   name="payment_unapplied_not_negative"),
        ]
        indexes = [
            models.Index(fields=["company", "client", "received_at"], name="payment_client_idx"),
            models.Index(fields=["company", "client", "currency", "unapplied"],
                         name="payment_credit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.get_method_display()} ({self.public_id})"


class PaymentAllocation(TenantOwnedModel):
    """The part of a payment applied to one invoice."""

    public_id_prefix = "pal"

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT,
                                related_name="payment_allocations")
    amount = models.DecimalField(**MONEY)
    from_credit = models.BooleanField(default=False,
                                      help_text="Applied later from the client's credit")

    class Meta(TenantOwnedModel.Meta):
        ordering = ["id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.CheckConstraint(condition=~Q(amount=0), name="allocation_amount_not_zero"),
        ]
        indexes = [models.Index(fields=["company", "invoice"], name="allocation_invoice_idx")]


class Refund(TenantOwnedModel):
    public_id_prefix = "ref"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUCCEEDED)
    gateway_reference = models.CharField(max_length=255, blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "gateway_reference"],
                                    condition=~Q(gateway_reference=""),
                                    name="refund_gateway_ref_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]


class PaymentMethodOnFile(TenantOwnedModel):
    """A client's card (or other gateway method) kept at the gateway; optionally auto-pay."""

    public_id_prefix = "pm"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="payment_methods")
    gateway = models.CharField(max_length=30, default="stripe")
    customer_reference = models.CharField(max_length=255)
    payment_method_reference = models.CharField(max_length=255)
    brand = models.CharField(max_length=30, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    auto_pay = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["client", "-auto_pay", "id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "gateway", "payment_method_reference"],
                                    name="payment_method_once"),
            models.UniqueConstraint(fields=["company", "client"],
                                    condition=Q(auto_pay=True, is_active=True),
                                    name="one_auto_pay_method_per_client"),
        ]

    def __str__(self) -> str:
        return f"{self.brand or 'card'} ••{self.last4}" if self.last4 else self.public_id


class PaymentAttempt(TenantOwnedModel):
    """One try at charging an invoice automatically."""

    public_id_prefix = "pat"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (sent or about to be sent)"
        UNKNOWN = "unknown", "Unknown (no answer; reconcile with the same key)"
        SUCCEEDED = "succeeded", "Succeeded"
        DECLINED = "declined", "Declined"
        ERROR = "error", "Error (request refused; not retried automatically)"
        CANCELLED = "cancelled", "Cancelled (invoice settled otherwise)"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT,
                                related_name="payment_attempts")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    payment_method = models.ForeignKey(PaymentMethodOnFile, on_delete=models.PROTECT,
                                       null=True, blank=True, related_name="attempts")
    attempt_number = models.PositiveIntegerField()
    idempotency_key = models.CharField(max_length=200)
    trigger = models.CharField(max_length=20, default="auto_pay",
                               help_text="auto_pay, retry (dunning), manual (retry now)")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    gateway = models.CharField(max_length=30, default="stripe")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    gateway_reference = models.CharField(max_length=255, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    sends = models.PositiveIntegerField(default=0, help_text="Requests sent with this key")
    attempted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True,
                                         help_text="Due time of the next action on this row")
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")

    class Meta(TenantOwnedModel.Meta):
        ordering = ["invoice", "attempt_number"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "idempotency_key"],
                                    name="attempt_idempotency_key_once"),
            models.UniqueConstraint(fields=["company", "invoice", "attempt_number"],
                                    name="attempt_number_once"),
        ]
        indexes = [
            models.Index(fields=["company", "next_retry_at"], name="attempt_due_idx",
                         condition=Q(next_retry_at__isnull=False)),
            models.Index(fields=["company", "gateway", "gateway_reference"],
                         name="attempt_gateway_ref_idx"),
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class CollectionsFlag(TenantOwnedModel):
    """An invoice whose automatic payment retries are exhausted: hand it to collections."""

    public_id_prefix = "col"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    flagged_at = models.DateTimeField(default=timezone.now)
    failures = models.PositiveIntegerField()
    last_error = models.CharField(max_length=500, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "invoice"], name="collections_once"),
        ]


class WebhookEvent(models.Model):
    """An incoming gateway webhook, stored once by its id before any processing.

    Not tenant-scoped on arrival (the company is known only after the payload is read);
    ``company`` is filled in when the event is matched to a company's payment.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (type not handled or object unknown)"
        FAILED = "failed", "Failed"

    gateway = models.CharField(max_length=30)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="webhook_event_once"),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="webhook_status_idx")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.type} {self.event_id}"
