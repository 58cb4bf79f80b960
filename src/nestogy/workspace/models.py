"""Workspace models: each staff member's saved queue views."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from nestogy.accounts.models import User
from nestogy.tenancy.models import TenantOwnedModel


class SavedView(TenantOwnedModel):
    """A named queue view of one user in one company: a built-in view plus filters.

    ``query`` is the filter query string as the queue's filter form normalises it
    (``view=all&priority=high``: known fields only, in the form's order, empty ones left
    out), so the same filters always give the same text and a saved view is recognised
    when its filters are on screen. Names are unique per user and company, ignoring case.
    """

    public_id_prefix = "svw"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=4000)
    position = models.PositiveIntegerField(default=0)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["position", "id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(Lower("name"), "company", "user",
                                    name="workspace_savedview_name_unique"),
        ]
        indexes = [models.Index(fields=["company", "user", "position"],
                                name="workspace_savedview_user_idx")]

    def __str__(self) -> str:
        return self.name
