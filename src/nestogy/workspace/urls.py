from django.urls import path

from nestogy.workspace import views, views_time

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
    # time on tickets
    path("tickets/<str:ticket_id>/time/start", views_time.timer_start_view, name="timer_start"),
    path("tickets/<str:ticket_id>/time/add", views_time.entry_add_view, name="time_add"),
    path("time/", views_time.my_time_view, name="my_time"),
    path("time/timer/stop", views_time.timer_stop_view, name="timer_stop"),
    path("time/timer/discard", views_time.timer_discard_view, name="timer_discard"),
    path("time/entries/<str:entry_id>/", views_time.entry_edit_view, name="time_entry"),
    path("time/entries/<str:entry_id>/delete", views_time.entry_delete_view,
         name="time_entry_delete"),
]
