"""Time in the admin: work types are kept by owners and admins (through the actions, so names
stay unique per company); time entries are read-only here (technicians record them in the
workspace; approval and invoicing come with the billing of time)."""

from django.contrib import admin

from nestogy.accounts.admin_base import TenantAdmin
from nestogy.timesheets import actions
from nestogy.timesheets.models import RunningTimer, TimeEntry, WorkType


@admin.register(WorkType)
class WorkTypeAdmin(TenantAdmin):
    list_display = ("name", "billable", "is_active")
    list_filter = ("billable", "is_active")
    search_fields = ("name",)
    view_perm = "time.own"
    add_perm = change_perm = "company.settings"
    delete_perm = None  # entries keep their work type: deactivate it instead

    def save_model(self, request, obj, form, change):
        data = {"name": obj.name, "billable": obj.billable, "is_active": obj.is_active}
        if change:
            current = WorkType.objects.get(pk=obj.pk)
            actions.update_work_type(current, data, actor=request.user)
        else:
            company = obj.company if obj.company_id else request.company
            obj.pk = actions.create_work_type(company, data, actor=request.user).pk


@admin.register(TimeEntry)
class TimeEntryAdmin(TenantAdmin):
    list_display = ("started_at", "user", "client", "ticket", "duration_seconds",
                    "work_type", "billable", "status")
    list_filter = ("status", "billable", "work_type", "source")
    search_fields = ("note", "user__email", "user__name", "client__name")
    list_select_related = ("user", "client", "ticket", "work_type")
    readonly_fields = ("public_id", "ticket", "client", "user", "started_at",
                       "duration_seconds", "work_type", "billable", "note", "status",
                       "source", "created_at", "updated_at")
    view_perm = "time.view_all"
    add_perm = change_perm = delete_perm = None


@admin.register(RunningTimer)
class RunningTimerAdmin(TenantAdmin):
    """Who has a timer running, since when, on what (read-only; the workspace stops them)."""

    list_display = ("user", "started_at", "client", "ticket", "work_type")
    list_select_related = ("user", "client", "ticket", "work_type")
    search_fields = ("user__email", "user__name", "client__name")
    readonly_fields = ("public_id", "user", "ticket", "client", "started_at", "work_type",
                       "billable", "note", "created_at", "updated_at")
    view_perm = "time.view_all"
    add_perm = change_perm = delete_perm = None
