from django.urls import path

from nestogy.portal import views, views_billing, views_tickets

app_name = "portal"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("logo/", views.logo_view, name="logo"),
    path("password-reset/", views.password_reset_view, name="password_reset"),
    path("set-password/<str:contact_id>/<str:token>/", views.set_password_view,
         name="set_password"),
    # tickets
    path("tickets/", views_tickets.ticket_list_view, name="tickets"),
    path("tickets/new/", views_tickets.ticket_new_view, name="ticket_new"),
    path("tickets/<str:ticket_id>/", views_tickets.ticket_detail_view, name="ticket_detail"),
    path("tickets/<str:ticket_id>/attachments/<str:attachment_id>/",
         views_tickets.attachment_view, name="ticket_attachment"),
    # billing
    path("invoices/", views_billing.invoice_list_view, name="invoices"),
    path("invoices/<str:invoice_id>/", views_billing.invoice_detail_view,
         name="invoice_detail"),
    path("invoices/<str:invoice_id>/pdf", views_billing.invoice_pdf_view, name="invoice_pdf"),
    path("invoices/<str:invoice_id>/pay", views_billing.invoice_pay_view, name="invoice_pay"),
    path("invoices/<str:invoice_id>/paid/", views_billing.invoice_paid_view,
         name="invoice_paid"),
    path("contracts/", views_billing.contract_list_view, name="contracts"),
]
