"""Front-desk pages of the workspace: a new ticket for a phone call, the clients, the inbox.

- **New ticket** (``/app/tickets/new``): client and contact pickers that search as you type
  (htmx GETs answering ``<option>`` lists of the chosen company only; the contacts narrow to
  the chosen client), and the SLA due times shown before saving, computed by
  ``tickets.sla.preview`` (the policy selection and clock computation of ticket creation).
  Saving goes through ``tickets.actions.create_ticket``.
- **Clients** (``/app/clients/``): search by name or contact e-mail with each client's
  open-ticket count (one query per page), and a client page with sites, contacts (portal
  state), tickets, contracts and what the client owes (each part shown only to roles that
  may see it). Creating and changing clients, sites and contacts: ``views_clients``.
- **Inbox** (``/app/inbox/``): the user's in-app notifications (``notifications.queries``),
  unread first, with a link to the object the entry is about when the workspace has a page
  for it; mark one or all read through ``notifications.actions``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from nestogy.billing import queries as billing_queries
from nestogy.clients import queries as client_queries
from nestogy.clients.models import Client, Contact
from nestogy.contracts import queries as contract_queries
from nestogy.core.errors import NotFound, ValidationError
from nestogy.notifications import actions as notification_actions
from nestogy.notifications import queries as notification_queries
from nestogy.tickets import actions as ticket_actions
from nestogy.tickets import queries as ticket_queries
from nestogy.tickets.models import Priority, Ticket
from nestogy.tickets.sla import preview as sla_preview
from nestogy.tickets.sla import select_policy
from nestogy.workspace import auth, composer

PICKER_LIMIT = 20
CLIENTS_PAGE_SIZE = 50
INBOX_PAGE_SIZE = 50
FIELD_OF = {"client_id": "client", "contact_id": "contact"}


# -- new ticket ------------------------------------------------------------------------------


def _active_client(public_id: str) -> Client | None:
    """An active client of the chosen company (the scope filters), else None."""
    if not public_id:
        return None
    return client_queries.clients(status=Client.Status.ACTIVE).filter(
        public_id=public_id).first()


class NewTicketForm(forms.Form):
    client = forms.CharField(label="Client", max_length=40,
                             error_messages={"required": "Choose the client."})
    contact = forms.CharField(label="Contact", max_length=40, required=False)
    priority = forms.ChoiceField(label="Priority", choices=Priority.choices, initial="medium")
    category = forms.CharField(label="Category", max_length=100, required=False)
    subject = forms.CharField(label="Subject", max_length=300,
                              error_messages={"required": "Say in a few words what is wrong."})
    description = forms.CharField(label="Description", max_length=100_000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 7}))
    attachments = composer.MultipleFileField(label="Attachments", required=False)
    assign_to_me = forms.BooleanField(label="Assign to me", required=False)

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company
        self.fields["attachments"].help_text = composer.files_help(company)

    def clean_attachments(self):
        return composer.checked_files(self.cleaned_data.get("attachments") or [],
                                      self.company)

    def clean_client(self) -> Client:
        client = _active_client(self.cleaned_data["client"])
        if client is None:
            raise forms.ValidationError("Choose an active client of this company.")
        return client

    def clean(self):
        data = super().clean()
        client, wanted = data.get("client"), data.get("contact")
        data["contact"] = None
        if wanted:
            contact = (Contact.objects.filter(public_id=wanted, client=client).first()
                       if client else None)
            if contact is None:
                self.add_error("contact", "Choose a contact of the chosen client.")
            data["contact"] = contact
        return data


def _client_options(q: str, selected: str) -> dict:
    found = list(client_queries.search_clients(q, status=Client.Status.ACTIVE)
                 .order_by("name", "id").only("public_id", "name")[:PICKER_LIMIT + 1])
    more = len(found) > PICKER_LIMIT
    found = found[:PICKER_LIMIT]
    chosen = None
    if selected and not any(c.public_id == selected for c in found):
        # Keep the chosen client in the list while another search narrows it away.
        chosen = _active_client(selected)
    return {"clients": ([chosen] if chosen else []) + found, "selected": selected, "more": more,
            "q": q}


def _contact_options(client: Client | None, q: str, selected: str) -> dict:
    contacts = []
    if client is not None:
        contacts = list(client_queries.contacts(client=client, q=(q or "").strip() or None)
                        .order_by("name", "id")[:50])
    return {"client": client, "contacts": contacts, "selected": selected, "q": q}


def _preview(client: Client | None, priority: str) -> dict:
    if client is None:
        return {"client": None}
    found = sla_preview(client, priority)
    return {"client": client, "priority": dict(Priority.choices).get(priority, priority),
            "preview": found, "result": found.result}


@auth.staff_view("tickets.create")
@require_http_methods(["GET", "POST"])
def new_ticket_view(request: HttpRequest) -> HttpResponse:
    form = NewTicketForm(request.POST or None, request.FILES or None, company=request.company,
                         initial={"client": request.GET.get("client", ""),
                                  "priority": "medium"})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    ticket = ticket_actions.create_ticket(request.company, {
                        "client": data["client"], "contact": data["contact"],
                        "subject": data["subject"], "description": data["description"],
                        "priority": data["priority"], "category": data["category"],
                        **({"assignee": request.user} if data["assign_to_me"] else {}),
                    }, actor=request.user)
                    stored = composer.attach_files(ticket, data["attachments"],
                                                   user=request.user)
            except ValidationError as exc:
                field = FIELD_OF.get(exc.field, exc.field)
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                files = len(stored)
                with_files = (f" with {files} attachment{'s' if files != 1 else ''}"
                              if files else "")
                messages.success(request, f"Ticket #{ticket.number} opened for "
                                          f"{ticket.client.name}{with_files}.")
                return redirect(f"/app/tickets/{ticket.public_id}/")
        status = 400
    source = form.data if form.is_bound else request.GET
    client = _active_client(str(source.get("client", ""))[:40])
    priority = source.get("priority") if source.get("priority") in Priority.values else "medium"
    return render(request, "workspace/new_ticket.html", {
        "form": form,
        "client_q": form.data.get("client_q", "") if form.is_bound else "",
        "contact_q": form.data.get("contact_q", "") if form.is_bound else "",
        "client_options": _client_options("", client.public_id if client else ""),
        "contact_options": _contact_options(client, "", str(source.get("contact", ""))[:40]),
        "sla": _preview(client, priority),
        "categories": ticket_queries.categories(),
    }, status=status)


@auth.staff_view("tickets.create")
@require_GET
def client_options_view(request: HttpRequest) -> HttpResponse:
    """``<option>`` elements: the active clients matching ``client_q`` (name or contact
    e-mail), the chosen ``client`` kept selected."""
    return render(request, "workspace/_client_options.html",
                  _client_options(request.GET.get("client_q", "")[:200].strip(),
                                  request.GET.get("client", "")[:40]))


@auth.staff_view("tickets.create")
@require_GET
def contact_options_view(request: HttpRequest) -> HttpResponse:
    """``<option>`` elements: the chosen client's contacts matching ``contact_q``."""
    client = _active_client(request.GET.get("client", "")[:40])
    return render(request, "workspace/_contact_options.html",
                  _contact_options(client, request.GET.get("contact_q", "")[:200],
                                   request.GET.get("contact", "")[:40]))


@auth.staff_view("tickets.create")
@require_GET
def sla_preview_view(request: HttpRequest) -> HttpResponse:
    """The due times a ticket of the chosen client and priority would get if saved now."""
    priority = request.GET.get("priority") or "medium"
    if priority not in Priority.values:
        return render(request, "workspace/_sla_preview.html",
                      {"error": "Priority: Select a valid choice."}, status=400)
    client = _active_client(request.GET.get("client", "")[:40])
    return render(request, "workspace/_sla_preview.html", _preview(client, priority))


# -- clients ---------------------------------------------------------------------------------


class ClientSearch(forms.Form):
    q = forms.CharField(label="Search", max_length=200, required=False)
    status = forms.ChoiceField(label="Status", required=False, choices=[
        ("active", "Active"), ("archived", "Archived"), ("all", "All")])
    page = forms.IntegerField(required=False, min_value=1)


@auth.staff_view("clients.view")
def clients_view(request: HttpRequest) -> HttpResponse:
    form = ClientSearch(request.GET or None, initial={"status": "active"})
    filters = form.cleaned_data if form.is_valid() else {}
    status = filters.get("status") or "active"
    qs = client_queries.search_clients(filters.get("q") or None,
                                       status=None if status == "all" else status)
    qs = ticket_queries.with_open_ticket_counts(qs).order_by("name", "id")
    page = Paginator(qs, CLIENTS_PAGE_SIZE).get_page(filters.get("page") or 1)
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "workspace/clients.html", {
        "form": form, "page": page, "clients": page.object_list, "query": params.urlencode(),
        "q": filters.get("q") or "", "status": status,
        "errors": form.errors if form.is_bound else {},
        "can_tickets": auth.can(request, "tickets.view"),
        "can_create_client": auth.can(request, "clients.create"),
    }, status=400 if form.is_bound and form.errors else 200)


@auth.staff_view("clients.view")
def client_view(request: HttpRequest, client_id: str) -> HttpResponse:
    try:
        client = client_queries.get_client(client_id)
    except NotFound:
        raise Http404("client not found") from None
    contacts = list(client_queries.contacts(client=client).order_by("name", "id"))
    context = {
        "client": client,
        "sites": list(client.sites.order_by("name", "id")),
        "contacts": contacts,
        "can_tickets": auth.can(request, "tickets.view"),
        "can_create": auth.can(request, "tickets.create"),
        "can_contracts": auth.can(request, "contracts.view"),
        "can_invoices": auth.can(request, "invoices.view"),
        "can_edit": auth.can(request, "clients.update"),
        "can_add_contact": auth.can(request, "contacts.create"),
        "can_edit_contact": auth.can(request, "contacts.update"),
    }
    if context["can_tickets"]:
        context |= {
            "open_tickets": ticket_queries.client_tickets(client, closed=False, limit=25),
            "open_count": ticket_queries.open_ticket_count(client),
            "recent_tickets": ticket_queries.client_tickets(client, closed=True, limit=10),
            "policy": select_policy(client),
        }
    if context["can_contracts"]:
        context["contracts"] = list(contract_queries.contracts(client=client)
                                    .order_by("-start_date", "-id"))
    if context["can_invoices"]:
        context["owed"] = billing_queries.open_totals(client)
        context["open_invoices"] = list(billing_queries.open_invoices(client)[:25])
    return render(request, "workspace/client.html", context)


# -- inbox -----------------------------------------------------------------------------------


def _principal(request: HttpRequest):
    """The membership, with its user taken from the request (no extra query)."""
    membership = request.membership
    membership.user = request.user
    return membership


def _ticket_id(context: dict) -> str | None:
    ticket = context.get("ticket")
    return context.get("ticket_id") or (ticket.get("id") if isinstance(ticket, dict) else None)


def link_target(event_type: str, context: dict) -> tuple[str, str] | None:
    """What an inbox entry is about, as ``(kind, public id or queue query)``, from its event
    type and payload; ``None`` when the workspace has no page for it (invoices, payments,
    staff invitations)."""
    if not isinstance(context, dict):
        return None
    if event_type == "sla.digest":
        lines = context.get("lines") or []
        ids = {line.get("ticket_id") for line in lines if isinstance(line, dict)}
        if len(ids) == 1 and None not in ids:
            return ("ticket", ids.pop())
        worst = "warning" if not (context.get("breaches") or context.get("escalations")) \
            else "breached"
        return ("queue", urlencode({"view": "all", "sla_state": worst}))
    if event_type.startswith(("ticket.", "sla.")) and _ticket_id(context):
        return ("ticket", _ticket_id(context))
    if event_type.startswith("contract."):
        client = context.get("client")
        if isinstance(client, dict) and client.get("id"):
            return ("client", client["id"])
    return None


def _links(request: HttpRequest, entries) -> dict[int, str]:
    """The link of each entry whose object exists and whose page the role may open
    (one query per kind of object on the page)."""
    targets = {}
    for entry in entries:
        event = entry.delivery.event if entry.delivery_id and entry.delivery else None
        target = link_target(entry.event_type, event.context if event else {})
        if target:
            targets[entry.pk] = target
    wanted = {kind: {value for k, value in targets.values() if k == kind}
              for kind in ("ticket", "client")}
    existing = {
        "ticket": set(Ticket.objects.filter(public_id__in=wanted["ticket"])
                      .values_list("public_id", flat=True))
        if wanted["ticket"] and auth.can(request, "tickets.view") else set(),
        "client": set(Client.objects.filter(public_id__in=wanted["client"])
                      .values_list("public_id", flat=True))
        if wanted["client"] and auth.can(request, "clients.view") else set(),
    }
    links = {}
    for pk, (kind, value) in targets.items():
        if kind == "queue" and auth.can(request, "tickets.view"):
            links[pk] = f"/app/?{value}"
        elif kind == "ticket" and value in existing["ticket"]:
            links[pk] = f"/app/tickets/{value}/"
        elif kind == "client" and value in existing["client"]:
            links[pk] = f"/app/clients/{value}/#contracts"
    return links


class InboxFilter(forms.Form):
    show = forms.ChoiceField(required=False, choices=[("all", "All"), ("unread", "Unread")])
    page = forms.IntegerField(required=False, min_value=1)


@auth.staff_view("notifications.own")
def inbox_view(request: HttpRequest) -> HttpResponse:
    form = InboxFilter(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    show = filters.get("show") or "all"
    principal = _principal(request)
    qs = (notification_queries.inbox(principal, unread=True if show == "unread" else None)
          .select_related("delivery__event")
          .annotate(unread_first=Case(When(read_at__isnull=True, then=Value(0)),
                                      default=Value(1), output_field=IntegerField()))
          .order_by("unread_first", "-created_at", "-id"))
    page = Paginator(qs, INBOX_PAGE_SIZE).get_page(filters.get("page") or 1)
    entries = list(page.object_list)
    links = _links(request, entries)
    return render(request, "workspace/inbox.html", {
        "page": page, "entries": [(e, links.get(e.pk)) for e in entries], "show": show,
        "unread": notification_queries.inbox(principal, unread=True).count(),
    }, status=400 if form.is_bound and form.errors else 200)


def _back_to_inbox(request: HttpRequest) -> HttpResponse:
    show = request.POST.get("show")
    return redirect("/app/inbox/?show=unread" if show == "unread" else "/app/inbox/")


@require_POST
@auth.staff_view("notifications.own")
def inbox_read_view(request: HttpRequest, notification_id: str) -> HttpResponse:
    try:
        entry = notification_queries.get_notification_for(_principal(request), notification_id)
    except NotFound:
        raise Http404("notification not found") from None
    notification_actions.mark_read(entry, actor=request.user)
    messages.success(request, f"Marked read: {entry.title}")
    return _back_to_inbox(request)


@require_POST
@auth.staff_view("notifications.own")
def inbox_read_all_view(request: HttpRequest) -> HttpResponse:
    count = notification_actions.mark_all_read(_principal(request))
    messages.success(request, "Nothing was unread." if not count else
                     f"{count} notification{'s' if count != 1 else ''} marked read.")
    return _back_to_inbox(request)
