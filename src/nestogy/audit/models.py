from __future__ import annotations

from django.conf import settings
from django.db import models

from nestogy.tenancy.models import TenantOwnedModel


class AuditEntry(TenantOwnedModel):
    """One business action: who did what to which object, with a JSON snapshot of details."""

    public_id_prefix = "aud"

    action = models.CharField(max_length=80)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, blank=True)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name_plural = "audit entries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["company", "object_type", "object_id"],
                         name="audit_object_idx"),
            models.Index(fields=["company", "-created_at"], name="audit_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"
