from django.urls import path

from nestogy.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password-reset/", views.password_reset_view, name="password_reset"),
    path("set-password/<str:contact_id>/<str:token>/", views.set_password_view,
         name="set_password"),
]
