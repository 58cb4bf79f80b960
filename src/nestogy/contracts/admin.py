from django.contrib import admin

from nestogy.accounts.admin_base import TenantAdmin, TenantInline
from nestogy.contracts.models import (
    Contract,
    ContractItem,
    ContractItemQuantity,
    RenewalRecord,
    UsageRecord,
)

VIEW, MANAGE = "contracts.view", "contracts.manage"


class ContractItemInline(TenantInline):
    model = ContractItem
    fields = ("kind", "description", "quantity", "unit_price", "taxable", "metric", "pricing")


@admin.register(Contract)
class ContractAdmin(TenantAdmin):
    list_display = ("name", "client", "billing_cycle", "start_date", "end_date", "currency",
                    "status", "auto_renew")
    list_filter = ("status", "billing_cycle", "auto_renew")
    search_fields = ("name", "client__name")
    list_select_related = ("client",)
    raw_id_fields = ("client",)
    inlines = [ContractItemInline]
    view_perm = VIEW
    change_perm = MANAGE


@admin.register(ContractItem)
class ContractItemAdmin(TenantAdmin):
    list_display = ("description", "contract", "kind", "quantity", "unit_price", "metric")
    list_filter = ("kind",)
    search_fields = ("description", "contract__name", "metric")
    list_select_related = ("contract",)
    raw_id_fields = ("contract",)
    view_perm = VIEW
    change_perm = MANAGE


@admin.register(ContractItemQuantity)
class ContractItemQuantityAdmin(TenantAdmin):
    list_display = ("item", "effective_from", "quantity")
    raw_id_fields = ("item",)
    view_perm = VIEW
    change_perm = MANAGE


@admin.register(UsageRecord)
class UsageRecordAdmin(TenantAdmin):
    list_display = ("item", "quantity", "occurred_at", "idempotency_key")
    search_fields = ("idempotency_key", "item__description")
    list_select_related = ("item",)
    raw_id_fields = ("item",)
    view_perm = VIEW
    change_perm = MANAGE


@admin.register(RenewalRecord)
class RenewalRecordAdmin(TenantAdmin):
    list_display = ("contract", "kind", "previous_end_date", "new_end_date", "uplift_percent",
                    "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("contract",)
    view_perm = VIEW
    change_perm = None
