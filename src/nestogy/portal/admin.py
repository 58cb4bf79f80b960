from django.contrib import admin

from nestogy.portal.models import LoginFailure


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Failed portal sign-ins (superusers only: they are not tied to one company)."""

    list_display = ("email", "ip", "at")
    list_filter = ("at",)
    search_fields = ("email", "ip")
    readonly_fields = ("email", "ip", "at")

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False
