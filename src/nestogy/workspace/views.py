"""Staff workspace pages: sign-in, the queue and the ticket workspace.

Views are thin: they read through queries (``workspace.queries``, ``tickets.queries``) and
change things only through the ticket actions the API uses, so a reply posted here counts
as the first response exactly as one posted through the API. Every page other than sign-in
runs through :func:`nestogy.workspace.auth.staff_view` (scope, role matrix, time zone).
"""

from __future__ import annotations

from django import forms
from django.contrib import auth as django_auth
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from nestogy.accounts.middleware import SESSION_COMPANY_KEY
from nestogy.accounts.queries import members
from nestogy.core.errors import NotFound, ValidationError
from nestogy.core.timeutil import now as utc_now
from nestogy.tickets import actions
from nestogy.tickets import queries as ticket_queries
from nestogy.tickets.models import Priority, Status, Ticket
from nestogy.workspace import auth, composer, views_queue
from nestogy.workspace import queries as q


class LoginForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "username",
                                                            "autofocus": True}))
    password = forms.CharField(label="Password", strip=False, max_length=128,
                               widget=forms.PasswordInput(
                                   attrs={"autocomplete": "current-password"}))


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and auth.memberships(request.user):
        return redirect(auth.safe_next(request))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        user, error = auth.sign_in(request, form.cleaned_data["email"],
                                   form.cleaned_data["password"])
        if user is not None:
            return redirect(auth.after_sign_in(request))
        form.add_error(None, error)
        status = 429 if error.startswith("Too many") else 400
    elif request.method == "POST":
        status = 400
    return render(request, "workspace/login.html",
                  {"form": form, "next": auth.safe_next(request)}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    django_auth.logout(request)
    return redirect("/app/login/")


@require_http_methods(["GET", "POST"])
def company_view(request: HttpRequest) -> HttpResponse:
    """Pick the company to work in (users who belong to several)."""
    if not request.user.is_authenticated:
        return redirect("/app/login/?next=/app/company/")
    found = auth.memberships(request.user)
    if request.method == "POST":
        wanted = request.POST.get("company", "")
        if any(m.company.public_id == wanted for m in found):
            request.session[SESSION_COMPANY_KEY] = wanted
            return redirect(auth.safe_next(request))
        return render(request, "workspace/company.html",
                      {"memberships": found, "next": auth.safe_next(request),
                       "error": "Choose one of your companies."}, status=400)
    return render(request, "workspace/company.html",
                  {"memberships": found, "next": auth.safe_next(request)})


# -- queue: see views_queue (views, filters, saved views, bulk actions, self-refresh) ------

queue_view = views_queue.queue_view


# -- ticket workspace ------------------------------------------------------------------------


class ControlsForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    priority = forms.ChoiceField(choices=Priority.choices)
    category = forms.CharField(required=False, max_length=100)


def _ticket(public_id: str) -> Ticket:
    try:
        return ticket_queries.get_ticket(public_id)
    except NotFound:
        raise Http404("ticket not found") from None


def composer_form(request: HttpRequest) -> composer.ComposerForm:
    return composer.ComposerForm(initial={"kind": "reply"}, company=request.company)


def composer_picker(request: HttpRequest) -> dict:
    return composer.picker(request) if auth.can(request, "tickets.update") else {}


def _ticket_page(request: HttpRequest, ticket: Ticket, *, composer=None, controls=None,
                 status: int = 200) -> HttpResponse:
    now = utc_now()
    calendars = q.Calendars()
    # The routing panel is ranked with the page while the ticket waits for someone (that is
    # the moment to choose); on an assigned ticket it is a reassignment aid, ranked when the
    # user opens it (``routing_view``), so working the ticket does not pay for it.
    wanted = ticket.assignee_id is None or request.GET.get("routing") == "1"
    ranking = users = load = None
    if wanted and auth.can(request, "tickets.assign") and not ticket.is_closed:
        ranking, users, load = _ranking(ticket, now)
    return render(request, "workspace/ticket.html", {
        "ticket": ticket,
        "clocks": [q.countdown(ticket, c, now, calendars)
                   for c in ("first_response", "resolution")],
        "timeline": q.timeline(ticket),
        "ticket_files": q.ticket_attachments(ticket),
        "panel": q.client_panel(ticket),
        "composer": composer or composer_form(request),
        **composer_picker(request),
        "controls": controls or ControlsForm(initial={"status": ticket.status,
                                                      "priority": ticket.priority,
                                                      "category": ticket.category}),
        "ranking": ranking, "users": users or {}, "load": load or {},
        "staff": [m for m in members(request.membership) if m.is_active],
        "can_update": auth.can(request, "tickets.update"),
        "can_assign": auth.can(request, "tickets.assign"),
        "now": now,
    }, status=status)


@auth.staff_view("tickets.view")
def ticket_view(request: HttpRequest, ticket_id: str) -> HttpResponse:
    return _ticket_page(request, _ticket(ticket_id))


def _ranking(ticket: Ticket, now):
    from nestogy.tickets.routing import candidates_with_load

    return candidates_with_load(ticket, now=now)


@auth.staff_view("tickets.assign")
def routing_view(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """The routing panel alone (opened on an assigned ticket): ranked technicians with each
    score's breakdown, the excluded ones with their reason, a button to assign each."""
    ticket = _ticket(ticket_id)
    if ticket.is_closed:
        return HttpResponse('<p class="muted">The ticket is closed: nobody to suggest.</p>')
    ranking, users, load = _ranking(ticket, utc_now())
    response = render(request, "workspace/_routing.html", {
        "ticket": ticket, "ranking": ranking, "users": users, "load": load})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@auth.staff_view("tickets.update")
def update_view(request: HttpRequest, ticket_id: str) -> HttpResponse:
    ticket = _ticket(ticket_id)
    form = ControlsForm(request.POST)
    if not form.is_valid():
        return _ticket_page(request, ticket, controls=form, status=400)
    data = form.cleaned_data
    try:
        if data["category"] != ticket.category:
            ticket = actions.update_ticket(ticket, {"category": data["category"]},
                                           actor=request.user)
        if data["priority"] != ticket.priority:
            ticket = actions.change_priority(ticket, data["priority"], actor=request.user)
        if data["status"] != ticket.status:
            ticket = actions.change_status(ticket, data["status"], actor=request.user)
    except ValidationError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return _ticket_page(request, _ticket(ticket_id), controls=form, status=400)
    messages.success(request, "Ticket updated.")
    return redirect(f"/app/tickets/{ticket.public_id}/")


@require_POST
@auth.staff_view("tickets.assign")
def assign_view(request: HttpRequest, ticket_id: str) -> HttpResponse:
    """Assign to a member (``assignee`` = a user's public id, ``me``, or ``none``)."""
    ticket = _ticket(ticket_id)
    wanted = request.POST.get("assignee", "")
    user = None
    if wanted == "me":
        user = request.user
    elif wanted and wanted != "none":
        membership = next((m for m in members(request.membership)
                           if m.user.public_id == wanted and m.is_active), None)
        if membership is None:
            messages.error(request, "Assignee: choose a member of this company.")
            return _ticket_page(request, ticket, status=400)
        user = membership.user
    try:
        actions.assign_ticket(ticket, user, actor=request.user)
    except ValidationError as exc:
        messages.error(request, f"Assignee: {exc!s}")
        return _ticket_page(request, ticket, status=400)
    messages.success(request, f"Assigned to {user.name or user.email}." if user
                     else "Ticket unassigned.")
    return redirect(f"/app/tickets/{ticket.public_id}/")
