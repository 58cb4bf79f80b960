from django.urls import path

from nestogy.workspace import views, views_auth

app_name = "workspace"

urlpatterns = [
    path("", views.queue_view, name="queue"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("company/", views.company_view, name="company"),
    path("tickets/<str:ticket_id>/", views.ticket_view, name="ticket"),
    path("tickets/<str:ticket_id>/reply", views.reply_view, name="ticket_reply"),
    path("tickets/<str:ticket_id>/update", views.update_view, name="ticket_update"),
    path("tickets/<str:ticket_id>/assign", views.assign_view, name="ticket_assign"),
    # sign-in: password reset, the code step, the account page (views_auth)
    path("password-reset/", views_auth.password_reset_view, name="password_reset"),
    path("password-reset/<str:user_id>/<str:token>/", views_auth.set_password_view,
         name="password_reset_confirm"),
    path("login/code/", views_auth.code_view, name="login_code"),
    path("account/", views_auth.account_view, name="account"),
    path("account/password/", views_auth.password_change_view, name="account_password"),
    path("account/two-factor/", views_auth.enrol_view, name="account_two_factor"),
    path("account/two-factor/backup-codes/", views_auth.backup_codes_view,
         name="account_backup_codes"),
    path("account/two-factor/disable/", views_auth.disable_view, name="account_disable"),
]
