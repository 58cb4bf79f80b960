from django.contrib import admin

from nestogy.accounts.admin_base import TenantAdmin
from nestogy.routing.models import CategorySkill, OutOfOffice, TechnicianCalendar


@admin.register(CategorySkill)
class CategorySkillAdmin(TenantAdmin):
    list_display = ("category", "skill", "min_level")
    list_filter = ("category", "skill")
    search_fields = ("category", "skill")
    view_perm = "tickets.view"
    change_perm = "routing.manage"


@admin.register(OutOfOffice)
class OutOfOfficeAdmin(TenantAdmin):
    list_display = ("user", "starts_at", "ends_at", "note")
    list_filter = ("starts_at",)
    search_fields = ("user__email", "user__name", "note")
    raw_id_fields = ("user",)
    view_perm = "users.view"
    change_perm = "routing.manage"


@admin.register(TechnicianCalendar)
class TechnicianCalendarAdmin(TenantAdmin):
    list_display = ("user", "calendar")
    list_filter = ("calendar",)
    search_fields = ("user__email", "user__name")
    raw_id_fields = ("user",)
    view_perm = "users.view"
    change_perm = "users.update"  # PATCH /users/{id} calendar_id
