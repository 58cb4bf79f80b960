"""Saved queue views in the admin, read-only: each user keeps their own in the workspace."""

from django.contrib import admin

from nestogy.accounts.admin_base import TenantAdmin
from nestogy.workspace.models import SavedView


@admin.register(SavedView)
class SavedViewAdmin(TenantAdmin):
    list_display = ("name", "user", "position", "updated_at")
    search_fields = ("name", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("public_id", "user", "name", "query", "position", "created_at",
                       "updated_at")
    view_perm = "company.settings"
    add_perm = change_perm = delete_perm = None
