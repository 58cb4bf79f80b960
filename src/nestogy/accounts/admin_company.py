"""The company page of the admin: settings edited through their declarations.

The form has one field per declared setting (``tenancy.company_settings.REGISTRY``) with its
help, type and choices; values are checked by ``company_settings.coerce`` (errors appear
next to the field, and nothing is saved) and saved through
``accounts.actions.change_company_settings`` (validated again, audited). Secret settings are
write-only: the page says "set, ends in …9xQz", a blank input keeps the secret, a typed one
replaces it and a "clear" box removes it; no secret is ever rendered into the page.

Owners and admins (``company.settings``) see their own company; superusers see all.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from nestogy.accounts.actions import change_company_settings
from nestogy.accounts.admin_base import CompanyAdmin as CompanyAdminBase
from nestogy.accounts.admin_base import TenantAdmin
from nestogy.core.errors import ValidationError as NestogyValidationError
from nestogy.core.forms import WriteOnlyInput, WriteOnlyTextarea, secret_help
from nestogy.core.money import validate_currency
from nestogy.core.secrets import describe
from nestogy.core.timeutil import validate_timezone
from nestogy.tenancy import company_settings
from nestogy.tenancy.models import Company, CompanyLogo

MODEL_FIELDS = ("name", "slug", "timezone", "currency", "is_active")


def field_name(key: str) -> str:
    return "setting__" + key.replace(".", "__")


def clear_name(key: str) -> str:
    return field_name(key) + "__clear"


def _form_field(definition: company_settings.SettingDef) -> forms.Field:
    label, help_text = definition.key, definition.help
    kind = definition.kind
    if definition.secret:
        widget = WriteOnlyTextarea() if kind is list else WriteOnlyInput()
        return forms.CharField(label=label, help_text=help_text, required=False, strip=True,
                               widget=widget)
    if definition.choices is not None:
        return forms.TypedChoiceField(label=label, help_text=help_text,
                                      choices=[(c, str(c)) for c in definition.choices],
                                      coerce=type(definition.default), required=True)
    if kind is bool:
        return forms.BooleanField(label=label, help_text=help_text, required=False)
    if kind is int:
        return forms.IntegerField(label=label, help_text=help_text, required=True)
    if kind is Decimal:
        return forms.DecimalField(label=label, help_text=help_text, required=True)
    if kind in (list, dict):
        return forms.JSONField(label=label, help_text=help_text, required=False)
    return forms.CharField(label=label, help_text=help_text, required=False, strip=True)


class CompanyFormBase(forms.ModelForm):
    class Meta:
        model = Company
        fields = MODEL_FIELDS

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.settings_changes: dict[str, Any] = {}
        instance = self.instance
        for key, definition in company_settings.REGISTRY.items():
            name = field_name(key)
            if name not in self.fields:
                continue
            if definition.secret:
                state = instance.secret_state(key) if instance.pk else {"set": False}
                self.fields[name].help_text = secret_help(definition.help, describe(state))
                if clear_name(key) in self.fields and not state.get("set"):
                    self.fields[clear_name(key)].disabled = True
                continue
            current = instance.get_setting(key) if instance.pk else definition.default
            self.initial[name] = current

    def clean_timezone(self):
        try:
            return validate_timezone(self.cleaned_data.get("timezone") or "")
        except NestogyValidationError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_currency(self):
        try:
            return validate_currency(self.cleaned_data.get("currency") or "")
        except NestogyValidationError as exc:
            raise forms.ValidationError(exc.message) from None

    def _setting_value(self, definition: company_settings.SettingDef, raw: Any) -> Any:
        """The form's value in the shape ``coerce`` takes (JSON types)."""
        if definition.kind is Decimal:
            return str(raw)
        if definition.kind in (list, dict) and raw is None:
            return definition.kind()
        return raw

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        stored = instance.settings or {}
        changes: dict[str, Any] = {}
        for key, definition in company_settings.REGISTRY.items():
            name = field_name(key)
            if name not in self.fields or name in self._errors:
                continue
            if definition.secret:
                typed = cleaned.get(name) or ""
                if typed:
                    changes[key] = ([line.strip() for line in typed.splitlines()
                                     if line.strip()] if definition.kind is list else typed)
                elif cleaned.get(clear_name(key)) and key in stored:
                    changes[key] = None
                continue
            value = self._setting_value(definition, cleaned.get(name))
            current = instance.get_setting(key) if instance.pk else definition.default
            if _same(definition, value, current):
                continue
            # Back at the default: forget the override rather than store the default.
            changes[key] = None if _same(definition, value, definition.default) else value
        for key, value in changes.items():
            if value is None:
                continue
            try:
                company_settings.coerce(key, value)
            except NestogyValidationError as exc:
                for error in exc.errors:
                    self.add_error(field_name(key), error.message)
        self.settings_changes = {k: v for k, v in changes.items()
                                 if field_name(k) not in self._errors}
        return cleaned


def _same(definition: company_settings.SettingDef, a: Any, b: Any) -> bool:
    if definition.kind is Decimal:
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except (InvalidOperation, ValueError):
            return False
    if definition.kind in (list, dict):
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    return a == b and type(a) is type(b)


@lru_cache(maxsize=4)
def _form_class(keys: tuple[str, ...]) -> type[CompanyFormBase]:
    attrs: dict[str, Any] = {}
    for key in keys:
        definition = company_settings.REGISTRY[key]
        attrs[field_name(key)] = _form_field(definition)
        if definition.secret:
            attrs[clear_name(key)] = forms.BooleanField(
                label=f"Clear {key}", required=False,
                help_text="Remove the stored value (back to the default).")
    return type("CompanySettingsForm", (CompanyFormBase,), attrs)


def company_form_class() -> type[CompanyFormBase]:
    return _form_class(tuple(sorted(company_settings.REGISTRY)))


def _section(key: str) -> str:
    return key.split(".", 1)[0]


@admin.register(Company)
class CompanyAdmin(CompanyAdminBase):
    list_display = ("name", "slug", "timezone", "currency", "is_active", "created_at")
    list_filter = ("is_active", "currency")
    search_fields = ("name", "slug")
    readonly_fields = ("public_id", "created_at")
    view_perm = "company.settings"
    change_perm = "company.settings"
    add_perm = None  # companies are created by the operators (superusers)
    delete_perm = None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        company = getattr(request, "company", None)
        return qs.filter(pk=company.pk) if company else qs.none()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["slug", "is_active"]  # the operator's to change
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = company_form_class()
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        sections: dict[str, list[str]] = {}
        for key in sorted(company_settings.REGISTRY):
            names = sections.setdefault(_section(key), [])
            names.append(field_name(key))
            if company_settings.REGISTRY[key].secret:
                names.append(clear_name(key))
        return [(None, {"fields": (*MODEL_FIELDS, "public_id", "created_at")}),
                *[(f"Settings: {section}", {"fields": names})
                  for section, names in sections.items()]]

    def save_model(self, request, obj, form, change):
        if change:
            # Only the company's own columns here; settings go through the action below.
            obj.save(update_fields=list(MODEL_FIELDS))
        else:
            obj.save()
        if form.settings_changes:
            change_company_settings(obj, form.settings_changes, actor=request.user)


@admin.register(CompanyLogo)
class CompanyLogoAdmin(TenantAdmin):
    """The stored logo, read-only: it is changed through ``PUT/DELETE /api/v1/company/logo``
    or the ``branding.logo_url`` setting (both checked, re-encoded and audited)."""

    view_perm = "company.settings"
    change_perm = None
    list_display = ("preview", "content_type", "width", "height", "source", "updated_at")
    fields = ("preview", "content_type", "width", "height", "sha256", "source", "source_url",
              "updated_at")
    readonly_fields = fields

    @admin.display(description="Logo")
    def preview(self, obj):
        from nestogy.tenancy.queries import logo_data_url

        return format_html('<img src="{}" alt="" style="max-height:48px">',
                           logo_data_url(obj.company_id))
