"""Admin of the notifications app. Secrets are write-only here: a webhook's signing secret is
shown once, on the page that answers the save that created or replaced it; users' channel
addresses show only whether they are set and their last 4 characters."""

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse

from nestogy.accounts.admin_base import TenantAdmin, TenantInline, request_may
from nestogy.core import secrets
from nestogy.core.forms import WriteOnlyInput, secret_help
from nestogy.notifications import actions
from nestogy.notifications.models import (
    ChannelAddress,
    Delivery,
    DeliveryAttempt,
    Notification,
    Preference,
    SenderVerification,
    StoredEvent,
    TemplateOverride,
    WebhookEndpoint,
)

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
    # (targets are encrypted when they are URLs, so they cannot be searched)
    search_fields = ("recipient_name", "event_type", "last_error")
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
        return obj.shown_target


def _state(value) -> str:
    return secrets.describe(secrets.status(value))


class WebhookEndpointForm(forms.ModelForm):
    new_secret = forms.CharField(
        label="Signing secret", required=False, strip=True, widget=WriteOnlyInput(),
        help_text="Leave blank to have one generated (shown once, after saving).")
    regenerate_secret = forms.BooleanField(
        label="Generate a new signing secret", required=False,
        help_text="The new secret is shown once, after saving; receivers must be updated.")

    class Meta:
        model = WebhookEndpoint
        fields = ("company", "name", "url", "event_types", "is_active")  # never "secret"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["new_secret"].help_text = secret_help(
                "Shared secret the receiver uses to check signatures",
                _state(self.instance.secret), clearable=False)

    def clean_new_secret(self):
        value = self.cleaned_data.get("new_secret") or ""
        if value and not 16 <= len(value) <= 200:
            raise forms.ValidationError("A signing secret is 16 to 200 characters.")
        return value


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantAdmin):
    view_perm = change_perm = SETUP
    form = WebhookEndpointForm
    list_display = ("name", "url", "is_active", "event_types")
    list_filter = ("is_active",)

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is None:  # a new endpoint always gets a secret
            fields.remove("regenerate_secret")
        return fields

    def save_model(self, request, obj, form, change):
        typed = form.cleaned_data.get("new_secret") or ""
        regenerate = form.cleaned_data.get("regenerate_secret")
        shown = None
        replace = not change or bool(typed) or bool(regenerate)
        if replace:
            value = actions.set_webhook_secret(obj, typed or None, save=False)
            shown = None if typed else value
        super().save_model(request, obj, form, change)
        if replace:
            from nestogy.audit.actions import log_action

            log_action(obj, "webhook.secret_changed", actor=request.user)
        # Shown once, on the page answering this request; kept in no session or message.
        request._nestogy_new_webhook_secret = shown

    def _show_secret_once(self, request, obj, response):
        shown = getattr(request, "_nestogy_new_webhook_secret", None)
        if not shown:
            return response
        context = {**self.admin_site.each_context(request), "title": "Signing secret",
                   "opts": self.opts, "endpoint": obj, "secret": shown,
                   "continue_url": response.get("Location", "../")}
        page = TemplateResponse(request, "admin/notifications/webhook_secret_once.html",
                                context)
        page["Cache-Control"] = "no-store"
        return page

    def response_add(self, request, obj, post_url_continue=None):
        return self._show_secret_once(request, obj,
                                      super().response_add(request, obj, post_url_continue))

    def response_change(self, request, obj):
        return self._show_secret_once(request, obj, super().response_change(request, obj))


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


class ChannelAddressForm(forms.ModelForm):
    new_address = forms.CharField(label="Address", required=False, strip=True,
                                  widget=WriteOnlyInput())

    class Meta:
        model = ChannelAddress
        fields = ("company", "user", "channel")  # never "address"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        what = "Phone number (+15551234567) or Apprise URL, e.g. slack://TokenA/TokenB/TokenC"
        if self.instance.pk:
            self.fields["new_address"].help_text = secret_help(
                what, _state(self.instance.address), clearable=False)
        else:
            self.fields["new_address"].required = True
            self.fields["new_address"].help_text = what

    def clean(self):
        cleaned = super().clean()
        value = cleaned.get("new_address")
        channel = cleaned.get("channel") or self.instance.channel
        if value and channel:
            from nestogy.core.errors import ValidationError as NestogyValidationError

            try:
                cleaned["new_address"] = actions.clean_address(channel, value, "address")
            except NestogyValidationError as exc:
                self.add_error("new_address", exc.message)
        return cleaned

    def save(self, commit=True):
        if self.cleaned_data.get("new_address"):
            self.instance.address = self.cleaned_data["new_address"]
        return super().save(commit)


@admin.register(ChannelAddress)
class ChannelAddressAdmin(TenantAdmin):
    """Users' own SMS numbers and Apprise URLs: write-only (set, ends in …)."""

    view_perm = change_perm = SETUP
    form = ChannelAddressForm
    list_display = ("user", "channel", "address_state")
    list_filter = ("channel",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)

    @admin.display(description="address")
    def address_state(self, obj):
        return _state(obj.address)


@admin.register(SenderVerification)
class SenderVerificationAdmin(ReadOnlyLogAdmin):
    """Where the company's sender address verification stands (written only by the
    verification itself; the link's nonce is not shown)."""

    view_perm = SETUP
    list_display = ("email", "requested_at", "verified_at")
    fields = ("public_id", "email", "requested_at", "verified_at")
    readonly_fields = fields
