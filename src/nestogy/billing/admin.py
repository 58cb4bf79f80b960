from django.contrib import admin

from nestogy.billing.models import IdempotencyRecord, Invoice, InvoiceCounter, InvoiceLine
from nestogy.tenancy.admin import TenantAdmin, TenantInline

BILLING_EDITORS = frozenset({"owner", "admin", "billing"})
BILLING_VIEWERS = frozenset({"owner", "admin", "manager", "billing"})


class InvoiceLineInline(TenantInline):
    model = InvoiceLine
    fields = ("description", "quantity", "unit_price", "amount", "taxable", "tax_rate")
    readonly_fields = ("amount",)

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.is_editable

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(Invoice)
class InvoiceAdmin(TenantAdmin):
    """Drafts are editable through the API actions; issued invoices are read-only here."""

    list_display = ("__str__", "client", "status", "kind", "issue_date", "due_date", "total",
                    "balance", "currency")
    list_filter = ("status", "kind", "currency")
    search_fields = ("number", "client__name", "public_id")
    list_select_related = ("client",)
    raw_id_fields = ("client", "contract", "credits")
    inlines = [InvoiceLineInline]
    edit_roles = BILLING_EDITORS
    view_roles = BILLING_VIEWERS
    readonly_fields = ("public_id", "number", "subtotal", "tax", "total", "amount_paid",
                       "balance", "sent_at", "overdue_notified_at", "voided_at", "created_at",
                       "updated_at")

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(InvoiceLine)
class InvoiceLineAdmin(TenantAdmin):
    list_display = ("description", "invoice", "quantity", "unit_price", "amount")
    list_select_related = ("invoice",)
    raw_id_fields = ("invoice", "contract_item")
    edit_roles = frozenset()
    view_roles = BILLING_VIEWERS


@admin.register(InvoiceCounter)
class InvoiceCounterAdmin(admin.ModelAdmin):
    """The numbering counter of the current company (prefix editable; value read-only)."""

    list_display = ("company", "prefix", "next_value")
    readonly_fields = ("company", "next_value")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        membership = getattr(request, "membership", None)
        return qs.filter(company_id=membership.company_id) if membership else qs.none()

    def _role(self, request):
        membership = getattr(request, "membership", None)
        return membership.role if membership is not None else None

    def has_module_permission(self, request):
        return request.user.is_superuser or self._role(request) in BILLING_EDITORS

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(TenantAdmin):
    list_display = ("key", "status_code", "created_at")
    edit_roles = frozenset()
    view_roles = frozenset({"owner", "admin"})
