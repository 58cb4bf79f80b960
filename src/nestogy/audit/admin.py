from django.contrib import admin

from nestogy.audit.models import AuditEntry
from nestogy.tenancy.admin import TenantAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(TenantAdmin):
    list_display = ("created_at", "action", "actor_label", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("action", "object_id", "object_repr", "actor_label")
    date_hierarchy = "created_at"
    view_roles = frozenset({"owner", "admin", "manager"})

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
