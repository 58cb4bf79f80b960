from django.contrib import admin

from nestogy.accounts.admin_base import CompanyAdmin, TenantAdmin, TenantInline
from nestogy.billing.models import BillingRun, Invoice, InvoiceCounter, InvoiceLine


class InvoiceLineInline(TenantInline):
    model = InvoiceLine
    fields = ("description", "quantity", "unit_price", "amount", "taxable", "tax_rate")
    readonly_fields = ("amount",)
    view_perm = "invoices.view"
    add_perm = change_perm = delete_perm = "invoices.manage"

    def has_change_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_delete_permission(request, obj)


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
    view_perm = "invoices.view"
    change_perm = "invoices.manage"
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
    view_perm = "invoices.view"
    change_perm = None


@admin.register(InvoiceCounter)
class InvoiceCounterAdmin(CompanyAdmin):
    """The numbering counter of the current company (prefix editable; value read-only)."""

    list_display = ("company", "prefix", "next_value")
    readonly_fields = ("company", "next_value")
    view_perm = "invoices.view"
    change_perm = "invoices.manage"
    add_perm = delete_perm = None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        membership = getattr(request, "membership", None)
        return qs.filter(company_id=membership.company_id) if membership else qs.none()


@admin.register(BillingRun)
class BillingRunAdmin(TenantAdmin):
    """Runs started from the workspace's billing run page: a record to look at (the page
    starts and restarts them)."""

    list_display = ("as_of", "status", "issue", "done", "count", "issued", "drafts",
                    "created_at")
    list_filter = ("status", "issue")
    readonly_fields = ("started_by",)
    view_perm = "invoices.view"
    change_perm = None
