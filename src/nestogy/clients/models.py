from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models.functions import Lower

from nestogy.tenancy.models import TenantOwnedModel


class Client(TenantOwnedModel):
    """A business the MSP serves."""

    public_id_prefix = "cli"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    email = models.EmailField(blank=True, help_text="Billing address for invoices")
    phone = models.CharField(max_length=50, blank=True)
    website = models.URLField(blank=True)
    notes = models.TextField(blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["company", "name"], name="client_name_idx")]

    def __str__(self) -> str:
        return self.name


class Site(TenantOwnedModel):
    """A location of a client (office, data centre)."""

    public_id_prefix = "site"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code")
    timezone = models.CharField(max_length=64, blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["client", "name"]

    def __str__(self) -> str:
        return f"{self.client} – {self.name}"


class Contact(TenantOwnedModel):
    """A person at a client. May log in to the client portal."""

    public_id_prefix = "con"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=50, blank=True)
    title = models.CharField(max_length=100, blank=True)
    timezone = models.CharField(max_length=64, blank=True,
                                help_text="Portal display time zone; empty = the company's")
    portal_access = models.BooleanField(default=False)
    portal_admin = models.BooleanField(default=False,
                                       help_text="Sees every ticket of the client in the portal")
    password = models.CharField(max_length=128, blank=True)
    last_login = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["client", "name"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint("company", "client", Lower("email"),
                                    name="contact_email_per_client"),
        ]
        indexes = [models.Index(fields=["company", "email"], name="contact_email_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def set_password(self, raw: str | None) -> None:
        self.password = make_password(raw) if raw else ""

    def check_password(self, raw: str) -> bool:
        return bool(self.password) and check_password(raw, self.password)

    @property
    def has_password(self) -> bool:
        return bool(self.password) and not self.password.startswith("!")

    @property
    def portal_state(self) -> str:
        """Where the contact stands with the client portal: ``none`` (no access),
        ``invited`` (access given, no password chosen yet: the invitation is pending),
        ``active`` (can sign in) or ``admin`` (can sign in and sees every ticket of the
        client)."""
        if not self.portal_access:
            return "none"
        if not self.has_password:
            return "invited"
        return "admin" if self.portal_admin else "active"
