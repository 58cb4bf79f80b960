from django.contrib import admin

from nestogy.accounts.admin_base import TenantAdmin, TenantInline
from nestogy.tickets.models import (
    CannedResponse,
    Escalation,
    PriorityChange,
    Reply,
    StatusChange,
    Ticket,
    TicketCounter,
)


class ReplyInline(TenantInline):
    model = Reply
    fields = ("posted_at", "public", "by_staff", "author_user", "author_contact", "body")
    readonly_fields = ("posted_at", "by_staff", "author_user", "author_contact")
    can_delete = False


class StatusChangeInline(TenantInline):
    model = StatusChange
    fields = ("at", "from_status", "to_status", "actor")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EscalationInline(TenantInline):
    model = Escalation
    fields = ("fired_at", "clock", "level", "percent", "fired_by", "actions")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(TenantAdmin):
    """Tickets with their SLA state and due times. SLA columns are computed, not edited:
    change status and priority through the API or the portal so history is recorded."""

    list_display = ("number", "subject", "client", "priority", "status", "assignee",
                    "sla_state", "first_response_due_at", "resolution_due_at", "opened_at")
    list_filter = ("status", "priority", "sla_state")
    search_fields = ("subject", "description", "client__name")
    list_select_related = ("client", "assignee")
    raw_id_fields = ("client", "contact", "site", "assignee")
    date_hierarchy = "opened_at"
    readonly_fields = (
        "public_id", "number", "created_at", "updated_at", "status", "priority", "opened_at",
        "first_response_at", "resolved_at", "closed_at", "policy", "sla_state",
        "first_response_state", "resolution_state", "first_response_due_at",
        "resolution_due_at", "first_response_seconds", "resolution_seconds",
        "first_response_paused_seconds", "paused_business_seconds", "paused_since",
        "first_response_breached", "first_response_breached_by", "resolution_breached",
        "resolution_breached_by", "sla_computed_at", "next_check_at")
    inlines = [ReplyInline, StatusChangeInline, EscalationInline]
    view_perm = "tickets.view"
    change_perm = "tickets.update"
    add_perm = None  # tickets are opened through the API, the portal or an import
    delete_perm = "tickets.delete"


class HistoryAdmin(TenantAdmin):
    """History rows are written by actions only: readable here, never edited."""

    view_perm = "tickets.view"
    change_perm = None


@admin.register(Reply)
class ReplyAdmin(HistoryAdmin):
    list_display = ("ticket", "posted_at", "public", "by_staff", "author_user")
    list_filter = ("public", "by_staff")
    list_select_related = ("ticket", "author_user")


@admin.register(StatusChange)
class StatusChangeAdmin(HistoryAdmin):
    list_display = ("ticket", "at", "from_status", "to_status", "actor")
    list_select_related = ("ticket", "actor")


@admin.register(PriorityChange)
class PriorityChangeAdmin(HistoryAdmin):
    list_display = ("ticket", "at", "from_priority", "to_priority", "actor")
    list_select_related = ("ticket", "actor")


@admin.register(Escalation)
class EscalationAdmin(HistoryAdmin):
    list_display = ("ticket", "clock", "level", "percent", "fired_at", "fired_by")
    list_filter = ("clock", "level")
    list_select_related = ("ticket",)


@admin.register(TicketCounter)
class TicketCounterAdmin(HistoryAdmin):
    list_display = ("company", "last_number")


@admin.register(CannedResponse)
class CannedResponseAdmin(TenantAdmin):
    """Canned responses, read-only here: managers keep them in the workspace (/app/canned/),
    where the body is checked in the template sandbox before it is saved."""

    list_display = ("title", "category", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("title", "body")
    readonly_fields = ("public_id", "title", "body", "category", "is_active", "created_by",
                       "created_at", "updated_at")
    view_perm = "canned.manage"
    add_perm = change_perm = delete_perm = None
