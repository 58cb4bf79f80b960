"""The tenant (``Company``) and the base of every tenant-owned model.

Every row of tenant data carries ``company`` (denormalised onto child rows too) and is read
through a django-scopes manager: a query made while no company scope is active raises
``ScopeError`` instead of returning another tenant's rows. Scopes are entered only by the
web middleware, the API authentication, the task wrapper and per-company commands.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone as dj_timezone
from django_scopes import ScopedManager

from nestogy.core.ids import PublicIdField
from nestogy.tenancy import company_settings


class Company(models.Model):
    """An MSP: the tenant. Everything else belongs to exactly one company."""

    public_id_prefix = "co"

    public_id = PublicIdField(unique=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    currency = models.CharField(max_length=3, default="USD")
    settings = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_setting(self, key: str) -> Any:
        """A declared setting's value (the default when unset); not for secrets."""
        return company_settings.read(self.settings or {}, key)

    def get_secret(self, key: str) -> Any:
        """The plaintext of a secret setting, for the code that uses it (never for display:
        see :meth:`secret_state`). Raises ``UndecryptableSecret`` when no key opens it."""
        return company_settings.read_secret(self.settings or {}, key)

    def secret_state(self, key: str) -> dict[str, Any]:
        """Whether a secret setting is set and its last 4 characters."""
        return company_settings.secret_state(self.settings or {}, key)

    def set_setting(self, key: str, value: Any) -> None:
        """Validate and set one setting in memory (secrets sealed); the caller saves."""
        stored = dict(self.settings or {})
        company_settings.apply(stored, key, value)
        self.settings = stored


class TenantOwnedModel(models.Model):
    """Abstract base: company, opaque public id, timestamps, scoped manager.

    Subclasses set ``public_id_prefix`` and, when they declare ``Meta``, inherit from
    ``TenantOwnedModel.Meta`` so the ``(company, public_id)`` constraint is kept.
    """

    public_id_prefix = ""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    public_id = PublicIdField()
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(company="company")

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["company", "public_id"], name="%(app_label)s_%(class)s_public_id"
            )
        ]

    @property
    def id_str(self) -> str:
        return self.public_id


class CompanyLogo(TenantOwnedModel):
    """The company's logo, stored in the database (one per company; a few KB to 1 MB).

    Only cleaned images get here (:mod:`nestogy.core.images`: PNG/JPEG/GIF/WebP, pixel
    limits, re-encoded without metadata). PDFs embed it as a data: URL and the portal serves
    it from its own URL, so no page or PDF ever loads a URL a tenant typed.
    """

    public_id_prefix = "logo"

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded"
        URL = "url", "Fetched from branding.logo_url"

    content = models.BinaryField()
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=10, choices=Source.choices)
    source_url = models.CharField(max_length=2048, blank=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company"], name="tenancy_companylogo_one_per_company"),
        ]

    def __str__(self) -> str:
        return f"logo of company {self.company_id} ({self.width}×{self.height})"

    @property
    def size(self) -> int:
        return len(self.content)
