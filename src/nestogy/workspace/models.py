"""Workspace models: each staff member's saved queue views, and the dashboards' last figures."""

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


class DashboardSnapshot(TenantOwnedModel):
    """The last computed figures of one dashboard page of one company (``workspace.snapshots``).

    ``key`` names the page and its period (``service:7``, ``service:90``, ``revenue``);
    ``payload`` is the page's tables and chart series as tagged JSON (decimals, dates and
    times keep their type); ``local_date`` is the company's date when they were computed (a
    new day makes them stale); ``viewed_at`` is when someone last opened the page, so the
    scheduler refreshes only what people look at.
    """

    public_id_prefix = "dsn"

    key = models.CharField(max_length=40)
    local_date = models.DateField()
    computed_at = models.DateTimeField()
    compute_ms = models.PositiveIntegerField(default=0)
    viewed_at = models.DateTimeField()
    payload = models.TextField()

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "key"],
                                    name="workspace_dashboardsnapshot_key_unique"),
        ]
        indexes = [models.Index(fields=["viewed_at"], name="workspace_snapshot_viewed_idx")]

    def __str__(self) -> str:
        return f"{self.key} as of {self.computed_at:%Y-%m-%d %H:%M}"
