from django.contrib import admin
from django.urls import include, path

from nestogy.accounts.admin_login import install as install_admin_login_throttle
from nestogy.accounts.views import invitation_page
from nestogy.api.app import api
from nestogy.notifications.views import sender_verification
from nestogy.ops.console import platform_view
from nestogy.ops.views import healthz

admin.site.site_header = "Nestogy"
admin.site.site_title = "Nestogy"
admin.site.index_title = "Operations"
admin.site.index_template = "admin/platform_index.html"  # links the operators' console
install_admin_login_throttle(admin.site)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/platform/", platform_view, name="platform"),
    path("admin/", admin.site.urls),
    path("portal/", include("nestogy.portal.urls")),
    path("app/", include("nestogy.workspace.urls")),
    path("sender-verification/<str:token>/", sender_verification, name="sender-verification"),
    path("invitations/<str:token>/", invitation_page, name="invitation"),
]
