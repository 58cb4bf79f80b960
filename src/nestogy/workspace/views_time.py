"""Time on tickets in the staff workspace: the ticket's *Time* panel (timer and manual
entries), editing one's own draft entries, and *My time* (per day and per week in the
company's time zone).

Views are thin: every change goes through ``timesheets.actions`` (validation naming the
field, audit), every read through ``timesheets.queries``. Dates and times typed into the
forms are the company's local time; they are stored as aware UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from nestogy.accounts.queries import members
from nestogy.core.errors import Conflict, NotFound, ValidationError
from nestogy.core.timeutil import now as utc_now
from nestogy.core.timeutil import today_in
from nestogy.timesheets import actions as time_actions
from nestogy.timesheets import queries as time_queries
from nestogy.timesheets.actions import NOTE_MAX
from nestogy.timesheets.durations import HINT, format_duration
from nestogy.workspace import auth
from nestogy.workspace import views as desk

# The actions' field names -> the form's fields.
FIELD_OF = {"started_at": "start", "duration": "duration", "work_type_id": "work_type",
            "billable": "billable", "note": "note"}


def _work_type_choices() -> list[tuple[str, str]]:
    return [("", "No work type"),
            *((w.public_id, w.name) for w in time_queries.work_types())]


class TimerForm(forms.Form):
    """Work type, billable and note of a timer (when starting or stopping it)."""

    work_type = forms.ChoiceField(label="Work type", required=False)
    billable = forms.BooleanField(label="Billable", required=False)
    note = forms.CharField(label="Note", required=False, max_length=NOTE_MAX,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, work_types=None, keep=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = work_types if work_types is not None else _work_type_choices()
        if keep is not None and keep.public_id not in dict(choices):
            choices = [*choices, (keep.public_id, f"{keep.name} (no longer in use)")]
        self.fields["work_type"].choices = choices
        self.fields["work_type"].widget.attrs["data-work-type"] = ""


class EntryForm(TimerForm):
    """A manual entry: the local date and start time, a typed duration."""

    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label="Start time", widget=forms.TimeInput(
        attrs={"type": "time"}, format="%H:%M"))
    duration = forms.CharField(label="Duration", max_length=40, help_text=HINT[0].upper()
                               + HINT[1:] + ".", widget=forms.TextInput(
                                   attrs={"placeholder": "1h 30m", "autocomplete": "off"}))
    field_order = ["date", "start", "duration", "work_type", "billable", "note"]

    def __init__(self, *args, tz: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean_date(self):
        value = self.cleaned_data["date"]
        if not date(2000, 1, 1) <= value <= date(2099, 12, 31):
            raise forms.ValidationError("must be between 2000 and 2099.")
        return value

    def clean(self):
        data = super().clean()
        day, start = data.get("date"), data.get("start")
        if day is not None and start is not None:
            zone = ZoneInfo(self.tz)
            wall = datetime.combine(day, start.replace(second=0, microsecond=0))
            local = wall.replace(tzinfo=zone)
            if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
                self.add_error("start", f"does not exist on that day in {self.tz} "
                                        "(the clocks went forward)")
            else:
                data["started_at"] = local.astimezone(UTC)
        return data


def _new_timer_form(first, choices) -> TimerForm:
    return TimerForm(auto_id="timer_%s", work_types=choices, initial={
        "work_type": first.public_id if first else "",
        "billable": first.billable if first else True})


def _new_entry_form(request: HttpRequest, first, choices) -> EntryForm:
    local = timezone.localtime(utc_now())
    return EntryForm(tz=request.company.timezone or "UTC", auto_id="entry_%s",
                     work_types=choices, initial={
                         "date": local.date(),
                         "start": local.time().replace(second=0, microsecond=0),
                         "work_type": first.public_id if first else "",
                         "billable": first.billable if first else True})


def _apply_error(form: forms.Form, exc: ValidationError) -> None:
    for error in exc.errors:
        name = FIELD_OF.get(error.field or "")
        form.add_error(name if name in form.fields else None,
                       error.message if name in form.fields else
                       f"{error.field}: {error.message}" if error.field else error.message)


def _ticket_or_404(ticket_id: str):
    return desk._ticket(ticket_id)


def _entry_or_404(entry_id: str):
    try:
        return time_queries.get_entry(entry_id)
    except NotFound:
        raise Http404("time entry not found") from None


def panel_context(request: HttpRequest, ticket) -> dict:
    """What the ticket page's *Time* panel shows (used by the ``time_panel`` tag)."""
    if not auth.can(request, "time.own"):
        return {"allowed": False}
    timer = time_queries.running_timer(request.user)
    work_types = list(time_queries.work_types())
    choices = [("", "No work type"), *((w.public_id, w.name) for w in work_types)]
    first = time_queries.default_work_type(request.user)
    stop_form = None
    if timer is not None:
        stop_form = TimerForm(work_types=choices, keep=timer.work_type, initial={
            "work_type": timer.work_type.public_id if timer.work_type_id else "",
            "billable": timer.billable, "note": timer.note}, prefix="stop")
    return {
        "allowed": True, "ticket": ticket, "timer": timer,
        "timer_here": timer is not None and timer.ticket_id == ticket.pk,
        "elapsed": int((utc_now() - timer.started_at).total_seconds()) if timer else 0,
        "start_form": getattr(request, "time_start_form", None)
        or _new_timer_form(first, choices),
        "stop_form": stop_form,
        "entry_form": getattr(request, "time_entry_form", None)
        or _new_entry_form(request, first, choices),
        "time": time_queries.ticket_time(ticket),
        "billable_of": {w.public_id: w.billable for w in work_types},
        "tz": request.company.timezone or "UTC",
    }


def _back_to_ticket(ticket) -> HttpResponse:
    return redirect(f"/app/tickets/{ticket.public_id}/#time")


def _timer_changes(form: TimerForm) -> dict:
    data = form.cleaned_data
    return {"work_type": data["work_type"] or None, "billable": data["billable"],
            "note": data["note"]}


@require_POST
@auth.staff_view("time.own")
def timer_start_view(request: HttpRequest, ticket_id: str) -> HttpResponse:
    ticket = _ticket_or_404(ticket_id)
    form = TimerForm(request.POST, auto_id="timer_%s")
    if not form.is_valid():
        request.time_start_form = form
        return desk._ticket_page(request, ticket, status=400)
    try:
        started = time_actions.start_timer(request.company, request.user, ticket=ticket,
                                           actor=request.user, **_timer_changes(form))
    except ValidationError as exc:
        _apply_error(form, exc)
        request.time_start_form = form
        return desk._ticket_page(request, ticket, status=400)
    except Conflict as exc:
        messages.error(request, f"Timer: {exc.message}")
        return _back_to_ticket(ticket)
    text = f"Timer started on #{ticket.number}."
    if started.stopped is not None:
        text += f" Your previous timer was stopped: {started.stopped.message}"
    messages.success(request, text)
    return _back_to_ticket(ticket)


@require_POST
@auth.staff_view("time.own")
def timer_stop_view(request: HttpRequest) -> HttpResponse:
    timer = time_queries.running_timer(request.user)
    if timer is None:
        messages.error(request, "Timer: no timer is running.")
        return redirect(auth.safe_next(request))
    form = TimerForm(request.POST, prefix="stop", work_types=_work_type_choices(),
                     keep=timer.work_type)
    changes = _timer_changes(form) if form.is_valid() else None
    if changes is None:
        errors = "; ".join(f"{form.fields[name].label}: {' '.join(errs)}"
                           for name, errs in form.errors.items() if name in form.fields)
        messages.error(request, f"The timer is still running. {errors}")
        return redirect(auth.safe_next(request))
    try:
        stop = time_actions.stop_timer(request.user, actor=request.user, **changes)
    except ValidationError as exc:
        label = form.fields.get(FIELD_OF.get(exc.field or "", ""))
        messages.error(request, f"The timer is still running. "
                                f"{label.label if label else exc.field}: {exc.message}")
        return redirect(auth.safe_next(request))
    except Conflict as exc:
        messages.error(request, f"Timer: {exc.message}")
        return redirect(auth.safe_next(request))
    messages.success(request, f"Timer stopped: {stop.message}")
    return redirect(auth.safe_next(request))


@require_POST
@auth.staff_view("time.own")
def timer_discard_view(request: HttpRequest) -> HttpResponse:
    try:
        time_actions.discard_timer(request.user, actor=request.user)
    except Conflict as exc:
        messages.error(request, f"Timer: {exc.message}")
    else:
        messages.success(request, "Timer discarded; no time was recorded.")
    return redirect(auth.safe_next(request))


@require_POST
@auth.staff_view("time.own")
def entry_add_view(request: HttpRequest, ticket_id: str) -> HttpResponse:
    ticket = _ticket_or_404(ticket_id)
    form = EntryForm(request.POST, tz=request.company.timezone or "UTC", auto_id="entry_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = time_actions.add_entry(request.company, request.user, {
                "ticket": ticket, "started_at": data["started_at"],
                "duration": data["duration"], **_timer_changes(form)}, actor=request.user)
        except ValidationError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, f"{format_duration(entry.duration_seconds)} added to "
                                      f"#{ticket.number}.")
            return _back_to_ticket(ticket)
    request.time_entry_form = form
    return desk._ticket_page(request, ticket, status=400)


@require_http_methods(["GET", "POST"])
@auth.staff_view("time.own")
def entry_edit_view(request: HttpRequest, entry_id: str) -> HttpResponse:
    entry = _entry_or_404(entry_id)
    if entry.user_id != request.user.pk:
        raise Http404("time entry not found")
    tz = request.company.timezone or "UTC"
    local = timezone.localtime(entry.started_at)
    original = {"date": local.date(), "start": local.time().replace(second=0, microsecond=0),
                "duration": format_duration(entry.duration_seconds),
                "work_type": entry.work_type.public_id if entry.work_type_id else "",
                "billable": entry.billable, "note": entry.note}
    form = EntryForm(request.POST or None, tz=tz, initial=original, keep=entry.work_type)
    back = auth.safe_next(request) if request.GET.get("next") or request.POST.get("next") \
        else (f"/app/tickets/{entry.ticket.public_id}/#time" if entry.ticket_id
              else "/app/time/")
    status = 200
    if request.method == "POST":
        status = 400
        if not entry.is_editable:
            form.add_error(None, f"This entry is {entry.get_status_display().lower()}; only "
                                 "draft entries can be changed.")
        elif form.is_valid():
            data = form.cleaned_data
            changes = {}
            if (data["date"], data["start"]) != (original["date"], original["start"]):
                changes["started_at"] = data["started_at"]
            if data["duration"].strip() != original["duration"]:
                changes["duration"] = data["duration"]
            for key in ("billable", "note"):
                if data[key] != original[key]:
                    changes[key] = data[key]
            if data["work_type"] != original["work_type"]:
                changes["work_type"] = data["work_type"] or None
            try:
                time_actions.update_entry(entry, changes, actor=request.user)
            except ValidationError as exc:
                _apply_error(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Time entry saved.")
                return redirect(back)
    return render(request, "workspace/time_entry.html",
                  {"entry": entry, "form": form, "back": back, "tz": tz}, status=status)


@require_POST
@auth.staff_view("time.own")
def entry_delete_view(request: HttpRequest, entry_id: str) -> HttpResponse:
    entry = _entry_or_404(entry_id)
    if entry.user_id != request.user.pk:
        raise Http404("time entry not found")
    try:
        time_actions.delete_entry(entry, actor=request.user)
    except Conflict as exc:
        messages.error(request, f"Time entry: {exc.message}")
    else:
        messages.success(request, f"Time entry of {format_duration(entry.duration_seconds)} "
                                  "deleted.")
    return redirect(auth.safe_next(request))


# -- My time ---------------------------------------------------------------------------------


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label="Show", choices=[("week", "Week"), ("day", "Day")],
                               required=False)
    date = forms.DateField(label="Date", required=False)
    user = forms.ChoiceField(label="Technician", required=False)

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "Me"), *((m.user.public_id,
                                                      m.user.name or m.user.email)
                                                     for m in staff)]

    def clean_date(self):
        value = self.cleaned_data.get("date")
        if value is not None and not date(2000, 1, 1) <= value <= date(2099, 12, 31):
            raise forms.ValidationError("must be between 2000 and 2099.")
        return value


@auth.staff_view("time.own")
def my_time_view(request: HttpRequest) -> HttpResponse:
    company = request.company
    tz = company.timezone or "UTC"
    view_all = auth.can(request, "time.view_all")
    staff = [m for m in members(request.membership)
             if m.is_active and m.role != "billing"] if view_all else []
    form = PeriodForm(request.GET or None, staff=staff)
    valid = form.is_valid() if form.is_bound else True
    data = form.cleaned_data if form.is_bound and valid else {}
    today = today_in(tz)
    kind = data.get("period") or "week"
    anchor = data.get("date") or today
    person = request.user
    if data.get("user"):
        person = next(m.user for m in staff if m.user.public_id == data["user"])
    if kind == "week":
        start = time_queries.week_start(company, anchor)
        span, step = 7, timedelta(days=7)
    else:
        start, span, step = anchor, 1, timedelta(days=1)
    result = time_queries.period(company, person, start, span)
    own = person.pk == request.user.pk
    timer = time_queries.running_timer(person)
    base = {"period": kind}
    if not own:
        base["user"] = person.public_id

    def link(day: date, **extra) -> str:
        return "/app/time/?" + urlencode({**base, "date": day.isoformat(), **extra})

    return render(request, "workspace/my_time.html", {
        "form": form, "errors": form.errors if form.is_bound else {},
        "kind": kind, "result": result, "today": today, "tz": tz, "person": person,
        "own": own, "view_all": view_all, "timer": timer,
        "elapsed": int((utc_now() - timer.started_at).total_seconds()) if timer else 0,
        "prev": link(start - step), "next": link(start + step), "current": link(today),
        "week_link": link(anchor, period="week"), "day_link": link(anchor, period="day"),
        "is_current": start <= today <= result.end,
        "day_links": {d.day: link(d.day, period="day") for d in result.days},
        "here": request.get_full_path(),
    }, status=200 if valid else 400)

