from django.contrib import admin

from nestogy.core.models import ThrottleHit


@admin.register(ThrottleHit)
class ThrottleHitAdmin(admin.ModelAdmin):
    """Counted sign-in failures and reset requests (superusers only: they belong to no
    company). Deleting an email's rows lifts its lockout at once."""

    list_display = ("at", "purpose", "key", "ip")
    list_filter = ("purpose",)
    search_fields = ("key", "ip")
    readonly_fields = ("purpose", "key", "ip", "at")

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
