from django.contrib import admin

from nestogy.accounts.admin_base import TenantAdmin
from nestogy.api.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(TenantAdmin):
    list_display = ("key", "status_code", "created_at")
    view_perm = "invoices.manage"  # the stored responses of billing writes
    change_perm = None
