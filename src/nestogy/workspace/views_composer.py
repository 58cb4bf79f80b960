"""The ticket composer's own views: sending a reply or note with attachments, inserting a
canned response, downloading an attachment, and the canned-response management pages.

Replies go through ``tickets.actions.add_reply`` and files through
``tickets.attachments.attach`` in one transaction: a refused file writes no reply (and no
other file). Canned responses are read, rendered and changed through ``tickets.canned``
(the sandbox renders their bodies).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from nestogy.core.errors import NotFound, ValidationError
from nestogy.tickets import actions, attachments, canned
from nestogy.tickets.models import TicketAttachment
from nestogy.workspace import auth, composer
from nestogy.workspace.composer import ComposerForm, InsertForm
from nestogy.workspace.views import _ticket, _ticket_page

# -- sending -----------------------------------------------------------------------------------


@require_POST
@auth.staff_view("tickets.update")
def reply_view(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """Send a reply to the client or add an internal note, with any attached files."""
    ticket = _ticket(ticket_id)
    form = ComposerForm(request.POST, request.FILES, company=request.company)
    if not form.is_valid():
        return _ticket_page(request, ticket, composer=form, status=400)
    public = form.cleaned_data["kind"] == "reply"
    try:
        with transaction.atomic():
            reply = actions.add_reply(ticket, form.cleaned_data["body"], public=public,
                                      actor=request.user)
            stored = composer.attach_files(ticket, form.cleaned_data["attachments"],
                                           user=request.user, reply=reply)
    except ValidationError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _ticket_page(request, _ticket(ticket_id), composer=form, status=400)
    files = len(stored)
    with_files = f" with {files} attachment{'s' if files != 1 else ''}" if files else ""
    messages.success(request, (f"Reply sent to the client{with_files}." if public
                               else f"Internal note added{with_files}."))
    return redirect(f"/app/tickets/{ticket.public_id}/")


# -- canned responses in the composer ---------------------------------------------------------


def _joined(written: str, text: str) -> str:
    written = (written or "").rstrip()
    return f"{written}\n\n{text}" if written else text


@require_POST
@auth.staff_view("tickets.update")
def insert_canned_view(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """Add a canned response, rendered for this ticket, to what is written so far.

    With htmx the answer is the composer's message field; without JavaScript it is the
    whole ticket page with the message filled in (nothing is sent yet)."""
    ticket = _ticket(ticket_id)
    picked = InsertForm(request.POST)
    body, error, chosen = request.POST.get("body", ""), "", ""
    if not picked.is_valid():
        field, problems = next(iter(picked.errors.items()))
        error = problems[0] if field == "canned" else f"Message: {problems[0]}"
    else:
        try:
            found = canned.get_canned(picked.cleaned_data["canned"], active_only=True)
            body = _joined(picked.cleaned_data["body"],
                           canned.render(found, ticket, request.user, request.company))
            chosen = found.public_id
        except NotFound:
            error = "Choose one of the canned responses."
        except ValidationError as exc:
            error = exc.message
    composer = ComposerForm(initial={"kind": "reply", "body": body, "canned": chosen},
                            company=request.company)
    composer.canned_error = error
    if request.headers.get("HX-Request"):
        # htmx swaps only 2xx answers: the refusal is shown inside the swapped field.
        return render(request, "workspace/_composer_message.html", {"form": composer})
    return _ticket_page(request, ticket, composer=composer, status=400 if error else 200)


# -- attachments -------------------------------------------------------------------------------


@auth.staff_view("tickets.view")
def attachment_view(request: HttpRequest, ticket_id: str, attachment_id: str) -> HttpResponse:
    ticket = _ticket(ticket_id)
    attachment = TicketAttachment.objects.filter(ticket=ticket, public_id=attachment_id).first()
    if attachment is None:
        raise Http404("attachment not found")
    return attachments.download_response(attachment)


# -- managing canned responses -----------------------------------------------------------------


class CannedForm(forms.Form):
    title = forms.CharField(label="Title", max_length=canned.TITLE_MAX)
    category = forms.CharField(label="Category", max_length=canned.CATEGORY_MAX, required=False,
                               help_text="Optional, groups the list in the composer.")
    body = forms.CharField(label="Text", max_length=canned.MAX_BODY_CHARS,
                           widget=forms.Textarea(attrs={"rows": 10}),
                           help_text="Placeholders such as {{ contact.first_name }} are filled "
                                     "in for the ticket when the response is inserted.")
    is_active = forms.BooleanField(label="Active (offered in the composer)", required=False,
                                   initial=True)

    def clean_body(self):
        body = self.cleaned_data["body"]
        try:
            canned.check_body(body)
        except ValidationError as exc:
            raise forms.ValidationError(exc.message[:1].upper() + exc.message[1:] + ".") \
                from None
        return body


def _get(canned_id: str):
    try:
        return canned.get_canned(canned_id)
    except NotFound:
        raise Http404("canned response not found") from None


def _form_page(request, form, *, item=None, status=200) -> HttpResponse:
    return render(request, "workspace/canned_form.html",
                  {"form": form, "item": item, "placeholders": canned.PLACEHOLDERS},
                  status=status)


def _save(request, form, item=None) -> HttpResponse | None:
    """Create or update through the actions; a refusal lands on the form's field."""
    data = form.cleaned_data
    try:
        if item is None:
            item = canned.create_canned(request.company, data, actor=request.user)
        else:
            item = canned.update_canned(item, data, actor=request.user)
    except ValidationError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None
    return item


@auth.staff_view("canned.manage")
def canned_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "workspace/canned_list.html",
                  {"items": list(canned.canned_responses(with_author=True)),
                   "placeholders": canned.PLACEHOLDERS})


@require_http_methods(["GET", "POST"])
@auth.staff_view("canned.manage")
def canned_new_view(request: HttpRequest) -> HttpResponse:
    form = CannedForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid() and (item := _save(request, form)) is not None:
            messages.success(request, f"Canned response “{item.title}” created.")
            return redirect("/app/canned/")
        return _form_page(request, form, status=400)
    return _form_page(request, form)


@require_http_methods(["GET", "POST"])
@auth.staff_view("canned.manage")
def canned_edit_view(request: HttpRequest, canned_id: str) -> HttpResponse:
    item = _get(canned_id)
    initial = {"title": item.title, "category": item.category, "body": item.body,
               "is_active": item.is_active}
    form = CannedForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid() and _save(request, form, item) is not None:
            messages.success(request, f"Canned response “{item.title}” saved.")
            return redirect("/app/canned/")
        return _form_page(request, form, item=_get(canned_id), status=400)
    return _form_page(request, form, item=item)


@require_http_methods(["GET", "POST"])
@auth.staff_view("canned.manage")
def canned_delete_view(request: HttpRequest, canned_id: str) -> HttpResponse:
    item = _get(canned_id)
    if request.method == "POST":
        title = item.title
        canned.delete_canned(item, actor=request.user)
        messages.success(request, f"Canned response “{title}” deleted.")
        return redirect("/app/canned/")
    return render(request, "workspace/canned_delete.html", {"item": item})
