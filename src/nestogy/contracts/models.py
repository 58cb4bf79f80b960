"""Contracts: what a client pays for, how often, and for how long.

A contract bills in cycles (``pricing.Cycle``) anchored on ``billing_anchor_day``. Its items
are fixed (quantity × unit price, billed in advance; the quantity may change over time, each
change a dated :class:`ContractItemQuantity` row) or metered (usage records priced through
tiers, billed in arrears). Renewals extend ``end_date`` and are recorded in
:class:`RenewalRecord`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import models

from nestogy.clients.models import Client
from nestogy.contracts.pricing import Cycle, Pricing, Terms
from nestogy.tenancy.models import TenantOwnedModel

MONEY = {"max_digits": 14, "decimal_places": 4}
QTY = {"max_digits": 18, "decimal_places": 6}


class Contract(TenantOwnedModel):
    public_id_prefix = "ctr"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"
        CANCELLED = "cancelled", "Cancelled"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="contracts")
    name = models.CharField(max_length=200)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True,
                                help_text="Last day of service (inclusive); empty = open-ended")
    billing_cycle = models.CharField(max_length=12, choices=[(c.value, c.value.title())
                                                             for c in Cycle],
                                     default=Cycle.MONTHLY.value)
    billing_anchor_day = models.PositiveSmallIntegerField(
        help_text="Day of month (1-31, clamped to month end); ISO weekday for weekly cycles")
    currency = models.CharField(max_length=3)
    payment_terms_days = models.PositiveIntegerField(default=30)
    tax_rate_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))
    auto_renew = models.BooleanField(default=False)
    renewal_term_months = models.PositiveIntegerField(default=12)
    renewal_uplift_percent = models.DecimalField(max_digits=7, decimal_places=4,
                                                 default=Decimal(0))
    renewal_notice_days = models.PositiveIntegerField(default=30)
    renewal_notice_sent_for = models.DateField(
        null=True, blank=True, help_text="The end date whose renewal notice went out")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["client", "name", "id"]
        indexes = [models.Index(fields=["company", "status"], name="contract_status_idx"),
                   models.Index(fields=["company", "client"], name="contract_client_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def terms(self) -> Terms:
        return Terms(self.start_date, Cycle(self.billing_cycle), self.billing_anchor_day,
                     self.end_date)


class ContractItem(TenantOwnedModel):
    public_id_prefix = "cti"

    class Kind(models.TextChoices):
        FIXED = "fixed", "Fixed"
        METERED = "metered", "Metered"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.CharField(max_length=300)
    position = models.PositiveIntegerField(default=0)
    # fixed
    quantity = models.DecimalField(**QTY, default=Decimal(1),
                                   help_text="Current quantity (history in quantity changes)")
    unit_price = models.DecimalField(**MONEY, default=Decimal(0))
    taxable = models.BooleanField(default=True)
    # metered
    metric = models.CharField(max_length=100, blank=True)
    pricing = models.JSONField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["contract", "position", "id"]

    def __str__(self) -> str:
        return self.description

    @property
    def pricing_obj(self) -> Pricing:
        return Pricing.from_dict(self.pricing)


class ContractItemQuantity(TenantOwnedModel):
    """A fixed item's quantity from ``effective_from`` on (per-seat counts over time)."""

    public_id_prefix = "ciq"

    item = models.ForeignKey(ContractItem, on_delete=models.CASCADE, related_name="quantities")
    effective_from = models.DateField()
    quantity = models.DecimalField(**QTY)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["item", "effective_from"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "item", "effective_from"],
                                    name="item_quantity_once_per_day"),
        ]


class UsageRecord(TenantOwnedModel):
    """One measurement of a metered item. A repeated idempotency key changes nothing."""

    public_id_prefix = "use"

    item = models.ForeignKey(ContractItem, on_delete=models.CASCADE, related_name="usage")
    quantity = models.DecimalField(**QTY)
    occurred_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=200)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["item", "occurred_at", "id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "item", "idempotency_key"],
                                    name="usage_idempotency_key"),
        ]
        indexes = [models.Index(fields=["company", "item", "occurred_at"],
                                name="usage_item_time_idx")]


class RenewalRecord(TenantOwnedModel):
    """One renewal of a contract (or its notice): history that is never rewritten."""

    public_id_prefix = "ren"

    class Kind(models.TextChoices):
        NOTICE = "notice", "Notice sent"
        RENEWED = "renewed", "Renewed"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="renewals")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    previous_end_date = models.DateField()
    new_end_date = models.DateField(null=True, blank=True)
    uplift_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))
    price_changes = models.JSONField(default=list, blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["contract", "created_at"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "contract", "kind", "previous_end_date"],
                                    name="renewal_once_per_term"),
        ]


def quantity_on(item: ContractItem, day: date, history: list[ContractItemQuantity]) -> Decimal:
    """The item's quantity on ``day`` from its (sorted) history; the item's own if none."""
    current = None
    for row in history:
        if row.effective_from <= day:
            current = row.quantity
        else:
            break
    if current is None:
        return history[0].quantity if history else item.quantity
    return current
