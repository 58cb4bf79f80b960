from django.urls import path

from nestogy.workspace import views

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
]
