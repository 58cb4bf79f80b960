"""Notification data: stored events, the delivery outbox, the in-app inbox, preferences,
per-company template overrides, outgoing webhooks and users' own channel addresses.

Every table is tenant-owned (``company`` first in its indexes and unique constraints).
Secrets are encrypted at rest (:class:`~nestogy.core.secrets.EncryptedTextField`): webhook
signing secrets, users' channel addresses (Apprise URLs carry tokens) and delivery targets
that are URLs.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from nestogy.core.secrets import EncryptedTextField
from nestogy.tenancy.models import TenantOwnedModel


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    INAPP = "inapp", "In-app"
    SMS = "sms", "SMS"
    SLACK = "slack", "Slack"
    WEBHOOK = "webhook", "Webhook"


# Channels a user can switch on or off per event (webhooks are configured per company).
USER_CHANNELS = (Channel.EMAIL, Channel.INAPP, Channel.SMS, Channel.SLACK)


class StoredEvent(TenantOwnedModel):
    """One emitted event with the template context built for it (JSON)."""

    public_id_prefix = "evt"

    type = models.CharField(max_length=100)
    context = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    attachments = models.JSONField(default=list, blank=True,
                                   help_text="Attachment specs built at send time")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    occurred_at = models.DateTimeField()

    class Meta(TenantOwnedModel.Meta):
        indexes = [models.Index(fields=["company", "type", "occurred_at"],
                                name="notif_event_type_idx")]

    def __str__(self) -> str:
        return f"{self.type} at {self.occurred_at:%Y-%m-%d %H:%M}"


class WebhookEndpoint(TenantOwnedModel):
    """An outgoing webhook: JSON POSTed to ``url``, signed with HMAC-SHA256 of ``secret``."""

    public_id_prefix = "whk"

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = EncryptedTextField(help_text="Shared secret the receiver uses to check signatures "
                                          "(stored encrypted; shown once, when set)")
    event_types = models.JSONField(default=list, blank=True,
                                   help_text="Dotted event types to send; empty = all")
    is_active = models.BooleanField(default=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError as DjangoValidationError

        from nestogy.core import egress

        # Early feedback; the rules are enforced again when the request connects.
        try:
            egress.check_url(self.url)
        except egress.EgressRefused as exc:
            raise DjangoValidationError({"url": str(exc)}) from None
        if not isinstance(self.event_types, list) or not all(
                isinstance(t, str) for t in self.event_types):
            raise DjangoValidationError({"event_types": "must be a list of event type names"})

    def wants(self, event_type: str) -> bool:
        return self.is_active and (not self.event_types or event_type in self.event_types)


class Delivery(TenantOwnedModel):
    """The outbox: one row per recipient × channel, with every attempt's outcome."""

    public_id_prefix = "dlv"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    event = models.ForeignKey(StoredEvent, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=100)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                       on_delete=models.CASCADE, related_name="+")
    recipient_name = models.CharField(max_length=200, blank=True)
    # Email address, phone number, Apprise URL or webhook URL, by channel; empty for in-app.
    # URLs (which may carry tokens) are stored encrypted.
    target = EncryptedTextField(blank=True, only_urls=True)
    webhook = models.ForeignKey(WebhookEndpoint, null=True, blank=True,
                                on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["company", "status", "next_attempt_at"],
                         name="delivery_status_due_idx"),
            models.Index(fields=["company", "event"], name="delivery_event_idx"),
            # The per-minute poller looks across companies for due queued rows.
            models.Index(fields=["next_attempt_at"], name="delivery_queued_due_idx",
                         condition=Q(status="queued")),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} via {self.channel} to {self.recipient_label}"

    @property
    def recipient_label(self) -> str:
        if self.channel == Channel.WEBHOOK:
            return self.webhook.name if self.webhook_id and self.webhook else "webhook"
        return self.recipient_name or self.shown_target or "?"

    @property
    def shown_target(self) -> str:
        """The target as people may see it: URLs without their tokens."""
        return redact_url(self.target) if "://" in self.target else self.target


class DeliveryAttempt(TenantOwnedModel):
    """One try to send one delivery: when, and what happened."""

    public_id_prefix = "dat"

    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        TRANSIENT = "transient", "Temporary failure (retried)"
        PERMANENT = "permanent", "Permanent failure"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["delivery_id", "number"]
        indexes = [models.Index(fields=["company", "delivery"], name="delivery_attempt_idx")]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.outcome}"


class Notification(TenantOwnedModel):
    """A user's in-app inbox entry (what ``GET /notifications`` lists)."""

    public_id_prefix = "ntf"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    event_type = models.CharField(max_length=100)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    delivery = models.OneToOneField(Delivery, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="inbox_entry")

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["company", "user", "created_at"],
                                name="notification_inbox_idx")]

    def __str__(self) -> str:
        return self.title


class Preference(TenantOwnedModel):
    """A user's choice for one event type on one channel (absent = the role's default)."""

    public_id_prefix = "npf"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    event_type = models.CharField(max_length=100)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    enabled = models.BooleanField()

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "user", "event_type", "channel"],
                                    name="notification_pref_unique"),
        ]
        indexes = [models.Index(fields=["company", "event_type"], name="notification_pref_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.event_type}/{self.channel}: {'on' if self.enabled else 'off'}"


class ChannelAddress(TenantOwnedModel):
    """A user's own SMS number or Apprise URL (e.g. a personal Slack webhook)."""

    public_id_prefix = "nca"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    channel = models.CharField(max_length=10, choices=[(Channel.SMS, "SMS"),
                                                       (Channel.SLACK, "Slack")])
    address = EncryptedTextField(help_text="Stored encrypted; never shown again once set")

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "user", "channel"],
                                    name="notification_address_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.channel}"


class TemplateOverride(TenantOwnedModel):
    """A company's own wording for one part of one event's message (wins over the files)."""

    public_id_prefix = "ntpl"

    class Part(models.TextChoices):
        TITLE = "title", "Title / subject"
        BODY = "body", "Text body"
        HTML = "html", "HTML body (email)"

    event_type = models.CharField(max_length=100)
    channel = models.CharField(max_length=10, blank=True, choices=Channel.choices,
                               help_text="Empty = every channel")
    part = models.CharField(max_length=10, choices=Part.choices)
    content = models.TextField(help_text="Django template syntax; the event's context is "
                                         "available (plus recipient and company)")

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "event_type", "channel", "part"],
                                    name="notification_template_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.channel or '*'} {self.part}"

    def clean(self):
        """Refuse a template the sandbox would not render (too long, a forbidden tag or
        filter, a syntax error), naming the problem on the content field."""
        from django.core.exceptions import ValidationError as DjangoValidationError

        from nestogy.notifications.render import RenderError, check_override

        try:
            check_override(self.content)
        except RenderError as exc:
            raise DjangoValidationError({"content": str(exc)}) from None


class SenderVerification(TenantOwnedModel):
    """Proof that a company controls its ``notifications.from_email`` address.

    Written only by :mod:`nestogy.notifications.sender`: a request stores the address and a
    fresh nonce and mails a signed, expiring link to the address; opening the link and
    confirming sets ``verified_at``. Changing the sender address clears the row (address,
    nonce, verification); ``requested_at`` stays, for the one-request-per-cooldown limit.
    """

    public_id_prefix = "sndv"

    email = models.EmailField(max_length=254)
    # Part of the signed link; a new request replaces it, which voids older links.
    nonce = models.CharField(max_length=64)
    requested_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company"], name="notification_sender_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({'verified' if self.verified_at else 'not verified'})"


_HOSTNAME = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*\.?(?::\d+)?$|"
                       r"^\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?$", re.IGNORECASE)


def redact_url(url: str) -> str:
    """A URL as people may see it: its scheme, and its host when that is a host name or an
    IP address (in many Apprise URLs the "host" is a token, e.g. ``slack://TokenA/...``);
    never the path, query or credentials."""
    scheme, _, rest = url.partition("://")
    if not rest:
        return url
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}/…" if _HOSTNAME.match(host) else f"{scheme}://…"
