from django.urls import path

from nestogy.workspace import views, views_composer

app_name = "workspace"

urlpatterns = [
    path("", views.queue_view, name="queue"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("company/", views.company_view, name="company"),
    path("tickets/<str:ticket_id>/", views.ticket_view, name="ticket"),
    path("tickets/<str:ticket_id>/reply", views_composer.reply_view, name="ticket_reply"),
    path("tickets/<str:ticket_id>/update", views.update_view, name="ticket_update"),
    path("tickets/<str:ticket_id>/assign", views.assign_view, name="ticket_assign"),
    # composer: canned responses, attachments (views_composer)
    path("tickets/<str:ticket_id>/canned", views_composer.insert_canned_view,
         name="ticket_canned"),
    path("tickets/<str:ticket_id>/attachments/<str:attachment_id>/",
         views_composer.attachment_view, name="ticket_attachment"),
    path("canned/", views_composer.canned_list_view, name="canned"),
    path("canned/new/", views_composer.canned_new_view, name="canned_new"),
    path("canned/<str:canned_id>/", views_composer.canned_edit_view, name="canned_edit"),
    path("canned/<str:canned_id>/delete/", views_composer.canned_delete_view,
         name="canned_delete"),
]
