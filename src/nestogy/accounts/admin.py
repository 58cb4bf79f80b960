from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from nestogy.accounts import admin_company  # noqa: F401  (registers the company page)
from nestogy.accounts.models import ApiToken, Membership, TechnicianProfile, User
from nestogy.tenancy.admin import TenantAdmin


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "name", "is_active", "is_staff", "is_superuser", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "name")
    readonly_fields = ("public_id", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("public_id", "email", "password")}),
        ("Profile", {"fields": ("name", "timezone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",),
                             "fields": ("email", "name", "password1", "password2")}),)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        company = getattr(request, "company", None)
        if company is None:
            return qs.none()
        return qs.filter(memberships__company=company).distinct()

    def _lead(self, request):
        membership = getattr(request, "membership", None)
        return request.user.is_superuser or (membership and membership.role in {"owner", "admin"})

    def has_module_permission(self, request):
        return bool(getattr(request, "membership", None)) or request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return bool(self._lead(request))

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "is_staff"]
        return fields


class TechnicianInline(admin.StackedInline):
    model = TechnicianProfile
    extra = 0
    exclude = ("company",)
    readonly_fields = ("public_id", "last_assigned_at")


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ("user", "role", "is_active", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("user__email", "user__name")
    list_select_related = ("user",)
    autocomplete_fields = ()
    raw_id_fields = ("user",)
    inlines = [TechnicianInline]


@admin.register(TechnicianProfile)
class TechnicianProfileAdmin(TenantAdmin):
    list_display = ("membership", "max_open_tickets", "out_of_office", "last_assigned_at")
    list_filter = ("out_of_office",)
    search_fields = ("membership__user__email", "membership__user__name")
    list_select_related = ("membership__user",)
    edit_roles = frozenset({"owner", "admin", "manager"})


@admin.register(ApiToken)
class ApiTokenAdmin(TenantAdmin):
    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__email")
    readonly_fields = ("public_id", "prefix", "token_hash", "user", "created_at", "updated_at",
                       "last_used_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are created through the API or `nestogy create_tenant`

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        from nestogy.accounts.actions import revoke_api_token

        for token in queryset:
            revoke_api_token(token, actor=request.user)
