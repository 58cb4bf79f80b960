from django.contrib import admin

from nestogy.accounts.admin_base import TenantAdmin, TenantInline, request_may
from nestogy.notifications.models import (
    ChannelAddress,
    Delivery,
    DeliveryAttempt,
    Notification,
    Preference,
    StoredEvent,
    TemplateOverride,
    WebhookEndpoint,
)
from nestogy.notifications.transports.apprise import redact

LOG = "notifications.deliveries"  # the delivery log and what it was made from
SETUP = "company.settings"  # endpoints, templates, other people's preferences


class DeliveryAttemptInline(TenantInline):
    model = DeliveryAttempt
    fields = ("number", "attempted_at", "outcome", "error")
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(TenantAdmin):
    """The delivery log: read-only, for the company's owners and admins."""

    view_perm = LOG
    change_perm = None
    list_display = ("created_at", "event_type", "channel", "recipient_name", "short_target",
                    "status", "attempts", "next_attempt_at", "last_error")
    list_filter = ("status", "channel", "event_type")
    search_fields = ("recipient_name", "target", "event_type", "last_error")
    list_select_related = ("webhook",)
    inlines = [DeliveryAttemptInline]
    readonly_fields = ("public_id", "event_type", "channel", "recipient_user", "recipient_name",
                       "short_target", "webhook", "status", "attempts", "last_error",
                       "next_attempt_at", "last_attempt_at", "sent_at", "created_at")
    exclude = ("event", "target")

    actions = ["retry_selected", "cancel_selected"]

    def has_retry_permission(self, request):
        return request_may(request, LOG)

    @admin.action(description="Retry the selected failed deliveries now",
                  permissions=["retry"])
    def retry_selected(self, request, queryset):
        from nestogy.notifications.actions import retry_deliveries

        n = retry_deliveries(list(queryset), actor=request.user)
        self.message_user(request, f"{n} deliveries queued again.")

    @admin.action(description="Cancel the selected queued deliveries", permissions=["retry"])
    def cancel_selected(self, request, queryset):
        from nestogy.notifications.actions import cancel_deliveries

        n = cancel_deliveries(list(queryset), actor=request.user)
        self.message_user(request, f"{n} deliveries cancelled.")

    @admin.display(description="target")
    def short_target(self, obj):
        return redact(obj.target) if "://" in obj.target else obj.target


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantAdmin):
    view_perm = change_perm = SETUP
    list_display = ("name", "url", "is_active", "event_types")
    list_filter = ("is_active",)


@admin.register(TemplateOverride)
class TemplateOverrideAdmin(TenantAdmin):
    view_perm = change_perm = SETUP
    list_display = ("event_type", "channel", "part", "updated_at")
    list_filter = ("channel", "part")
    search_fields = ("event_type", "content")


class ReadOnlyLogAdmin(TenantAdmin):
    """Records written by the system; staff leads may look, nobody edits."""

    view_perm = LOG
    change_perm = None


@admin.register(StoredEvent)
class StoredEventAdmin(ReadOnlyLogAdmin):
    list_display = ("occurred_at", "type", "actor")
    list_filter = ("type",)
    readonly_fields = ("public_id", "type", "context", "attachments", "actor", "occurred_at",
                       "created_at")


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyLogAdmin):
    list_display = ("attempted_at", "delivery", "number", "outcome", "error")
    list_filter = ("outcome",)
    list_select_related = ("delivery",)
    readonly_fields = ("public_id", "delivery", "number", "attempted_at", "outcome", "error")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyLogAdmin):
    list_display = ("created_at", "user", "event_type", "title", "read_at")
    list_filter = ("event_type",)
    list_select_related = ("user",)
    search_fields = ("title", "user__email")
    readonly_fields = ("public_id", "user", "event_type", "title", "body", "read_at",
                       "delivery", "created_at")


@admin.register(Preference)
class PreferenceAdmin(TenantAdmin):
    view_perm = change_perm = SETUP
    list_display = ("user", "event_type", "channel", "enabled")
    list_filter = ("channel", "enabled", "event_type")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(ChannelAddress)
class ChannelAddressAdmin(TenantAdmin):
    view_perm = change_perm = SETUP
    list_display = ("user", "channel")
    list_filter = ("channel",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)
