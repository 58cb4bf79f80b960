"""Payments in the admin: read-only views (every change goes through the payments modules
(recording, refunds, methods, charging), which keep invoices, credit and the audit trail
consistent)."""

from django.contrib import admin

from nestogy.accounts.admin_base import CompanyAdmin, TenantAdmin, TenantInline
from nestogy.payments.models import (
    CollectionsFlag,
    Payment,
    PaymentAllocation,
    PaymentAttempt,
    PaymentMethodOnFile,
    Refund,
    WebhookEvent,
)


class ReadOnlyTenantAdmin(TenantAdmin):
    view_perm = "invoices.view"  # what GET /payments and the payment reads need
    change_perm = None


class AllocationInline(TenantInline):
    model = PaymentAllocation
    fields = ("invoice", "amount", "from_credit")
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyTenantAdmin):
    list_display = ("public_id", "client", "amount", "currency", "method", "status",
                    "unapplied", "received_at")
    list_filter = ("method", "status", "currency")
    search_fields = ("public_id", "reference", "gateway_reference", "client__name")
    list_select_related = ("client",)
    inlines = [AllocationInline]


@admin.register(PaymentAllocation)
class PaymentAllocationAdmin(ReadOnlyTenantAdmin):
    list_display = ("payment", "invoice", "amount", "from_credit", "created_at")
    list_select_related = ("payment", "invoice")


@admin.register(Refund)
class RefundAdmin(ReadOnlyTenantAdmin):
    list_display = ("public_id", "payment", "amount", "status", "reason", "created_at")
    list_select_related = ("payment",)


@admin.register(PaymentMethodOnFile)
class PaymentMethodAdmin(ReadOnlyTenantAdmin):
    list_display = ("__str__", "client", "gateway", "auto_pay", "is_active", "exp_month",
                    "exp_year")
    list_select_related = ("client",)


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyTenantAdmin):
    list_display = ("idempotency_key", "invoice", "attempt_number", "status", "amount",
                    "error_code", "next_retry_at", "claimed_by")
    list_filter = ("status", "trigger")
    search_fields = ("idempotency_key", "gateway_reference")
    list_select_related = ("invoice",)


@admin.register(CollectionsFlag)
class CollectionsFlagAdmin(ReadOnlyTenantAdmin):
    list_display = ("invoice", "failures", "flagged_at", "resolved_at", "last_error")
    list_select_related = ("invoice",)


@admin.register(WebhookEvent)
class WebhookEventAdmin(CompanyAdmin):
    """The webhook inbox of the installation: superusers only (events arrive company-less)."""

    list_display = ("event_id", "gateway", "type", "status", "company", "received_at",
                    "processed_at")
    list_filter = ("gateway", "status", "type")
    search_fields = ("event_id",)
    view_perm = add_perm = change_perm = delete_perm = None

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
