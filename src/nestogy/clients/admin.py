from django import forms
from django.contrib import admin

from nestogy.accounts.admin_base import TenantAdmin, TenantInline, request_may, role_of
from nestogy.clients.actions import check_portal_change
from nestogy.clients.models import Client, Contact, Site
from nestogy.core.errors import PermissionDenied

PORTAL_FLAGS = ("portal_access", "portal_admin")


class ContactForm(forms.ModelForm):
    """Portal access, portal admin and the e-mail of a contact who can sign in change only
    with ``contacts.portal`` (the rule of ``clients.actions``). Passwords are not a field:
    contacts choose theirs through the invitation or the portal's reset link."""

    actor_role: str | None = None  # set per request

    def clean(self):
        data = super().clean()
        changes = {f: data[f] for f in self.changed_data
                   if f in ("email", *PORTAL_FLAGS) and f in data}
        try:
            check_portal_change(self.instance, changes, self.actor_role)
        except PermissionDenied as exc:
            raise forms.ValidationError(exc.message) from None
        return data


def _actor_role(request):
    return None if request.user.is_superuser else role_of(request)


class SiteInline(TenantInline):
    model = Site
    fields = ("name", "address", "city", "postal_code", "country", "timezone")


class ContactInline(TenantInline):
    model = Contact
    form = ContactForm
    fields = ("name", "email", "phone", "title", "portal_access", "portal_admin")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request_may(request, "contacts.portal"):
            fields += PORTAL_FLAGS
        return fields

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.actor_role = _actor_role(request)
        return formset


@admin.register(Client)
class ClientAdmin(TenantAdmin):
    list_display = ("name", "status", "email", "phone", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "email", "notes")
    inlines = [SiteInline, ContactInline]
    view_perm = "clients.view"
    add_perm = "clients.create"
    change_perm = "clients.update"
    delete_perm = "clients.delete"


@admin.register(Site)
class SiteAdmin(TenantAdmin):
    list_display = ("name", "client", "city", "country", "timezone")
    list_filter = ("country",)
    search_fields = ("name", "client__name", "city")
    list_select_related = ("client",)
    raw_id_fields = ("client",)
    view_perm = "clients.view"
    change_perm = "clients.update"


@admin.register(Contact)
class ContactAdmin(TenantAdmin):
    list_display = ("name", "email", "client", "portal_access", "portal_admin", "last_login")
    list_filter = ("portal_access", "portal_admin")
    search_fields = ("name", "email", "client__name")
    list_select_related = ("client",)
    raw_id_fields = ("client",)
    form = ContactForm
    exclude = ("password",)
    readonly_fields = ("public_id", "created_at", "updated_at", "last_login")
    actions = ["invite_selected"]
    view_perm = "contacts.view"
    add_perm = "contacts.create"
    change_perm = "contacts.update"
    delete_perm = "contacts.delete"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request_may(request, "contacts.portal"):
            fields += PORTAL_FLAGS
            if obj is not None and (obj.portal_access or obj.has_password):
                fields.append("email")
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor_role = _actor_role(request)
        return form

    def has_portal_permission(self, request):
        return request_may(request, "contacts.portal")

    @admin.action(description="E-mail a portal invitation (set-password link)",
                  permissions=["portal"])
    def invite_selected(self, request, queryset):
        from nestogy.clients.actions import invite_contact

        for contact in queryset:
            invite_contact(contact, actor=request.user, actor_role=_actor_role(request))
        self.message_user(request, f"{queryset.count()} contacts invited to the portal.")
