from django.urls import path

from nestogy.workspace import (
    views,
    views_auth,
    views_billing,
    views_composer,
    views_desk,
    views_dispatch,
    views_queue,
    views_time,
)

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
    path("tickets/<str:ticket_id>/routing", views.routing_view, name="ticket_routing"),
    # dispatch board
    path("dispatch/", views_dispatch.board_view, name="dispatch"),
    path("dispatch/assign", views_dispatch.assign_view, name="dispatch_assign"),
    path("dispatch/auto/", views_dispatch.preview_view, name="dispatch_preview"),
    path("dispatch/auto/apply", views_dispatch.apply_view, name="dispatch_apply"),
    # front desk: new ticket for a phone call, clients, inbox (views_desk)
    path("tickets/new", views_desk.new_ticket_view, name="ticket_new"),
    path("tickets/new/clients", views_desk.client_options_view, name="ticket_new_clients"),
    path("tickets/new/contacts", views_desk.contact_options_view, name="ticket_new_contacts"),
    path("tickets/new/sla", views_desk.sla_preview_view, name="ticket_new_sla"),
    path("clients/", views_desk.clients_view, name="clients"),
    path("clients/<str:client_id>/", views_desk.client_view, name="client"),
    path("inbox/", views_desk.inbox_view, name="inbox"),
    path("inbox/read-all", views_desk.inbox_read_all_view, name="inbox_read_all"),
    path("inbox/<str:notification_id>/read", views_desk.inbox_read_view, name="inbox_read"),
    # billing: invoices (views_billing)
    path("invoices/", views_billing.invoices_view, name="invoices"),
    path("invoices/<str:invoice_id>/", views_billing.invoice_view, name="invoice"),
    path("invoices/<str:invoice_id>/pdf", views_billing.invoice_pdf_view, name="invoice_pdf"),
    path("invoices/<str:invoice_id>/payment", views_billing.payment_view,
         name="invoice_payment"),
    # time on tickets
    path("tickets/<str:ticket_id>/time/start", views_time.timer_start_view, name="timer_start"),
    path("tickets/<str:ticket_id>/time/add", views_time.entry_add_view, name="time_add"),
    path("time/", views_time.my_time_view, name="my_time"),
    path("time/timer/stop", views_time.timer_stop_view, name="timer_stop"),
    path("time/timer/discard", views_time.timer_discard_view, name="timer_discard"),
    path("time/entries/<str:entry_id>/", views_time.entry_edit_view, name="time_entry"),
    path("time/entries/<str:entry_id>/delete", views_time.entry_delete_view,
         name="time_entry_delete"),
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
    # queue: saved views and bulk actions
    path("views/new", views_queue.saved_view_create, name="saved_view_create"),
    path("views/<str:view_id>/rename", views_queue.saved_view_rename, name="saved_view_rename"),
    path("views/<str:view_id>/delete", views_queue.saved_view_delete, name="saved_view_delete"),
    path("views/<str:view_id>/move", views_queue.saved_view_move, name="saved_view_move"),
    path("bulk/assign", views_queue.bulk_assign_view, name="bulk_assign"),
    path("bulk/status", views_queue.bulk_status_view, name="bulk_status"),
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
