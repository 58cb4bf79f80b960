"""The admin base: a staff user sees, chooses and changes only their company's data, with the
permissions of ``accounts.roles.MATRIX``.

The company scope entered by ``CompanyScopeMiddleware`` filters every query on tenant rows.
On top of it, every admin class (``TenantAdmin``, ``TenantInline`` and the few admins of
non-tenant models, through :class:`CompanyChoices` and :class:`MatrixPermissions`) gets:

- **Permissions from the matrix.** Each class names the MATRIX permission needed to view, add,
  change and delete (``view_perm``, ``add_perm``, ``change_perm``, ``delete_perm``; ``None``
  = nobody but superusers). An inline without its own names uses those of the admin
  registered for its model. No Django model permissions are involved.
- **Choices limited to the company.** Every foreign-key, one-to-one and many-to-many form field
  (select, raw id, autocomplete) offers, and accepts, only the current company's objects:
  tenant-owned targets by ``company``; ``accounts.User`` through memberships of the company;
  ``tenancy.Company`` itself only; any other model nothing. A raw id of another company's
  user or object is a form error ("Select a valid choice"), and nothing is written.
- **Relation list filters** on a non-tenant model (a user) list only the values found in the
  company's rows, not every account of the installation.
- Actions' refusals (``PermissionDenied``, ``Conflict``, ``ValidationError``) raised while
  saving become an error message on the page instead of a server error.

Superusers (the operators of the installation) see and change every company.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.http import HttpResponseRedirect

from nestogy.accounts.models import Membership, User
from nestogy.accounts.roles import allowed
from nestogy.core.errors import NestogyError
from nestogy.tenancy.models import Company

SAME_AS_CHANGE = "same-as-change"
FROM_MODEL_ADMIN = "from-model-admin"
ACTIONS = ("view", "add", "change", "delete")


def role_of(request) -> str | None:
    membership = getattr(request, "membership", None)
    return membership.role if membership is not None else None


def request_may(request, permission: str | None) -> bool:
    """Whether the signed-in staff user may use ``permission`` (a MATRIX name) here."""
    user = getattr(request, "user", None)
    if user is not None and user.is_active and user.is_superuser:
        return True
    if permission is None:
        return False
    return allowed(role_of(request), permission)


def company_choices(request, model: type[models.Model], queryset=None):
    """``queryset`` (default: all of ``model``) limited to what ``request``'s company may pick."""
    qs = queryset if queryset is not None else model._default_manager.all()
    if request.user.is_superuser:
        return qs
    company = getattr(request, "company", None)
    if company is None:
        return qs.none()
    if issubclass(model, User):
        members = (Membership.objects.with_scopes_disabled()
                   .filter(company_id=company.pk).values("user_id"))
        return qs.filter(pk__in=members)
    if issubclass(model, Company):
        return qs.filter(pk=company.pk)
    field = _company_field(model)
    if field is not None:
        return qs.filter(**{field: company.pk})
    return qs.none()


def _company_field(model) -> str | None:
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is Company:
            return field.attname
    return None


class CompanyChoices:
    """Relation fields of forms and list filters limited to the current company."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = kwargs.get("queryset")
        if queryset is None:
            queryset = self.get_field_queryset(None, db_field, request)
        kwargs["queryset"] = company_choices(request, db_field.remote_field.model, queryset)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        queryset = kwargs.get("queryset")
        if queryset is None:
            queryset = self.get_field_queryset(None, db_field, request)
        kwargs["queryset"] = company_choices(request, db_field.remote_field.model, queryset)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser:
            return filters
        limited = []
        for item in filters:
            if isinstance(item, str) and _is_global_relation(self.model, item):
                item = (item, admin.RelatedOnlyFieldListFilter)
            limited.append(item)
        return limited


def _is_global_relation(model, path: str) -> bool:
    """Whether the list-filter path ends at a relation to a model without a company."""
    for name in path.split("__"):
        try:
            field = model._meta.get_field(name)
        except Exception:
            return False
        if not field.is_relation:
            return False
        model = field.related_model
    return _company_field(model) is None and not issubclass(model, Company)


class MatrixPermissions:
    """has_*_permission from MATRIX permission names (see the module docstring)."""

    view_perm: str | None = None
    add_perm: str | None = SAME_AS_CHANGE
    change_perm: str | None = None
    delete_perm: str | None = SAME_AS_CHANGE

    def permission_for(self, action: str) -> str | None:
        value = getattr(self, f"{action}_perm")
        if value == SAME_AS_CHANGE:
            value = self.permission_for("change")
        return value

    def may(self, request, action: str) -> bool:
        return request_may(request, self.permission_for(action))

    def has_module_permission(self, request):
        return self.may(request, "view") or self.may(request, "change")

    def has_view_permission(self, request, obj=None):
        return self.may(request, "view") or self.may(request, "change")

    def has_add_permission(self, request):
        return self.may(request, "add")

    def has_change_permission(self, request, obj=None):
        return self.may(request, "change")

    def has_delete_permission(self, request, obj=None):
        return self.may(request, "delete")


class ActionErrors:
    """A refusal raised by an action while saving becomes a message, not a server error."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except NestogyError as exc:
            self.message_user(request, exc.message or exc.code, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class CompanyAdmin(ActionErrors, CompanyChoices, MatrixPermissions, admin.ModelAdmin):
    """Base of admins of models that are not tenant-owned but shown to staff (users, the
    company itself, counters keyed by company): choices and permissions as for tenant rows."""


class TenantAdmin(ActionErrors, CompanyChoices, MatrixPermissions, admin.ModelAdmin):
    """Admin of a tenant-owned model: fills ``company`` on new rows, hides it from staff."""

    readonly_fields: tuple[str, ...] = ("public_id", "created_at", "updated_at")

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


class InlinePermissions(MatrixPermissions):
    """Inline permissions: by default those of the admin registered for the inline's model."""

    view_perm: str | None = FROM_MODEL_ADMIN
    add_perm: str | None = FROM_MODEL_ADMIN
    change_perm: str | None = FROM_MODEL_ADMIN
    delete_perm: str | None = FROM_MODEL_ADMIN

    def permission_for(self, action: str) -> str | None:
        value = getattr(self, f"{action}_perm")
        if value == FROM_MODEL_ADMIN:
            model_admin = self.admin_site._registry.get(self.model)
            if not isinstance(model_admin, MatrixPermissions):
                return None
            return model_admin.permission_for(action)
        if value == SAME_AS_CHANGE:
            return self.permission_for("change")
        return value

    def has_add_permission(self, request, obj=None):
        return self.may(request, "add")


class TenantInline(CompanyChoices, InlinePermissions, admin.TabularInline):
    extra = 0

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or [])
        excluded.append("company")
        return excluded


class TenantStackedInline(CompanyChoices, InlinePermissions, admin.StackedInline):
    extra = 0

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or [])
        excluded.append("company")
        return excluded
