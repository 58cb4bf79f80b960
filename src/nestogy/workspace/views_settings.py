"""Settings (``/app/settings/``): business-hours calendars and SLA policies.

Everyone reads them (``calendars.view``, ``sla_policies.view``); owners, admins and managers
change them (``calendars.manage``, ``sla_policies.manage``), through the same actions as the
API (``sla.actions``: the rules and the audit live there; a refusal lands on the form's
field and nothing is written). Another company's calendar or policy is not found (404).

The calendar form is a week grid with at least ``WINDOWS`` window slots per weekday (one more
than the busiest day has; blank slots are ignored, so it works without JavaScript). The
calendar page has a tester: the first-response and resolution due times of a ticket arriving
at a chosen moment, computed by the same ``sla.clock.compute_sla`` a new ticket gets, on
this calendar with a policy's targets. Edits pass only what changed to the actions, so the
audit entry lists just that and an unchanged form writes nothing.
"""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from nestogy.core.errors import NotFound, ValidationError
from nestogy.sla import actions as sla_actions
from nestogy.sla import clock
from nestogy.sla import queries as sla_queries
from nestogy.sla.calendar import WEEKDAYS
from nestogy.sla.models import BusinessCalendar, SLAPolicy
from nestogy.workspace import auth

CALENDARS = "/app/settings/calendars/"
POLICIES = "/app/settings/policies/"
WINDOWS = 3  # window slots per weekday in the form, at least
MAX_WINDOWS = 48
DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday", "Sunday"), strict=True))
PRIORITY_NAMES = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"}
PRIORITY_ORDER = ("critical", "high", "medium", "low")
TARGETS = (("first_response", "first response"), ("resolution", "resolution"))
NOTIFY_NAMES = {"assignee": "The assignee", "managers": "Managers",
                "owners_admins": "Owners and admins"}
STATUS_NAMES = {"open": "Open", "in_progress": "In progress",
                "waiting_on_client": "Waiting on client", "on_hold": "On hold"}
MAX_LADDER_ROWS = sla_actions.MAX_LEVEL
TARGET_RANGE = (f"Must be from 1 minute to {sla_actions.MAX_TARGET_MINUTES // 60:,} hours of "
                "business time.")


def _sentence(message: str) -> str:
    message = str(message)
    return f"{message[:1].upper()}{message[1:]}{'' if message.endswith('.') else '.'}"


# -- shared read helpers ---------------------------------------------------------------------


def hours_summary(calendar: BusinessCalendar) -> str:
    """``Mon–Fri 09:00–17:00; Sat 10:00–14:00`` (consecutive days with equal windows
    grouped), ``24x7``, or ``No working hours``."""
    if calendar.is_24x7:
        return "24x7"
    hours = calendar.hours or {}
    groups: list[list] = []  # [first day, last day, windows]
    for day in WEEKDAYS:
        windows = [tuple(w) for w in hours.get(day) or ()]
        if groups and groups[-1][2] == windows and WEEKDAYS.index(groups[-1][1]) + 1 \
                == WEEKDAYS.index(day):
            groups[-1][1] = day
        else:
            groups.append([day, day, windows])
    parts = []
    for first, last, windows in groups:
        if not windows:
            continue
        days = first.title() if first == last else f"{first.title()}–{last.title()}"
        parts.append(f"{days} {', '.join(f'{s}–{e}' for s, e in windows)}")
    return "; ".join(parts) or "No working hours"


def _calendar(calendar_id: str) -> BusinessCalendar:
    try:
        return sla_queries.get_calendar(calendar_id)
    except NotFound:
        raise Http404("calendar not found") from None


def _policy(policy_id: str) -> SLAPolicy:
    try:
        return sla_queries.get_policy(policy_id)
    except NotFound:
        raise Http404("SLA policy not found") from None


# -- index -------------------------------------------------------------------------------------


@auth.staff_view("calendars.view")
@require_GET
def settings_view(request: HttpRequest) -> HttpResponse:
    return render(request, "workspace/settings.html", {
        "calendars": BusinessCalendar.objects.count(),
        "policies": SLAPolicy.objects.count(),
        "can_policies": auth.can(request, "sla_policies.view"),
        "can_company": auth.can(request, "company.settings"),
        "can_audit": auth.can(request, "audit.view"),
        "can_routing": auth.can(request, "routing.manage"),
        "can_work_types": auth.can(request, "time.own"),
        "can_deliveries": auth.can(request, "notifications.deliveries"),
    })


# -- calendars ---------------------------------------------------------------------------------


class CalendarForm(forms.Form):
    """Name, time zone, the week grid (``mon_0_start``/``mon_0_end`` … ``sun_2_end``), 24x7,
    public holidays of a country (and subdivision) and custom closed dates."""

    name = forms.CharField(label="Name", max_length=200,
                           error_messages={"required": "Name the calendar."})
    timezone = forms.CharField(label="Time zone", max_length=64,
                               help_text="An IANA name such as America/New_York or "
                                         "Europe/Berlin.",
                               error_messages={"required": "Enter the time zone."})
    is_24x7 = forms.BooleanField(label="Open 24x7 (every hour counts, holidays too)",
                                 required=False)
    holiday_country = forms.CharField(label="Public holidays of country", max_length=3,
                                      required=False,
                                      help_text="A two-letter country code such as US or DE; "
                                                "blank for none.")
    holiday_subdivision = forms.CharField(label="State or region", max_length=10,
                                          required=False,
                                          help_text="Optional, e.g. NY or BY.")
    holidays = forms.CharField(label="Other closed dates", required=False,
                               widget=forms.Textarea(attrs={"rows": 4}),
                               help_text="One date a line, YYYY-MM-DD.")

    window_slots = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, slots: int = WINDOWS, **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = slots
        for day in WEEKDAYS:
            for i in range(slots):
                for end in ("start", "end"):
                    self.fields[f"{day}_{i}_{end}"] = forms.CharField(
                        label=f"{DAY_NAMES[day]} window {i + 1} {end}", required=False,
                        max_length=5, widget=forms.TextInput(attrs={"type": "time"}))

    @classmethod
    def initial_for(cls, calendar: BusinessCalendar) -> dict:
        initial = {"name": calendar.name, "timezone": calendar.timezone,
                   "is_24x7": calendar.is_24x7, "holiday_country": calendar.holiday_country,
                   "holiday_subdivision": calendar.holiday_subdivision,
                   "holidays": "\n".join(calendar.holidays or ())}
        for day, windows in (calendar.hours or {}).items():
            for i, (start, end) in enumerate(windows):
                initial[f"{day}_{i}_start"], initial[f"{day}_{i}_end"] = start, end
        return initial

    def week(self) -> list[dict]:
        """The grid for the template: per weekday its name and window rows of bound fields."""
        return [{"day": day, "name": DAY_NAMES[day],
                 "rows": [(self[f"{day}_{i}_start"], self[f"{day}_{i}_end"])
                          for i in range(self.slots)]} for day in WEEKDAYS]

    def clean_holidays(self) -> list[str]:
        dates = []
        for n, line in enumerate(self.cleaned_data["holidays"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            try:
                dates.append(date.fromisoformat(line).isoformat())
            except ValueError:
                raise forms.ValidationError(
                    f"Line {n}: “{line[:20]}” is not a date YYYY-MM-DD.") from None
        return sorted(set(dates))

    def clean(self):
        data = super().clean()
        hours: dict[str, list] = {}
        self.rows: dict[str, list[int]] = {}  # day -> the form row of each window sent
        for day in WEEKDAYS:
            windows = []
            for i in range(self.slots):
                start = (data.get(f"{day}_{i}_start") or "").strip()
                end = (data.get(f"{day}_{i}_end") or "").strip()
                if not start and not end:
                    continue  # a blank row is no window
                if not start or not end:
                    self.add_error(f"{day}_{i}_{'start' if not start else 'end'}",
                                   "Enter both the start and the end of the window, or "
                                   "neither.")
                    continue
                windows.append((start, end, i))
            windows.sort()
            if windows:
                hours[day] = [[start, end] for start, end, _ in windows]
                self.rows[day] = [i for _, _, i in windows]
        data["hours"] = hours
        if (data.get("holiday_subdivision") or "").strip() \
                and not (data.get("holiday_country") or "").strip():
            self.add_error("holiday_subdivision", "Choose the country of the state or region "
                                                  "too.")
        return data

    def changes(self) -> dict:
        data = self.cleaned_data
        return {"name": data["name"], "timezone": data["timezone"].strip(),
                "hours": data["hours"], "is_24x7": data["is_24x7"],
                "holiday_subdivision": data["holiday_subdivision"].strip().upper(),
                "holiday_country": data["holiday_country"].strip().upper(),
                "holidays": data["holidays"]}

    def changed(self, calendar: BusinessCalendar) -> dict:
        """Only what differs from ``calendar`` (the audit entry lists just that); a new
        subdivision is checked against the country, so the country goes with it."""
        wanted = self.changes()
        stored = {"name": calendar.name, "timezone": calendar.timezone,
                  "hours": calendar.hours or {}, "is_24x7": calendar.is_24x7,
                  "holiday_subdivision": calendar.holiday_subdivision,
                  "holiday_country": calendar.holiday_country,
                  "holidays": list(calendar.holidays or ())}
        diff = {key: value for key, value in wanted.items() if value != stored[key]}
        if "holiday_subdivision" in diff:
            diff["holiday_country"] = wanted["holiday_country"]
        return diff

    def refuse(self, exc: ValidationError) -> None:
        """Put the action's refusal on the field it names."""
        field, message = exc.field or "", _sentence(exc.message)
        found = re.match(r"^hours\.(\w+)(?:\[(\d+)\])?", field)
        if found and found.group(1) in WEEKDAYS:
            day = found.group(1)
            rows = self.rows.get(day) or [0]
            row = rows[int(found.group(2))] if found.group(2) and \
                int(found.group(2)) < len(rows) else rows[0]
            self.add_error(f"{day}_{row}_start", message)
        elif field == "hours":
            self.add_error(None, f"Working hours: {message}")
        elif field.startswith("holidays"):
            self.add_error("holidays", message)
        elif field in self.fields:
            self.add_error(field, message)
        else:
            self.add_error(None, message)


def _calendar_form(request: HttpRequest, calendar: BusinessCalendar | None,
                   initial: dict) -> CalendarForm:
    """Window slots per day: one more than the busiest day has, at least ``WINDOWS``; a sent
    form keeps the number it was drawn with."""
    if request.method == "POST":
        try:
            slots = int(request.POST.get("window_slots", ""))
        except ValueError:
            slots = WINDOWS
    else:
        hours = (calendar.hours or {}) if calendar else {}
        slots = max((len(windows) + 1 for windows in hours.values()), default=WINDOWS)
    slots = max(WINDOWS, min(MAX_WINDOWS, slots))
    return CalendarForm(request.POST or None, slots=slots,
                        initial={**initial, "window_slots": slots})


def _calendar_form_page(request, form, *, calendar=None, status=200) -> HttpResponse:
    return render(request, "workspace/settings_calendar_form.html",
                  {"form": form, "calendar": calendar, "week": form.week(),
                   "windows": range(1, form.slots + 1)}, status=status)


def _save_calendar(request, form, calendar=None) -> BusinessCalendar | None:
    """Create, or update with what changed; ``None`` when the action refused."""
    try:
        if calendar is None:
            return sla_actions.create_calendar(request.company, form.changes(),
                                               actor=request.user)
        changes = form.changed(calendar)
        if changes:
            sla_actions.update_calendar(calendar, changes, actor=request.user)
        return calendar
    except ValidationError as exc:
        form.refuse(exc)
        return None


@auth.staff_view("calendars.view")
@require_GET
def calendars_view(request: HttpRequest) -> HttpResponse:
    calendars = list(BusinessCalendar.objects.prefetch_related("policies"))
    return render(request, "workspace/settings_calendars.html", {
        "calendars": [{"calendar": c, "summary": hours_summary(c),
                       "policies": list(c.policies.all())} for c in calendars],
        "can_manage": auth.can(request, "calendars.manage"),
    })


@auth.staff_view("calendars.manage")
@require_http_methods(["GET", "POST"])
def calendar_new_view(request: HttpRequest) -> HttpResponse:
    initial = {"timezone": request.company.timezone or "UTC",
               **{f"{day}_0_{end}": value for day in WEEKDAYS[:5]
                  for end, value in (("start", "09:00"), ("end", "17:00"))}}
    form = _calendar_form(request, None, initial)
    if request.method == "POST":
        if form.is_valid() and (calendar := _save_calendar(request, form)) is not None:
            messages.success(request, f"Calendar “{calendar.name}” created.")
            return redirect(f"{CALENDARS}{calendar.public_id}/")
        return _calendar_form_page(request, form, status=400)
    return _calendar_form_page(request, form)


@auth.staff_view("calendars.manage")
@require_http_methods(["GET", "POST"])
def calendar_edit_view(request: HttpRequest, calendar_id: str) -> HttpResponse:
    calendar = _calendar(calendar_id)
    form = _calendar_form(request, calendar, CalendarForm.initial_for(calendar))
    if request.method == "POST":
        if form.is_valid():
            unchanged = not form.changed(calendar)
            if _save_calendar(request, form, calendar) is not None:
                messages.success(request, f"Nothing to save: calendar “{calendar.name}” is "
                                          "unchanged." if unchanged else
                                 f"Calendar “{calendar.name}” saved: open tickets on its "
                                 "policies are counted with the new hours.")
                return redirect(f"{CALENDARS}{calendar.public_id}/")
        return _calendar_form_page(request, form, calendar=_calendar(calendar_id), status=400)
    return _calendar_form_page(request, form, calendar=calendar)


class TesterForm(forms.Form):
    """A ticket arriving at ``arrival`` (company time) with ``priority`` on ``policy``'s
    targets; or, with ``target``, any duration of business time."""

    arrival = forms.DateTimeField(label="Ticket arrives at",
                                  input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                             format="%Y-%m-%dT%H:%M"))
    priority = forms.ChoiceField(label="Priority", initial="medium",
                                 choices=[(p, PRIORITY_NAMES[p]) for p in PRIORITY_ORDER])
    policy = forms.ChoiceField(label="Targets of the policy")
    target = forms.CharField(label="Or a target of", required=False, max_length=20,
                             help_text="Business time such as 4h, 30m or 1h 30m; blank to "
                                       "use the policy's targets.")

    def __init__(self, *args, policies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [(p.public_id, p.name) for p in policies]

    def clean_arrival(self):
        arrival = self.cleaned_data["arrival"]
        if not 2000 <= arrival.year <= 2100:
            raise forms.ValidationError("Choose a moment between the years 2000 and 2100.")
        return arrival

    def clean_target(self) -> int | None:
        text = self.cleaned_data["target"].strip()
        if not text:
            return None
        minutes = parse_duration(text)
        if not 1 <= minutes <= sla_actions.MAX_TARGET_MINUTES:
            raise forms.ValidationError(TARGET_RANGE)
        return minutes


DURATION = re.compile(r"^(?:(\d{1,6})\s*h)?\s*(?:(\d{1,7})\s*m(?:in)?)?$", re.IGNORECASE)


def parse_duration(text: str) -> int:
    """``4h``, ``30m``, ``1h 30m``, ``2:30`` → minutes."""
    text = text.strip().lower()
    if re.fullmatch(r"\d{1,6}:\d{2}", text):
        hours, minutes = text.split(":")
        if int(minutes) < 60:
            return int(hours) * 60 + int(minutes)
    match = DURATION.match(text)
    if text and match and (match.group(1) or match.group(2)):
        return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    raise forms.ValidationError("Enter business time like 4h, 30m or 1h 30m.")


def format_minutes(minutes: int) -> str:
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return f"{hours}h {rest}m"
    return f"{hours}h" if hours else f"{rest}m"


def _tester(request: HttpRequest, calendar: BusinessCalendar) -> dict:
    """The tester's form and, when it is valid, the due times on ``calendar``."""
    on_this = list(calendar.policies.all())
    policies = on_this + [p for p in SLAPolicy.objects.all() if p.calendar_id != calendar.pk]
    if not policies:
        return {"form": None}
    chosen = next((p for p in on_this if p.is_default), on_this[0] if on_this else
                  next((p for p in policies if p.is_default), policies[0]))
    now = timezone.localtime().replace(second=0, microsecond=0)
    asked = "arrival" in request.GET
    form = TesterForm(request.GET if asked else None, policies=policies, initial={
        "arrival": now, "priority": "medium", "policy": chosen.public_id})
    if asked and not form.is_valid():
        return {"form": form}
    data = form.cleaned_data if asked else {"arrival": now, "priority": "medium",
                                            "policy": chosen.public_id, "target": None}
    policy = next(p for p in policies if p.public_id == data["policy"])
    arrival = data["arrival"]
    working = calendar.as_calendar()
    if data["target"] is not None:
        return {"form": form, "arrival": arrival, "policy": policy, "custom": {
            "label": format_minutes(data["target"]),
            "due_at": working.add_business_time(arrival, data["target"] * 60)}}
    # The same computation a new ticket gets (tickets.sla.preview), on this calendar.
    result = clock.compute_sla(policy.rules(), working, opened_at=arrival,
                               priority=data["priority"], now=arrival)
    return {"form": form, "arrival": arrival, "policy": policy, "result": result,
            "priority": PRIORITY_NAMES.get(data["priority"], data["priority"]),
            "first_response_target": format_minutes(result.first_response.target_seconds // 60),
            "resolution_target": format_minutes(result.resolution.target_seconds // 60)}


@auth.staff_view("calendars.view")
@require_GET
def calendar_view(request: HttpRequest, calendar_id: str) -> HttpResponse:
    calendar = _calendar(calendar_id)
    hours = calendar.hours or {}
    tester = _tester(request, calendar)
    form = tester.get("form")
    return render(request, "workspace/settings_calendar.html", {
        "calendar": calendar, "summary": hours_summary(calendar),
        "days": [(DAY_NAMES[d], hours.get(d) or []) for d in WEEKDAYS],
        "policies": list(calendar.policies.all()), "tester": tester,
        "can_manage": auth.can(request, "calendars.manage"),
    }, status=400 if form is not None and form.is_bound and form.errors else 200)


# -- SLA policies ------------------------------------------------------------------------------


class PolicyForm(forms.Form):
    """Name, calendar, the targets (``critical_first_response`` … ``low_resolution``),
    warning percent, pause statuses, the escalation ladder (``ladder_0_level`` …) and the
    default flag."""

    name = forms.CharField(label="Name", max_length=200,
                           error_messages={"required": "Name the policy."})
    calendar = forms.ChoiceField(label="Business calendar",
                                 error_messages={"required": "Choose the calendar."})
    warning_percent = forms.IntegerField(label="Warning at (% of a target)",
                                         help_text="A clock turns amber when this share of "
                                                   "its target is used, 1–99.",
                                         error_messages={"required": "Enter a percentage.",
                                                         "invalid": "Enter a whole number."})
    pause_statuses = forms.MultipleChoiceField(
        label="Clocks pause while a ticket is", required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(s, STATUS_NAMES.get(s, s)) for s in sla_actions.PAUSABLE])
    is_default = forms.BooleanField(label="The company's default policy", required=False,
                                    help_text="Tickets of clients without a contract or "
                                              "assigned policy get it.")
    ladder_rows = forms.IntegerField(widget=forms.HiddenInput, min_value=1,
                                     max_value=MAX_LADDER_ROWS, required=False)

    def __init__(self, *args, calendars, rows: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["calendar"].choices = [(c.public_id, c.name) for c in calendars]
        self.calendars = {c.public_id: c for c in calendars}
        for priority in PRIORITY_ORDER:
            for key, name in TARGETS:
                self.fields[f"{priority}_{key}"] = forms.CharField(
                    label=f"{PRIORITY_NAMES[priority]} {name}", max_length=20,
                    error_messages={"required": "Enter the target, e.g. 4h or 30m."})
        self.rows = rows
        for i in range(rows):
            self.fields[f"ladder_{i}_level"] = forms.IntegerField(
                label=f"Level of rung {i + 1}", required=False,
                error_messages={"invalid": "Enter a whole number."})
            self.fields[f"ladder_{i}_percent"] = forms.IntegerField(
                label=f"Rung {i + 1} fires at (% of target)", required=False,
                error_messages={"invalid": "Enter a whole number."})
            self.fields[f"ladder_{i}_notify"] = forms.ChoiceField(
                label=f"Rung {i + 1} notifies", choices=list(NOTIFY_NAMES.items()),
                initial="assignee")
            self.fields[f"ladder_{i}_raise_priority"] = forms.BooleanField(
                label=f"Rung {i + 1} raises the priority", required=False)
            self.fields[f"ladder_{i}_reassign"] = forms.BooleanField(
                label=f"Rung {i + 1} reassigns", required=False)

    @staticmethod
    def initial_for(policy: SLAPolicy) -> dict:
        initial = {"name": policy.name, "calendar": policy.calendar.public_id,
                   "warning_percent": policy.warning_percent,
                   "pause_statuses": list(policy.pause_statuses or ()),
                   "is_default": policy.is_default}
        for priority, target in (policy.targets or {}).items():
            for key, _ in TARGETS:
                minutes = target.get(f"{key}_minutes")
                if minutes:
                    initial[f"{priority}_{key}"] = format_minutes(minutes)
        for i, rung in enumerate(clock.ladder_to_json(policy.rules().ladder)):
            for key, value in rung.items():
                initial[f"ladder_{i}_{key}"] = value
        return initial

    def targets(self) -> list[dict]:
        return [{"name": PRIORITY_NAMES[p], "fields": [self[f"{p}_{k}"] for k, _ in TARGETS]}
                for p in PRIORITY_ORDER]

    def ladder(self) -> list[dict]:
        return [{"number": i + 1, **{key: self[f"ladder_{i}_{key}"] for key in (
            "level", "percent", "notify", "raise_priority", "reassign")}}
            for i in range(self.rows)]

    def clean(self):
        data = super().clean()
        for priority in PRIORITY_ORDER:
            for key, _ in TARGETS:
                name = f"{priority}_{key}"
                if data.get(name):
                    try:
                        data[name] = parse_duration(data[name])
                    except forms.ValidationError as exc:
                        self.add_error(name, exc)
        ladder, self.ladder_rows_used = [], []
        for i in range(self.rows):
            level = data.get(f"ladder_{i}_level")
            if level is None:
                if data.get(f"ladder_{i}_percent") is not None:
                    self.add_error(f"ladder_{i}_level", "Enter the level of this rung, or "
                                                        "clear the row.")
                continue  # a blank rung is no rung
            ladder.append({"level": level, "percent": data.get(f"ladder_{i}_percent"),
                           "notify": data.get(f"ladder_{i}_notify") or "assignee",
                           "raise_priority": bool(data.get(f"ladder_{i}_raise_priority")),
                           "reassign": bool(data.get(f"ladder_{i}_reassign"))})
            self.ladder_rows_used.append(i)
        data["ladder"] = sorted(ladder, key=lambda rung: rung["level"])
        return data

    def changes(self) -> dict:
        data = self.cleaned_data
        return {"name": data["name"], "calendar": self.calendars[data["calendar"]],
                "targets": {p: {f"{k}_minutes": data[f"{p}_{k}"] for k, _ in TARGETS}
                            for p in PRIORITY_ORDER},
                "warning_percent": data["warning_percent"],
                "pause_statuses": list(data["pause_statuses"]),
                "escalation_ladder": data["ladder"], "is_default": data["is_default"]}

    def changed(self, policy: SLAPolicy) -> dict:
        """Only what differs from ``policy`` (the audit entry lists just that)."""
        wanted = self.changes()
        stored = {"name": policy.name, "calendar": policy.calendar,
                  "targets": policy.targets, "warning_percent": policy.warning_percent,
                  "pause_statuses": sorted(policy.pause_statuses or ()),
                  "escalation_ladder": policy.escalation_ladder,
                  "is_default": policy.is_default}
        wanted["pause_statuses"] = sorted(wanted["pause_statuses"])
        return {key: value for key, value in wanted.items() if value != stored[key]}

    def refuse(self, exc: ValidationError) -> None:
        """Put the action's refusal on the field it names."""
        field, message = exc.field or "", _sentence(exc.message)
        target = re.match(r"^targets\.(\w+)\.(first_response|resolution)_minutes$", field)
        rung = re.match(r"^escalation_ladder\[(\d+)\](?:\.(\w+))?$", field)
        if target and f"{target.group(1)}_{target.group(2)}" in self.fields:
            self.add_error(f"{target.group(1)}_{target.group(2)}", TARGET_RANGE)
        elif rung:
            by_level = sorted(self.ladder_rows_used,
                              key=lambda i: self.cleaned_data.get(f"ladder_{i}_level") or 0)
            index = int(rung.group(1))
            row = by_level[index] if index < len(by_level) else 0
            key = rung.group(2) if rung.group(2) in (
                "level", "percent", "notify", "raise_priority", "reassign") else "level"
            self.add_error(f"ladder_{row}_{key}", message)
        elif field == "escalation_ladder":
            self.add_error(None, f"Escalation ladder: {message}")
        elif field in ("calendar", "calendar_id"):
            self.add_error("calendar", message)
        elif field in self.fields:
            self.add_error(field, message)
        else:
            self.add_error(None, message)


def _ladder_rows(request: HttpRequest, policy: SLAPolicy | None) -> int:
    """Rung rows in the form: the ladder's rungs and two blank ones (at most 20); a sent
    form keeps the number of rows it was drawn with."""
    if request.method == "POST":
        try:
            return max(1, min(MAX_LADDER_ROWS, int(request.POST.get("ladder_rows", ""))))
        except ValueError:
            return MAX_LADDER_ROWS
    rungs = len(policy.rules().ladder) if policy else len(clock.DEFAULT_LADDER)
    return min(MAX_LADDER_ROWS, rungs + 2)


def _policy_form(request: HttpRequest, policy: SLAPolicy | None, initial: dict) -> PolicyForm:
    rows = _ladder_rows(request, policy)
    return PolicyForm(request.POST or None, calendars=list(BusinessCalendar.objects.all()),
                      rows=rows, initial={**initial, "ladder_rows": rows})


def _policy_form_page(request, form, *, policy=None, status=200) -> HttpResponse:
    return render(request, "workspace/settings_policy_form.html",
                  {"form": form, "policy": policy, "targets": form.targets(),
                   "ladder": form.ladder()}, status=status)


def _save_policy(request, form, policy=None) -> SLAPolicy | None:
    try:
        if policy is None:
            return sla_actions.create_policy(request.company, form.changes(),
                                             actor=request.user)
        changes = form.changed(policy)
        if changes:
            sla_actions.update_policy(policy, changes, actor=request.user)
        return policy
    except ValidationError as exc:
        form.refuse(exc)
        return None


@auth.staff_view("sla_policies.view")
@require_GET
def policies_view(request: HttpRequest) -> HttpResponse:
    policies = list(SLAPolicy.objects.select_related("calendar"))
    return render(request, "workspace/settings_policies.html", {
        "policies": [{"policy": p, "targets": _target_rows(p)} for p in policies],
        "can_manage": auth.can(request, "sla_policies.manage"),
    })


def _target_rows(policy: SLAPolicy) -> list[dict]:
    return [{"name": PRIORITY_NAMES[p],
             "first_response": format_minutes(t["first_response_minutes"]),
             "resolution": format_minutes(t["resolution_minutes"])}
            for p in PRIORITY_ORDER if (t := (policy.targets or {}).get(p))]


@auth.staff_view("sla_policies.view")
@require_GET
def policy_view(request: HttpRequest, policy_id: str) -> HttpResponse:
    policy = _policy(policy_id)
    return render(request, "workspace/settings_policy.html", {
        "policy": policy, "targets": _target_rows(policy),
        "pause": [STATUS_NAMES.get(s, s) for s in policy.pause_statuses or ()],
        "ladder": [{"level": lv.level, "percent": lv.percent,
                    "notify": NOTIFY_NAMES.get(lv.notify, lv.notify),
                    "raise_priority": lv.raise_priority, "reassign": lv.reassign}
                   for lv in policy.rules().ladder],
        "can_manage": auth.can(request, "sla_policies.manage"),
    })


@auth.staff_view("sla_policies.manage")
@require_http_methods(["GET", "POST"])
def policy_new_view(request: HttpRequest) -> HttpResponse:
    default = sla_queries.default_policy()
    initial = {"warning_percent": 80, "pause_statuses": list(clock.DEFAULT_PAUSE_STATUSES),
               "calendar": default.calendar.public_id if default else "",
               **{f"{p}_{k}": format_minutes(t[f"{k}_minutes"])
                  for p, t in sla_actions.DEFAULT_TARGETS.items() for k, _ in TARGETS},
               **{f"ladder_{i}_{key}": value
                  for i, rung in enumerate(clock.ladder_to_json(clock.DEFAULT_LADDER))
                  for key, value in rung.items()}}
    form = _policy_form(request, None, initial)
    if request.method == "POST":
        if form.is_valid() and (policy := _save_policy(request, form)) is not None:
            messages.success(request, f"SLA policy “{policy.name}” created.")
            return redirect(f"{POLICIES}{policy.public_id}/")
        return _policy_form_page(request, form, status=400)
    return _policy_form_page(request, form)


@auth.staff_view("sla_policies.manage")
@require_http_methods(["GET", "POST"])
def policy_edit_view(request: HttpRequest, policy_id: str) -> HttpResponse:
    policy = _policy(policy_id)
    form = _policy_form(request, policy, PolicyForm.initial_for(policy))
    if request.method == "POST":
        if form.is_valid():
            unchanged = not form.changed(policy)
            if _save_policy(request, form, policy) is not None:
                messages.success(request, f"Nothing to save: SLA policy “{policy.name}” is "
                                          "unchanged." if unchanged else
                                 f"SLA policy “{policy.name}” saved: open tickets on it are "
                                 "counted with the new targets.")
                return redirect(f"{POLICIES}{policy.public_id}/")
        return _policy_form_page(request, form, policy=_policy(policy_id), status=400)
    return _policy_form_page(request, form, policy=policy)

