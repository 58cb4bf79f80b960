"""Admin base for tenant-owned models: each staff user sees and edits only their company.

The company scope entered by the web middleware already filters every query; this class adds
role-based permissions (from the membership the middleware found), fills ``company`` on new
rows, and hides the company column from non-superusers. Superusers see every company.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from nestogy.tenancy.models import Company, CompanyLogo

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



@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "timezone", "currency", "is_active", "created_at")
    list_filter = ("is_active", "currency")
    search_fields = ("name", "slug")
    readonly_fields = ("public_id", "created_at")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        company = getattr(request, "company", None)
        return qs.filter(pk=company.pk) if company else qs.none()

    def has_module_permission(self, request):
        return request.user.is_superuser or _role(request) in EDIT_ROLES

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(CompanyLogo)
class CompanyLogoAdmin(TenantAdmin):
    """The stored logo, read-only: it is changed through ``PUT/DELETE /api/v1/company/logo``
    or the ``branding.logo_url`` setting (both checked, re-encoded and audited)."""

    view_roles = EDIT_ROLES
    edit_roles = frozenset()
    list_display = ("preview", "content_type", "width", "height", "source", "updated_at")
    fields = ("preview", "content_type", "width", "height", "sha256", "source", "source_url",
              "updated_at")
    readonly_fields = fields

    @admin.display(description="Logo")
    def preview(self, obj):
        from nestogy.tenancy.queries import logo_data_url

        return format_html('<img src="{}" alt="" style="max-height:48px">',
                           logo_data_url(obj.company_id))
