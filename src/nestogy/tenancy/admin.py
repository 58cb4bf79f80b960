"""Admin base for tenant-owned models: each staff user sees and edits only their company.

The company scope entered by the web middleware already filters every query; this class adds
role-based permissions (from the membership the middleware found), fills ``company`` on new
rows, and hides the company column from non-superusers. Superusers see every company.

The company page itself (``Company``, with its settings form) is registered by
``accounts.admin_company``: it saves through ``accounts.actions.change_company_settings``.
"""

from __future__ import annotations

from django.contrib import admin

EDIT_ROLES = frozenset({"owner", "admin"})
ALL_ROLES = frozenset({"owner", "admin", "manager", "technician", "billing"})


def _role(request) -> str | None:
    membership = getattr(request, "membership", None)
    return membership.role if membership is not None else None


class TenantAdmin(admin.ModelAdmin):
    view_roles: frozenset[str] = ALL_ROLES
    edit_roles: frozenset[str] = EDIT_ROLES
    readonly_fields: tuple[str, ...] = ("public_id", "created_at", "updated_at")

    def _allowed(self, request, roles) -> bool:
        if request.user.is_superuser:
            return True
        return _role(request) in roles

    def has_module_permission(self, request):
        return self._allowed(request, self.view_roles)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, self.view_roles | self.edit_roles)

    def has_add_permission(self, request):
        return self._allowed(request, self.edit_roles)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, self.edit_roles)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, self.edit_roles)

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser:
            excluded.append("company")
        return excluded

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if request.user.is_superuser and "company" not in display:
            display.append("company")
        return display

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser and "company" not in filters:
            filters.append("company")
        return filters

    def save_model(self, request, obj, form, change):
        if not change and not getattr(obj, "company_id", None):
            company = getattr(request, "company", None)
            if company is not None:
                obj.company = company
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        # Inline children carry the parent's company (denormalised tenant key).
        for inline_form in formset.forms:
            instance = inline_form.instance
            if hasattr(instance, "company_id") and not instance.company_id:
                instance.company_id = form.instance.company_id
        super().save_formset(request, form, formset, change)


class TenantInline(admin.TabularInline):
    extra = 0

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or [])
        excluded.append("company")
        return excluded
