"""Tickets, their replies and history, and the stored SLA columns the breach checker polls."""

from __future__ import annotations

from django.db import models
from django.db.models import Case, CharField, DateTimeField, F, IntegerField, Q, Value, When

from nestogy.accounts.models import User
from nestogy.clients.models import Client, Contact, Site
from nestogy.sla.models import SLAPolicy
from nestogy.tenancy.models import Company, TenantOwnedModel


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING_ON_CLIENT = "waiting_on_client", "Waiting on client"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


CLOSED_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})
SLA_STATES = ("running", "paused", "warning", "breached", "met", "met_late")
# Open tickets, with the closed statuses in a fixed order (index conditions compare SQL text).
OPEN = ~Q(status__in=sorted(CLOSED_STATUSES))
UNMET = ("running", "warning", "breached", "paused")


def urgency_rank():
    """The queue's first sort key: breached 0, running 1, paused 2."""
    return Case(When(sla_state="breached", then=Value(0)),
                When(sla_state="paused", then=Value(2)),
                default=Value(1), output_field=IntegerField())


def next_due():
    """The ticket's next deadline: first response while unmet, else resolution (unmet)."""
    return Case(
        When(first_response_state__in=UNMET, then=F("first_response_due_at")),
        When(resolution_state__in=UNMET, then=F("resolution_due_at")),
        default=Value(None), output_field=DateTimeField())


def next_clock():
    """Which clock :func:`next_due` reads: ``first_response``, ``resolution`` or ``""``."""
    return Case(
        When(first_response_state__in=UNMET, then=Value("first_response")),
        When(resolution_state__in=UNMET, then=Value("resolution")),
        default=Value(""), output_field=CharField())


class TicketCounter(TenantOwnedModel):
    """The last ticket number handed out in a company (locked while numbering)."""

    public_id_prefix = "tcn"
    last_number = models.PositiveIntegerField(default=0)

    class Meta(TenantOwnedModel.Meta):
        constraints = [*TenantOwnedModel.Meta.constraints,
                       models.UniqueConstraint(fields=["company"], name="ticket_counter_one")]


class Ticket(TenantOwnedModel):
    public_id_prefix = "tkt"

    number = models.PositiveIntegerField()
    subject = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="tickets")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="tickets")
    site = models.ForeignKey(Site, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="tickets")
    category = models.CharField(max_length=100, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="assigned_tickets")
    opened_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # SLA: recomputed (sla.clock.compute_sla) in the transaction of every change.
    policy = models.ForeignKey(SLAPolicy, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="tickets")
    sla_state = models.CharField(max_length=10, default="running")
    first_response_state = models.CharField(max_length=10, default="running")
    resolution_state = models.CharField(max_length=10, default="running")
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Business seconds to first response (when met)")
    resolution_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Business seconds to resolution (when met)")
    first_response_paused_seconds = models.PositiveIntegerField(default=0)
    paused_business_seconds = models.PositiveIntegerField(default=0)
    paused_since = models.DateTimeField(null=True, blank=True)
    first_response_breached = models.BooleanField(default=False)
    first_response_breached_by = models.PositiveIntegerField(default=0)
    resolution_breached = models.BooleanField(default=False)
    resolution_breached_by = models.PositiveIntegerField(default=0)
    sla_computed_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    # The running clocks' thresholds as timestamps (sla.clock.plan), for the breach checker.
    sla_plan = models.JSONField(null=True, blank=True, editable=False)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-opened_at", "-id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "number"], name="ticket_number_unique"),
        ]
        indexes = [
            models.Index(fields=["company", "next_check_at"], name="ticket_next_check_idx",
                         condition=Q(next_check_at__isnull=False)),
            models.Index(fields=["company", "status", "resolution_due_at"],
                         name="ticket_status_due_idx"),
            models.Index(fields=["company", "opened_at", "id"], name="ticket_opened_idx"),
            models.Index(fields=["company", "resolution_due_at", "id"],
                         name="ticket_resolution_due_idx"),
            models.Index(fields=["company", "first_response_due_at", "id"],
                         name="ticket_first_response_due_idx"),
            models.Index(fields=["company", "assignee", "status"], name="ticket_assignee_idx"),
            models.Index(fields=["company", "client", "opened_at"], name="ticket_client_idx"),
            models.Index(fields=["company", "sla_state"], name="ticket_sla_state_idx"),
            # The staff queue: its urgency order read straight from an index (the first page
            # of 50 open tickets without sorting them all).
            models.Index(F("company"), urgency_rank(), next_due(), F("opened_at"), F("id"),
                         condition=OPEN, name="ticket_urgency_idx"),
            # "Waiting on client" in the same order: those tickets sit at the end of the
            # index above (paused), behind every running one. Paused tickets are not
            # rewritten by the breach checker, so this index costs it nothing.
            models.Index(F("company"), urgency_rank(), next_due(), F("opened_at"), F("id"),
                         condition=Q(status="waiting_on_client"),
                         name="ticket_waiting_urgency_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class Reply(TenantOwnedModel):
    """A message on a ticket: public (the client sees it) or an internal note."""

    public_id_prefix = "rpl"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="replies")
    body = models.TextField()
    public = models.BooleanField(default=True)
    author_user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    author_contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True,
                                       blank=True, related_name="+")
    by_staff = models.BooleanField(default=True)
    posted_at = models.DateTimeField()

    class Meta(TenantOwnedModel.Meta):
        verbose_name_plural = "replies"
        ordering = ["posted_at", "id"]
        indexes = [models.Index(fields=["company", "ticket", "posted_at"],
                                name="reply_ticket_idx")]

    def __str__(self) -> str:
        return f"Reply on {self.ticket_id} at {self.posted_at:%Y-%m-%d %H:%M}"


class StatusChange(TenantOwnedModel):
    public_id_prefix = "tsc"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=Status.choices)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")

    class Meta(TenantOwnedModel.Meta):
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["company", "ticket", "at"], name="status_change_idx")]


class PriorityChange(TenantOwnedModel):
    public_id_prefix = "tpc"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE,
                               related_name="priority_changes")
    from_priority = models.CharField(max_length=10, choices=Priority.choices)
    to_priority = models.CharField(max_length=10, choices=Priority.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")

    class Meta(TenantOwnedModel.Meta):
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["company", "ticket", "at"], name="priority_change_idx")]


class Escalation(TenantOwnedModel):
    """One fired rung of the escalation ladder: at most one per ticket, clock and level."""

    public_id_prefix = "esc"

    # A log written in bulk by the checker (a burst writes hundreds of thousands of rows):
    # the references are not checked by the database row by row at commit; the checker
    # writes only ids of tickets it holds locked, and deletes cascade through Django.
    # (Its own index is left out: the unique constraints below lead with the company.)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+",
                                db_constraint=False, db_index=False)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations",
                               db_constraint=False)
    clock = models.CharField(max_length=20)  # first_response | resolution
    level = models.PositiveSmallIntegerField()
    percent = models.PositiveSmallIntegerField()
    fired_at = models.DateTimeField()
    fired_by = models.CharField(max_length=200, default="system")
    actions = models.JSONField(default=dict, blank=True, help_text="What was done")
    run_id = models.CharField(max_length=32, blank=True,
                              help_text="The checker run that fired it")

    class Meta(TenantOwnedModel.Meta):
        ordering = ["fired_at", "id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "ticket", "clock", "level"],
                                    name="escalation_once_per_level"),
        ]

    def __str__(self) -> str:
        return f"Level {self.level} ({self.clock}) on {self.ticket_id}"


def attachment_path(instance: TicketAttachment, filename: str) -> str:
    """Files live under a random name per company; the original name is kept in the row."""
    import secrets
    from pathlib import PurePosixPath

    ext = PurePosixPath(filename).suffix.lower()[:10]
    return f"portal/attachments/{instance.company_id}/{secrets.token_hex(16)}{ext}"


class TicketAttachment(TenantOwnedModel):
    """A file attached to a ticket: by a contact in the portal or by staff in the workspace
    (with a reply or an internal note). Stored through Django storage and downloaded only
    through access-checked views; an attachment of an internal note (``reply.public`` false)
    is never offered to the portal.

    The table and its constraint keep the names they had when the portal owned the model.
    """

    public_id_prefix = "att"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    reply = models.ForeignKey(Reply, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="attachments")
    uploaded_by_contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True,
                                            blank=True, related_name="+")
    uploaded_by_user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True,
                                         blank=True, related_name="+")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)

    class Meta:
        db_table = "portal_ticketattachment"
        constraints = [models.UniqueConstraint(fields=["company", "public_id"],
                                               name="portal_ticketattachment_public_id")]
        indexes = [models.Index(fields=["company", "ticket", "created_at"],
                                name="portal_attachment_ticket_idx")]

    def __str__(self) -> str:
        return self.original_name


class CannedResponse(TenantOwnedModel):
    """A company's reusable reply text. ``body`` is a template rendered in the sandbox
    (:mod:`nestogy.tickets.canned`) with the ticket's placeholders."""

    public_id_prefix = "can"

    title = models.CharField(max_length=120)
    body = models.TextField()
    category = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta(TenantOwnedModel.Meta):
        ordering = ["title", "id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "title"], name="canned_title_unique"),
        ]

    def __str__(self) -> str:
        return self.title
