from django.contrib import admin

from nestogy.sla.models import BusinessCalendar, ClientSLAPolicy, SLAPolicy
from nestogy.tenancy.admin import TenantAdmin

SLA_EDITORS = frozenset({"owner", "admin", "manager"})


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(TenantAdmin):
    list_display = ("name", "timezone", "is_24x7", "holiday_country", "updated_at")
    list_filter = ("is_24x7", "timezone")
    search_fields = ("name",)
    edit_roles = SLA_EDITORS


@admin.register(SLAPolicy)
class SLAPolicyAdmin(TenantAdmin):
    list_display = ("name", "calendar", "is_default", "warning_percent", "updated_at")
    list_filter = ("is_default",)
    search_fields = ("name",)
    list_select_related = ("calendar",)
    edit_roles = SLA_EDITORS


@admin.register(ClientSLAPolicy)
class ClientSLAPolicyAdmin(TenantAdmin):
    list_display = ("client", "policy")
    list_select_related = ("client", "policy")
    raw_id_fields = ("client",)
    edit_roles = SLA_EDITORS
