"""Saved queue views and the dashboards' stored figures in the admin, read-only: each user
keeps their own views in the workspace; the figures are written by the dashboards and the
scheduler (an operator sees which pages are kept, when they were computed and how long that
took)."""

from django.contrib import admin

from nestogy.accounts.admin_base import TenantAdmin
from nestogy.workspace.models import DashboardSnapshot, SavedView


@admin.register(SavedView)
class SavedViewAdmin(TenantAdmin):
    list_display = ("name", "user", "position", "updated_at")
    search_fields = ("name", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("public_id", "user", "name", "query", "position", "created_at",
                       "updated_at")
    view_perm = "company.settings"
    add_perm = change_perm = delete_perm = None


@admin.register(DashboardSnapshot)
class DashboardSnapshotAdmin(TenantAdmin):
    list_display = ("key", "local_date", "computed_at", "compute_ms", "viewed_at")
    list_filter = ("key",)
    search_fields = ("key",)
    readonly_fields = ("key", "local_date", "computed_at", "compute_ms", "viewed_at")
    exclude = ("payload",)
    view_perm = "tickets.reports"
    add_perm = change_perm = delete_perm = None

    def has_add_permission(self, request):
        return False  # figures are computed, never typed in

    def has_change_permission(self, request, obj=None):
        return False  # an operator may delete a row: the page computes it again when opened
