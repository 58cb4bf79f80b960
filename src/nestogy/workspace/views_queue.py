"""The queue page: views and filters, saved views, bulk actions and the self-refresh.

- **Saved views**: each user names the filters on screen; they are listed under the six
  built-in views with live counts, all counted in the one aggregate query of the built-in
  views (conditional aggregation), so the page's query count does not grow with them.
- **Bulk actions**: the checked tickets are assigned (a member, "me", nobody, or "auto":
  the routing engine's batch assignment) or moved to a status in one POST; each ticket goes
  through the ticket actions the API's bulk endpoints use (same rules, audit and events as
  one at a time), and the page then says how many changed and which were refused and why.
- **Self-refresh**: the queue body asks every 5 seconds with the fingerprint of what it
  shows (``X-Queue-Stamp``); an unchanged queue answers ``204 No Content`` after one
  aggregate query, and htmx swaps nothing. Otherwise the body and the counts are redrawn and
  ``queue.js`` puts back the checked boxes, the scroll position and the focus.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from nestogy.accounts.roles import allowed
from nestogy.core.errors import NotFound, ValidationError
from nestogy.core.forms import LongSelect
from nestogy.core.timeutil import now as utc_now
from nestogy.tickets import actions as ticket_actions
from nestogy.tickets.models import Status, Ticket
from nestogy.workspace import actions, auth, filters
from nestogy.workspace import queries as q
from nestogy.workspace.models import SavedView

STAMP_HEADER = "X-Queue-Stamp"
POLL_SECONDS = 5
BULK_LIMIT = 200
BULK_SESSION_KEY = "workspace.bulk_result"


class SaveViewForm(forms.Form):
    name = forms.CharField(label="Name", max_length=actions.NAME_LENGTH,
                           error_messages={"required": "Give the view a name."})
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)


class RenameViewForm(forms.Form):
    name = forms.CharField(label="New name", max_length=actions.NAME_LENGTH,
                           error_messages={"required": "Give the view a name."})


class BulkAssignForm(forms.Form):
    assignee = forms.ChoiceField(label="Assign to", widget=LongSelect, error_messages={
        "required": "choose who gets the tickets.",
        "invalid_choice": "choose a member of this company, me, auto or unassign."})

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("", "Choose…"), ("me", "Me"), ("auto", "Auto (routing suggestion)"),
            ("none", "Unassign"),
            ("Technicians", [(m.user.public_id, m.user.name or m.user.email) for m in staff])]


class BulkStatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=[("", "Choose…"), *Status.choices],
                               error_messages={"required": "choose a status."})


@dataclass
class SavedRow:
    view: SavedView
    count: int | None
    description: str
    problem: str  # why the filters no longer work (a client or member removed), else ""
    current: bool


def _workers(sources: filters.Sources) -> list:
    """Active members who work tickets (whom tickets can be assigned to)."""
    return [m for m in sources.staff if m.user.is_active and allowed(m.role, "tickets.update")]


def _queue(request: HttpRequest, params: QueryDict, *, now: datetime | None = None,
           save_form=None, rename_form=None) -> dict:
    now = now or utc_now()
    sources = filters.Sources()
    form = sources.form(params or None)
    valid = form.is_valid() if form.is_bound else True
    chosen = form.cleaned_data if form.is_bound and valid else {}
    view = chosen.get("view") or "mine"
    current_query = filters.normalised_query(chosen) if valid else None

    saved, extra = [], {}
    for sv in q.saved_views(request.user):
        parsed = filters.parse(sv.query, sources)
        if parsed.is_valid():
            extra[f"saved:{sv.pk}"] = (
                q.view_condition(parsed.cleaned_data.get("view") or "mine", request.user, now)
                & q.filter_condition(parsed.cleaned_data, sources.keys))
            saved.append(SavedRow(sv, None, filters.describe(parsed), "",
                                  sv.query == current_query))
        else:
            label, message = filters.first_error(parsed)
            saved.append(SavedRow(sv, None, "", f"{label}: {message}",
                                  sv.query == current_query))
    narrowing = q.filter_condition(chosen, sources.keys)
    shown = q.view_condition(view, request.user, now) & narrowing
    if narrowing:  # the filtered view's own count joins the one aggregate query
        extra["current"] = shown
    tally = q.tally(request.user, now, extra)
    counts = tally.counts
    for row in saved:
        row.count = counts.get(f"saved:{row.view.pk}")
    current_row = next((row for row in saved if row.current), None)
    current_saved = current_row.view if current_row else None

    # The page's ids first, in urgency order from the ticket table alone, then those 50
    # tickets with their client, contact and assignee: a join never multiplies a filter the
    # planner misjudged (a text search matching most tickets) into a nested loop.
    paginator = Paginator(q.urgency_ordered(Ticket.objects.filter(shown))
                          .values_list("pk", flat=True), q.PAGE_SIZE)
    paginator.count = counts["current" if narrowing else view]  # counted above already
    page = paginator.get_page(chosen.get("page") or 1)
    calendars = q.Calendars()
    rows = [(t, q.next_countdown(t, now, calendars))
            for t in q.in_order(list(page.object_list),
                                Ticket.objects.select_related("client", "contact", "assignee"))]
    without_page = params.copy()
    without_page.pop("page", None)
    can_assign = auth.can(request, "tickets.assign")
    can_update = auth.can(request, "tickets.update")
    return {
        "form": form, "view": view, "views": q.VIEWS, "counts": counts,
        "rows": rows, "page": page, "now": now, "query": without_page.urlencode(),
        "params": params.urlencode(),
        "view_label": current_saved.name if current_saved else
        {v.key: v.label for v in q.VIEWS}[view],
        "errors": form.errors if form.is_bound else {},
        "saved": saved, "current_saved": current_saved, "current_row": current_row,
        "current_query": current_query,
        # a saved view is worth offering only for filters beyond a built-in view
        "has_filters": bool(current_query and "&" in current_query),
        "save_form": save_form or SaveViewForm(initial={"query": current_query},
                                               auto_id="save-view-%s"),
        "rename_form": rename_form or (RenameViewForm(initial={"name": current_saved.name},
                                                      auto_id="rename-view-%s")
                                       if current_saved else None),
        "can_assign": can_assign, "can_update": can_update,
        "can_bulk": can_assign or can_update,
        "assign_form": BulkAssignForm(staff=_workers(sources), auto_id="bulk-%s"),
        "status_form": BulkStatusForm(auto_id="bulk-%s"),
        "stamp": tally.stamp, "poll_seconds": POLL_SECONDS, "stamp_header": STAMP_HEADER,
    }


def _render_queue(request: HttpRequest, context: dict, status: int | None = None):
    if status is None:
        status = 400 if context["errors"] else 200
    if request.headers.get("HX-Request"):
        return render(request, "workspace/_queue_refresh.html", context, status=status)
    context["bulk_result"] = request.session.pop(BULK_SESSION_KEY, None)
    return render(request, "workspace/queue.html", context, status=status)


@auth.staff_view("tickets.view")
def queue_view(request: HttpRequest) -> HttpResponse:
    now = utc_now()
    seen = request.headers.get(STAMP_HEADER) if request.headers.get("HX-Request") else None
    if seen and seen == q.queue_stamp(now):
        response = HttpResponse(status=204)  # nothing changed: htmx keeps the page as it is
        response["Cache-Control"] = "no-store"
        return response
    response = _render_queue(request, _queue(request, request.GET, now=now))
    response["Cache-Control"] = "no-store"
    return response


# -- saved views -----------------------------------------------------------------------------


def _own_view(request: HttpRequest, view_id: str) -> SavedView:
    try:
        return actions.get_saved_view(request.user, view_id)
    except NotFound:
        raise Http404("saved view not found") from None


def _queue_url(query: str) -> str:
    return f"/app/?{query}" if query else "/app/"


@require_POST
@auth.staff_view("tickets.view")
def saved_view_create(request: HttpRequest) -> HttpResponse:
    form = SaveViewForm(request.POST, auto_id="save-view-%s")
    query = request.POST.get("query", "")
    if form.is_valid():
        try:
            sv = actions.create_saved_view(request.company, request.user,
                                           form.cleaned_data["name"], form.cleaned_data["query"])
        except ValidationError as exc:
            if exc.field == "name":
                form.add_error("name", str(exc))
            else:
                form.add_error(None, f"Filters: {exc!s}")
        else:
            messages.success(request, f"Saved the view “{sv.name}”. It is listed under the "
                                      "built-in views.")
            return redirect(_queue_url(sv.query))
    params = QueryDict(query) if len(query) <= 4000 else QueryDict()
    return _render_queue(request, _queue(request, params, save_form=form), status=400)


@require_POST
@auth.staff_view("tickets.view")
def saved_view_rename(request: HttpRequest, view_id: str) -> HttpResponse:
    sv = _own_view(request, view_id)
    form = RenameViewForm(request.POST, auto_id="rename-view-%s")
    if form.is_valid():
        try:
            actions.rename_saved_view(sv, form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Renamed the view to “{sv.name}”.")
            return redirect(_queue_url(sv.query))
    sv.refresh_from_db()
    return _render_queue(request, _queue(request, QueryDict(sv.query), rename_form=form),
                         status=400)


@require_POST
@auth.staff_view("tickets.view")
def saved_view_delete(request: HttpRequest, view_id: str) -> HttpResponse:
    sv = _own_view(request, view_id)
    actions.delete_saved_view(sv)
    messages.success(request, f"Deleted the saved view “{sv.name}”. Its filters are still "
                              "applied below.")
    return redirect(_queue_url(sv.query))


@require_POST
@auth.staff_view("tickets.view")
def saved_view_move(request: HttpRequest, view_id: str) -> HttpResponse:
    sv = _own_view(request, view_id)
    try:
        actions.move_saved_view(sv, request.POST.get("direction", ""))
    except ValidationError as exc:
        messages.error(request, f"Direction: {exc!s}")
        return _render_queue(request, _queue(request, QueryDict(sv.query)), status=400)
    return redirect(_queue_url(sv.query))


# -- bulk actions ----------------------------------------------------------------------------


def _selected(request: HttpRequest) -> list[str]:
    """The checked ticket ids, in order, without repeats (raises with the field named)."""
    ids = list(dict.fromkeys(v.strip() for v in request.POST.getlist("ticket") if v.strip()))
    if not ids:
        raise ValidationError("ticket", "Tickets: select at least one ticket.")
    if len(ids) > BULK_LIMIT:
        raise ValidationError("ticket", f"Tickets: select at most {BULK_LIMIT} at a time.")
    if any(len(v) > 40 for v in ids):
        raise ValidationError("ticket", "Tickets: that is not a ticket id.")
    return ids


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _label(ticket: Ticket | None, public_id: str) -> str:
    return f"#{ticket.number} {ticket.subject}" if ticket else f"Ticket {public_id}"


def _reason(error: str | None) -> str:
    if error == "not found":
        return "not found in this company"
    return error or "refused"


def _summarise(before: dict[str, Ticket], results, changed_if) -> dict:
    """Count what changed, what was already so, and what was refused (with the reason)."""
    changed, unchanged, refused = [], [], []
    for r in results:
        ticket = before.get(r.id)
        if not r.ok:
            refused.append({"ticket": _label(ticket, r.id), "reason": _reason(r.error)})
        elif changed_if(ticket, r):
            changed.append((ticket, r))
        else:
            unchanged.append(ticket)
    return {"changed": changed, "unchanged": unchanged, "refused": refused}


def _bulk_failed(request: HttpRequest, message: str) -> HttpResponse:
    messages.error(request, message)
    return _render_queue(request, _queue(request, request.GET), status=400)


def _done(request: HttpRequest, result: dict) -> HttpResponse:
    request.session[BULK_SESSION_KEY] = result
    return redirect(_queue_url(request.GET.urlencode()))


def _before(ids: list[str]) -> dict[str, Ticket]:
    return {t.public_id: t for t in Ticket.objects.filter(public_id__in=ids)
            .only("public_id", "number", "subject", "status", "assignee_id")}


@require_POST
@auth.staff_view("tickets.assign")
def bulk_assign_view(request: HttpRequest) -> HttpResponse:
    sources = filters.Sources()
    workers = _workers(sources)
    form = BulkAssignForm(request.POST, staff=workers, auto_id="bulk-%s")
    try:
        ids = _selected(request)
    except ValidationError as exc:
        return _bulk_failed(request, str(exc))
    if not form.is_valid():
        return _bulk_failed(request, f"Assign to: {form.errors['assignee'][0]}")
    wanted = form.cleaned_data["assignee"]
    before = _before(ids)
    names = {m.user_id: m.user.name or m.user.email for m in sources.staff}
    if wanted == "auto":
        outcome = ticket_actions.bulk_auto_assign(ids, actor=request.user)
        by_public = {m.user.public_id: m.user_id for m in sources.staff}
        done = _summarise(before, outcome.results,
                          lambda t, r: t.assignee_id != by_public.get(r.assignee_id))
        summary = (f"Auto-assigned {_plural(len(done['changed']), 'ticket')} by the routing "
                   "suggestion.")
        details = [f"{_label(t, r.id)} → {names.get(by_public.get(r.assignee_id), 'a member')}"
                   for t, r in done["changed"]]
        already = "already with the suggested technician"
    else:
        user = None
        if wanted == "me":
            user = request.user
        elif wanted != "none":
            user = next(m.user for m in workers if m.user.public_id == wanted)
        try:
            results = ticket_actions.bulk_assign(ids, user, actor=request.user)
        except ValidationError as exc:
            return _bulk_failed(request, f"Assign to: {exc!s}")
        target = getattr(user, "pk", None)
        done = _summarise(before, results, lambda t, r: t.assignee_id != target)
        n = _plural(len(done["changed"]), "ticket")
        summary = (f"Assigned {n} to {user.name or user.email}." if user
                   else f"Unassigned {n}.")
        details = []
        already = (f"already assigned to {user.name or user.email}" if user
                   else "already unassigned")
    n = len(done["unchanged"])
    return _done(request, {
        "summary": summary, "details": details,
        "unchanged": (f"{_plural(n, 'ticket')} {'was' if n == 1 else 'were'} {already}."
                      if n else ""),
        "refused": done["refused"]})


@require_POST
@auth.staff_view("tickets.update")
def bulk_status_view(request: HttpRequest) -> HttpResponse:
    form = BulkStatusForm(request.POST, auto_id="bulk-%s")
    try:
        ids = _selected(request)
    except ValidationError as exc:
        return _bulk_failed(request, str(exc))
    if not form.is_valid():
        return _bulk_failed(request, f"Status: {form.errors['status'][0]}")
    status = form.cleaned_data["status"]
    before = _before(ids)
    results = ticket_actions.bulk_status(ids, status, actor=request.user)
    done = _summarise(before, results, lambda t, r: t.status != status)
    shown = Status(status).label
    return _done(request, {
        "summary": f"Changed {_plural(len(done['changed']), 'ticket')} to {shown}.",
        "details": [],
        "unchanged": (f"{_plural(len(done['unchanged']), 'ticket')} "
                      f"{'was' if len(done['unchanged']) == 1 else 'were'} already {shown}."
                      if done["unchanged"] else ""),
        "refused": done["refused"]})
