from django.contrib import admin

from nestogy.accounts.admin_base import TenantAdmin
from nestogy.sla.models import BusinessCalendar, ClientSLAPolicy, SLAPolicy


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(TenantAdmin):
    list_display = ("name", "timezone", "is_24x7", "holiday_country", "updated_at")
    list_filter = ("is_24x7", "timezone")
    search_fields = ("name",)
    view_perm = "calendars.view"
    change_perm = "calendars.manage"


@admin.register(SLAPolicy)
class SLAPolicyAdmin(TenantAdmin):
    list_display = ("name", "calendar", "is_default", "warning_percent", "updated_at")
    list_filter = ("is_default",)
    search_fields = ("name",)
    list_select_related = ("calendar",)
    view_perm = "sla_policies.view"
    change_perm = "sla_policies.manage"


@admin.register(ClientSLAPolicy)
class ClientSLAPolicyAdmin(TenantAdmin):
    list_display = ("client", "policy")
    list_select_related = ("client", "policy")
    raw_id_fields = ("client",)
    view_perm = "sla_policies.view"
    change_perm = "sla_policies.manage"
