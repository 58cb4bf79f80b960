from django.urls import path

from nestogy.workspace import views, views_dispatch

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
    # dispatch board
    path("dispatch/", views_dispatch.board_view, name="dispatch"),
    path("dispatch/assign", views_dispatch.assign_view, name="dispatch_assign"),
    path("dispatch/auto/", views_dispatch.preview_view, name="dispatch_preview"),
    path("dispatch/auto/apply", views_dispatch.apply_view, name="dispatch_apply"),
]
