from django.urls import path

from nestogy.workspace import views, views_queue

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
    # queue: saved views and bulk actions
    path("views/new", views_queue.saved_view_create, name="saved_view_create"),
    path("views/<str:view_id>/rename", views_queue.saved_view_rename, name="saved_view_rename"),
    path("views/<str:view_id>/delete", views_queue.saved_view_delete, name="saved_view_delete"),
    path("views/<str:view_id>/move", views_queue.saved_view_move, name="saved_view_move"),
    path("bulk/assign", views_queue.bulk_assign_view, name="bulk_assign"),
    path("bulk/status", views_queue.bulk_status_view, name="bulk_status"),
]
