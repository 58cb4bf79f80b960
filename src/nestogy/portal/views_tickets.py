"""Portal ticket pages: list with SLA due times, new ticket with attachment, detail + reply.

Tickets change only through ``nestogy.tickets.actions`` (``create_ticket``, ``add_reply``);
the portal adds the attachment rows in the same transaction, so a refused file leaves no
ticket behind.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from nestogy.core.errors import ValidationError
from nestogy.portal import auth, queries
from nestogy.tenancy.models import Company
from nestogy.tickets import attachments as uploads
from nestogy.tickets.actions import add_reply, create_ticket
from nestogy.tickets.models import CLOSED_STATUSES, Status, TicketAttachment

STATUS_FILTERS = [("", "All"), ("open", "Open (not resolved)"), ("closed", "Resolved or closed"),
                  *[(s.value, s.label) for s in Status]]
PAGE_SIZE = 25


def _attachment_help(company) -> str:
    return (f"Optional. {uploads.ALLOWED_LABEL}, up to "
            f"{company.get_setting('portal.max_attachment_mb')} MB.")


class NewTicketForm(forms.Form):
    subject = forms.CharField(label="Subject", max_length=300)
    description = forms.CharField(label="Describe the problem", max_length=100_000,
                                  widget=forms.Textarea(attrs={"rows": 8}))
    priority = forms.ChoiceField(label="Priority")
    category = forms.CharField(label="Category", max_length=100, required=False,
                               help_text="Optional, e.g. Email, Printer, Network.")
    attachment = forms.FileField(label="Attachment", required=False)

    def __init__(self, *args, priorities, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company
        self.fields["priority"].choices = priorities
        self.fields["priority"].initial = "medium"
        if not any(value == "critical" for value, _ in priorities):
            self.fields["priority"].help_text = ("Critical is available to clients with an "
                                                 "active support contract.")
        self.fields["attachment"].help_text = _attachment_help(company)

    def clean_attachment(self):
        return _checked_upload(self.cleaned_data.get("attachment"), self.company)


class ReplyForm(forms.Form):
    body = forms.CharField(label="Your reply", max_length=100_000,
                           widget=forms.Textarea(attrs={"rows": 5}))
    attachment = forms.FileField(label="Attachment", required=False)

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company
        self.fields["attachment"].help_text = _attachment_help(company)

    def clean_attachment(self):
        return _checked_upload(self.cleaned_data.get("attachment"), self.company)


def _checked_upload(upload, company):
    if upload:
        try:
            uploads.check_upload(upload, company)
        except ValidationError as exc:
            raise forms.ValidationError(f"The file {exc.message}.") from None
    return upload


def _company(contact) -> Company:
    return Company.objects.get(pk=contact.company_id)


@auth.contact_required
def ticket_list_view(request: HttpRequest) -> HttpResponse:
    contact = request.contact
    status = request.GET.get("status", "")
    if status not in {value for value, _ in STATUS_FILTERS}:
        status = ""
    page = Paginator(queries.ticket_list(contact, status=status), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "portal/tickets/list.html", {
        "page": page, "tickets": page.object_list, "status": status,
        "filters": STATUS_FILTERS, "query": urlencode({"status": status}) if status else ""})


@auth.contact_required
@require_http_methods(["GET", "POST"])
def ticket_new_view(request: HttpRequest) -> HttpResponse:
    contact, company = request.contact, _company(request.contact)
    form = NewTicketForm(request.POST or None, request.FILES or None, company=company,
                         priorities=queries.allowed_priorities(contact.client))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    ticket = create_ticket(company, {
                        "client": contact.client, "contact": contact,
                        "subject": data["subject"], "description": data["description"],
                        "priority": data["priority"], "category": data["category"]})
                    if data.get("attachment"):
                        uploads.attach(ticket, data["attachment"], contact=contact)
            except ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"Ticket #{ticket.number} is open. We will be in "
                                          "touch.")
                return redirect(f"/portal/tickets/{ticket.public_id}/")
        status = 400
    return render(request, "portal/tickets/new.html", {"form": form}, status=status)


def _visible_attachments(ticket):
    """What a contact may see: files contacts attached and files on public replies; never a
    file that came with an internal note."""
    return (TicketAttachment.objects.filter(ticket=ticket)
            .exclude(reply__isnull=False, reply__public=False))


def _detail(request, ticket, reply_form, status=200) -> HttpResponse:
    attachments = list(_visible_attachments(ticket).order_by("created_at", "id"))
    return render(request, "portal/tickets/detail.html", {
        "ticket": ticket, "replies": queries.public_replies(ticket),
        "attachments": attachments, "form": reply_form,
        "is_closed": ticket.status in CLOSED_STATUSES}, status=status)


@auth.contact_required
@require_http_methods(["GET", "POST"])
def ticket_detail_view(request: HttpRequest, ticket_id: str) -> HttpResponse:
    contact = request.contact
    ticket = queries.get_ticket(contact, ticket_id)
    company = _company(contact)
    form = ReplyForm(request.POST or None, request.FILES or None, company=company)
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    reply = add_reply(ticket, form.cleaned_data["body"], public=True,
                                      contact=contact)
                    if form.cleaned_data.get("attachment"):
                        uploads.attach(ticket, form.cleaned_data["attachment"],
                                       contact=contact, reply=reply)
            except ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "Your reply was added.")
                return redirect(f"/portal/tickets/{ticket.public_id}/#reply-{reply.public_id}")
        ticket.refresh_from_db()
        return _detail(request, ticket, form, status=400)
    return _detail(request, ticket, form)


@auth.contact_required
def attachment_view(request: HttpRequest, ticket_id: str, attachment_id: str) -> HttpResponse:
    ticket = queries.get_ticket(request.contact, ticket_id)
    attachment = _visible_attachments(ticket).filter(public_id=attachment_id).first()
    if attachment is None:
        raise Http404("attachment not found")
    return uploads.download_response(attachment)

