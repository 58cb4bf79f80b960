"""Invoices, their lines, per-company numbering and the idempotency store of billing writes.

Rules (docs/billing.md): money is Decimal rounded half-up at line level; tax per rate
on the sum of taxable lines, one rounding; numbers ``{prefix}{sequence:05d}`` are assigned
at issue from a row-locked counter, so they are gap-free per company; issued invoices are
immutable (corrections are credit notes); one invoice per contract per period, enforced by a
partial unique constraint among non-void invoices.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from nestogy.clients.models import Client
from nestogy.contracts.models import Contract, ContractItem
from nestogy.tenancy.models import Company, TenantOwnedModel

MONEY = {"max_digits": 14, "decimal_places": 4}
QTY = {"max_digits": 18, "decimal_places": 6}
ZERO = Decimal(0)


class Invoice(TenantOwnedModel):
    public_id_prefix = "inv"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        PARTIALLY_PAID = "partially_paid", "Partially paid"
        PAID = "paid", "Paid"
        OVERDUE = "overdue", "Overdue"
        VOID = "void", "Void"

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_NOTE = "credit_note", "Credit note"

    OPEN_STATUSES = (Status.ISSUED, Status.PARTIALLY_PAID, Status.OVERDUE)

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="invoices")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    credits = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="credit_notes",
                                help_text="The invoice a credit note corrects")
    number = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001 (null = none yet; unique when set)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True, help_text="Exclusive")
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    payment_terms_days = models.PositiveIntegerField(default=30)
    subtotal = models.DecimalField(**MONEY, default=ZERO)
    tax = models.DecimalField(**MONEY, default=ZERO)
    total = models.DecimalField(**MONEY, default=ZERO)
    amount_paid = models.DecimalField(**MONEY, default=ZERO)
    balance = models.DecimalField(**MONEY, default=ZERO)
    notes = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "contract", "period_start"],
                                    condition=Q(contract__isnull=False,
                                                period_start__isnull=False,
                                                kind="invoice") & ~Q(status="void"),
                                    name="one_invoice_per_contract_period"),
            models.UniqueConstraint(fields=["company", "number"],
                                    condition=Q(number__isnull=False),
                                    name="invoice_number_unique"),
        ]
        indexes = [
            models.Index(fields=["company", "status", "due_date"], name="invoice_due_idx"),
            models.Index(fields=["company", "client"], name="invoice_client_idx"),
            models.Index(fields=["company", "contract", "period_start"],
                         name="invoice_contract_period_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft {self.public_id}"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class InvoiceLine(TenantOwnedModel):
    public_id_prefix = "inl"

    class Kind(models.TextChoices):
        FIXED = "fixed", "Fixed"
        USAGE = "usage", "Usage"
        MANUAL = "manual", "Manual"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MANUAL)
    contract_item = models.ForeignKey(ContractItem, on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="+")
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(**QTY, default=Decimal(1))
    unit_price = models.DecimalField(**MONEY, default=ZERO)
    amount = models.DecimalField(**MONEY, default=ZERO,
                                 help_text="Rounded half-up once to the currency's minor unit")
    taxable = models.BooleanField(default=True)
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, default=ZERO)
    service_start = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["invoice", "position", "id"]


class InvoiceCounter(models.Model):
    """Next invoice sequence of a company. Locked (SELECT FOR UPDATE) by every issue."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+",
                                   primary_key=True)
    prefix = models.CharField(max_length=20, default="INV-")
    next_value = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "invoice counter"

    def __str__(self) -> str:
        return f"{self.prefix}{self.next_value:05d}"


class BillingRun(TenantOwnedModel):
    """A recurring run started from the workspace (``/app/billing/run/``): what was asked
    (the date, issue or drafts, every contract or a selection), its progress while the
    worker bills batch after batch, and its summary. The run itself is
    ``recurring.run_recurring``: running it again bills only what is still unbilled, so a
    run that stopped half-way (worker restarted) is finished by starting it again."""

    public_id_prefix = "brn"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"

    as_of = models.DateField()
    issue = models.BooleanField(help_text="Issue the invoices (else leave them as drafts)")
    contract_ids = models.JSONField(null=True, blank=True,
                                    help_text="The selected contracts' ids; null for all")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0, help_text="Contracts looked at so far")
    count = models.PositiveIntegerField(default=0, help_text="Contracts the run looks at")
    invoice_ids = models.JSONField(default=list, blank=True)
    issued = models.PositiveIntegerField(default=0)
    drafts = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    totals = models.JSONField(default=dict, blank=True, help_text="Total per currency")
    error = models.TextField(blank=True)
    started_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        indexes = [models.Index(fields=["company", "-created_at"], name="billingrun_recent_idx")]

    def __str__(self) -> str:
        return f"Billing run {self.as_of.isoformat()} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return 100 if self.status == self.Status.DONE else (
            int(self.done * 100 / self.count) if self.count else 0)
