"""Time worked: work types, time entries and each user's running timer.

A time entry records work done for a client, usually on a ticket: who worked, when it
started (aware UTC), how long (whole seconds, 1 s to 24 h), the work type, whether it is
billable, a note and its status. The status walks draft → submitted → approved → invoiced
(or rejected); this step creates and edits drafts only; the later billing step (rates,
rounding, approval, invoicing) builds on these columns and never changes the worked duration.

A running timer is a separate row, one per user and company: stopping it creates the entry
with the elapsed seconds, so a half-finished timer never appears as a time entry.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from nestogy.accounts.models import User
from nestogy.clients.models import Client
from nestogy.tenancy.models import TenantOwnedModel
from nestogy.tickets.models import Ticket

MAX_DURATION = 24 * 3600  # one entry covers at most a day


class WorkType(TenantOwnedModel):
    """A kind of work (remote support, on-site, project, after hours); each company its own."""

    public_id_prefix = "wtyp"

    name = models.CharField(max_length=100)
    billable = models.BooleanField(default=True,
                                   help_text="New entries of this type are billable by default")
    is_active = models.BooleanField(default=True,
                                    help_text="Inactive types are not offered for new time")

    class Meta(TenantOwnedModel.Meta):
        ordering = ["name", "id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint("company", Lower("name"), name="work_type_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class EntryStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    INVOICED = "invoiced", "Invoiced"
    REJECTED = "rejected", "Rejected"


class EntrySource(models.TextChoices):
    TIMER = "timer", "Timer"
    MANUAL = "manual", "Manual entry"


class TimeEntry(TenantOwnedModel):
    public_id_prefix = "time"

    # A deleted ticket keeps its time as client work (the hours were worked all the same).
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="time_entries")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="time_entries")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="time_entries",
                             help_text="The technician who did the work")
    started_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField()
    work_type = models.ForeignKey(WorkType, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="entries")
    billable = models.BooleanField(default=True)
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=EntryStatus.choices,
                              default=EntryStatus.DRAFT)
    source = models.CharField(max_length=10, choices=EntrySource.choices,
                              default=EntrySource.MANUAL)

    class Meta(TenantOwnedModel.Meta):
        verbose_name_plural = "time entries"
        ordering = ["started_at", "id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(duration_seconds__gt=0, duration_seconds__lte=MAX_DURATION),
                name="time_entry_duration_range"),
        ]
        indexes = [
            models.Index(fields=["company", "user", "started_at"], name="time_entry_user_idx"),
            models.Index(fields=["company", "ticket", "started_at"],
                         name="time_entry_ticket_idx"),
            models.Index(fields=["company", "client", "started_at"],
                         name="time_entry_client_idx"),
            models.Index(fields=["company", "status", "started_at"],
                         name="time_entry_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.duration_seconds // 60} min on {self.started_at:%Y-%m-%d %H:%M} UTC"

    @property
    def ended_at(self):
        from datetime import timedelta

        return self.started_at + timedelta(seconds=self.duration_seconds)

    @property
    def is_editable(self) -> bool:
        return self.status == EntryStatus.DRAFT


class RunningTimer(TenantOwnedModel):
    """A user's running stopwatch (at most one per user and company)."""

    public_id_prefix = "tmr"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    work_type = models.ForeignKey(WorkType, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    billable = models.BooleanField(default=True)
    note = models.TextField(blank=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "user"], name="one_timer_per_user"),
        ]

    def __str__(self) -> str:
        return f"Timer of user {self.user_id} since {self.started_at:%Y-%m-%d %H:%M} UTC"
