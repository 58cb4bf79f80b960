from django.contrib import admin

from nestogy.clients.models import Client, Contact, Site
from nestogy.tenancy.admin import TenantAdmin, TenantInline

CLIENT_EDITORS = frozenset({"owner", "admin", "manager", "billing"})


class SiteInline(TenantInline):
    model = Site
    fields = ("name", "address", "city", "postal_code", "country", "timezone")


class ContactInline(TenantInline):
    model = Contact
    fields = ("name", "email", "phone", "title", "portal_access", "portal_admin")


@admin.register(Client)
class ClientAdmin(TenantAdmin):
    list_display = ("name", "status", "email", "phone", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "email", "notes")
    inlines = [SiteInline, ContactInline]
    edit_roles = CLIENT_EDITORS


@admin.register(Site)
class SiteAdmin(TenantAdmin):
    list_display = ("name", "client", "city", "country", "timezone")
    list_filter = ("country",)
    search_fields = ("name", "client__name", "city")
    list_select_related = ("client",)
    raw_id_fields = ("client",)
    edit_roles = CLIENT_EDITORS


@admin.register(Contact)
class ContactAdmin(TenantAdmin):
    list_display = ("name", "email", "client", "portal_access", "portal_admin", "last_login")
    list_filter = ("portal_access", "portal_admin")
    search_fields = ("name", "email", "client__name")
    list_select_related = ("client",)
    raw_id_fields = ("client",)
    exclude = ("password",)
    readonly_fields = ("public_id", "created_at", "updated_at", "last_login")
    edit_roles = CLIENT_EDITORS
