"""A team member's page (``/app/team/members/<id>/``) and one's own absences
(``/app/account/away/``).

The member page shows the role, the technician profile routing reads (skills with levels
1 to 5, edited line by line, and the maximum of open tickets), the working calendar, the
out-of-office periods that are current or ahead, and whether the account has a second
factor. Everyone who may see the team sees it (``users.view``); each change asks what the
API asks and goes through the same action:

- role: ``users.update``, ``accounts.actions.update_member`` with the acting role (nobody
  grants a role above their own; the last owner stays), as on the Team page;
- skills, maximum open tickets and "away until further notice": ``users.update``,
  ``accounts.actions.update_member`` (``PATCH /users/{id}``);
- working calendar: ``users.update``, ``routing.actions.set_technician_calendar``
  (``PATCH /users/{id}`` with ``calendar_id``); none means routing counts them always
  available;
- someone else's out-of-office periods: ``routing.manage``,
  ``routing.actions.add_out_of_office`` / ``remove_out_of_office`` (as the API's
  ``/routing/users/{id}/absences``); everyone records and removes their own on
  ``/app/account/away/`` (``account.own``), as the API lets them;
- reset the second factor (a lost phone and lost backup codes): ``users.update``,
  ``accounts.security.reset_two_factor``, as the admin's action (refused for an account
  that also belongs to another company or lies above the actor's grant; one's own is turned
  off on the account page, with a code).

Dates and times typed for a period are the company's local time (a blank start time is the
start of the first day, a blank end time the end of the last day); they are stored as UTC.
A refusal is shown on its field or section with status 400 (403 for a refused grant, 409 for
the last owner) and nothing is written; another company's member, absence or calendar is
not found (404, or an error on the calendar field for an id in the form). Every change is
audited by its action.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from nestogy.accounts import actions as account_actions
from nestogy.accounts import security
from nestogy.accounts.models import Membership, TechnicianProfile, User
from nestogy.accounts.roles import GRANTABLE, Role
from nestogy.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from nestogy.core.timeutil import now as utc_now
from nestogy.routing import actions as routing_actions
from nestogy.routing.models import OutOfOffice, TechnicianCalendar
from nestogy.sla import queries as sla_queries
from nestogy.sla.models import BusinessCalendar
from nestogy.workspace import auth

AWAY = "/app/account/away/"
BLANK_SKILL_ROWS = 3
MAX_SKILL_ROWS = 100
DEFAULT_MAX_OPEN = 15  # what routing counts for a member without a profile


def _here(membership: Membership) -> str:
    return f"/app/team/members/{membership.public_id}/"


def _sentence(message: str) -> str:
    message = str(message)
    return f"{message[:1].upper()}{message[1:]}{'' if message.endswith('.') else '.'}"


def _who(membership: Membership) -> str:
    return membership.user.name or membership.user.email


def _member(member_id: str) -> Membership:
    membership = Membership.objects.select_related("user").filter(public_id=member_id).first()
    if membership is None:
        raise Http404("member not found")
    return membership


def _profile(membership: Membership) -> TechnicianProfile | None:
    return TechnicianProfile.objects.filter(membership=membership).first()


def _absences(user: User):
    """Current and coming periods, the earliest first."""
    return list(OutOfOffice.objects.filter(user=user, ends_at__gt=utc_now())
                .order_by("starts_at", "id"))


def _away_until(absences: list[OutOfOffice]) -> datetime | None:
    """The end of the period running now (the latest end, if several overlap)."""
    now = utc_now()
    current = [p.ends_at for p in absences if p.starts_at <= now]
    return max(current) if current else None


# -- the out-of-office form ---------------------------------------------------------------


class AbsenceForm(forms.Form):
    """A period in the company's time zone: first and last day, optional times, a note."""

    start_date = forms.DateField(label="First day", widget=forms.DateInput(
        attrs={"type": "date"}), error_messages={"required": "Enter the first day."})
    start_time = forms.TimeField(label="From (time)", required=False, widget=forms.TimeInput(
        attrs={"type": "time"}, format="%H:%M"), help_text="Blank: from the start of the day.")
    end_date = forms.DateField(label="Last day", widget=forms.DateInput(
        attrs={"type": "date"}), error_messages={"required": "Enter the last day."})
    end_time = forms.TimeField(label="Until (time)", required=False, widget=forms.TimeInput(
        attrs={"type": "time"}, format="%H:%M"), help_text="Blank: until the end of the day.")
    note = forms.CharField(label="Note", required=False, max_length=200,
                           help_text="Optional, e.g. Holiday or Training.")

    def __init__(self, *args, tz: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz

    @staticmethod
    def _in_range(value: date) -> date:
        if not date(2000, 1, 1) <= value <= date(2099, 12, 31):
            raise forms.ValidationError("must be between 2000 and 2099.")
        return value

    def clean_start_date(self):
        return self._in_range(self.cleaned_data["start_date"])

    def clean_end_date(self):
        return self._in_range(self.cleaned_data["end_date"])

    def _moment(self, day: date, at: time, field: str) -> datetime | None:
        zone = ZoneInfo(self.tz)
        wall = datetime.combine(day, at.replace(second=0, microsecond=0))
        local = wall.replace(tzinfo=zone)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
            self.add_error(field, f"does not exist on that day in {self.tz} (the clocks went "
                                  "forward).")
            return None
        return local.astimezone(UTC)

    def clean(self):
        data = super().clean()
        first, last = data.get("start_date"), data.get("end_date")
        if first is None or last is None:
            return data
        start_time, end_time = data.get("start_time"), data.get("end_time")
        starts_at = self._moment(first, start_time or time(0, 0),
                                 "start_time" if start_time else "start_date")
        if end_time is None:  # the end of the last day: midnight after it
            ends_at = self._moment(last + timedelta(days=1), time(0, 0), "end_date")
        else:
            ends_at = self._moment(last, end_time, "end_time")
        if starts_at is not None and ends_at is not None:
            if ends_at <= starts_at:
                self.add_error("end_date", "the period must end after it starts.")
            else:
                data["starts_at"], data["ends_at"] = starts_at, ends_at
        return data


ABSENCE_FIELD = {"starts_at": "start_date", "ends_at": "end_date", "note": "note"}


def _add_absence(request: HttpRequest, user: User, form: AbsenceForm) -> OutOfOffice | None:
    """Record the form's period for ``user``; None (and the error on the form) if refused."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        return routing_actions.add_out_of_office(user, request.company, data["starts_at"],
                                                 data["ends_at"], data["note"],
                                                 actor=request.user)
    except ValidationError as exc:
        name = ABSENCE_FIELD.get(exc.field or "")
        form.add_error(name, exc.message if name else _sentence(exc.message))
        return None


def _period_text(period: OutOfOffice) -> str:
    """``from 4 Aug 2025 00:00 until 9 Aug 2025 00:00`` in the company's time zone."""
    start, end = timezone.localtime(period.starts_at), timezone.localtime(period.ends_at)
    return f"from {dateformat.format(start, 'j M Y H:i')} until " \
           f"{dateformat.format(end, 'j M Y H:i')}"


# -- the member page -------------------------------------------------------------------------


def _skill_rows(skills: dict[str, int]) -> list[dict]:
    return [{"skill": name, "level": str(level)} for name, level in sorted(skills.items())]


def _page(request: HttpRequest, membership: Membership, *, status: int = 200,
          errors: dict[str, str] | None = None, rows: list[dict] | None = None,
          capacity: str | None = None, away_flag: bool | None = None,
          absence_form: AbsenceForm | None = None,
          calendar_value: str | None = None) -> HttpResponse:
    profile = _profile(membership)
    skills = profile.skills if profile else {}
    current_calendar = (TechnicianCalendar.objects.filter(user=membership.user)
                        .select_related("calendar").first())
    absences = _absences(membership.user)
    is_self = membership.user_id == request.user.pk
    can_update = auth.can(request, "users.update")
    tz = request.company.timezone or "UTC"
    rows = rows if rows is not None else _skill_rows(skills)
    return render(request, "workspace/team_member.html", {
        "member": membership, "profile": profile, "skills": _skill_rows(skills),
        "max_open": profile.max_open_tickets if profile else DEFAULT_MAX_OPEN,
        "away_flag": profile.out_of_office if profile else False,
        "rows": rows + [{"skill": "", "level": ""} for _ in range(BLANK_SKILL_ROWS)],
        "capacity": capacity if capacity is not None else
        str(profile.max_open_tickets if profile else DEFAULT_MAX_OPEN),
        "away_checked": away_flag if away_flag is not None else
        bool(profile and profile.out_of_office),
        "calendar": current_calendar.calendar if current_calendar else None,
        "calendars": list(BusinessCalendar.objects.order_by("name", "id")),
        "calendar_value": calendar_value if calendar_value is not None else
        (current_calendar.calendar.public_id if current_calendar else ""),
        "absences": absences, "away_until": _away_until(absences),
        "now": utc_now(),
        "absence_form": absence_form or AbsenceForm(tz=tz, auto_id="absence_%s"),
        "two_factor": security.has_two_factor(membership.user),
        "roles": [(v, label) for v, label in Role.choices
                  if v in GRANTABLE.get(request.membership.role, frozenset())],
        "is_self": is_self, "can_update": can_update,
        "can_absences": auth.can(request, "routing.manage"),
        "errors": errors or {}, "tz": tz,
    }, status=status)


@auth.staff_view("users.view")
@require_GET
def member_view(request: HttpRequest, member_id: str) -> HttpResponse:
    return _page(request, _member(member_id))


@auth.staff_view("users.update")
@require_POST
def role_view(request: HttpRequest, member_id: str) -> HttpResponse:
    membership = _member(member_id)
    role = request.POST.get("role", "")
    if role not in dict(Role.choices):
        return _page(request, membership, status=400,
                     errors={"role": "Role: choose one of the roles."})
    if role == membership.role:
        messages.success(request, "Nothing changed.")
        return redirect(_here(membership))
    try:
        account_actions.update_member(membership, {"role": role}, actor=request.user,
                                      actor_role=request.membership.role)
    except (PermissionDenied, Conflict, ValidationError) as exc:
        code = 403 if isinstance(exc, PermissionDenied) else \
            409 if isinstance(exc, Conflict) else 400
        return _page(request, membership, status=code,
                     errors={"role": f"Role: {_sentence(exc.message)}"})
    messages.success(request, f"{_who(membership)} is now {dict(Role.choices)[role]}.")
    return redirect(_here(membership))


def _read_rows(post) -> list[dict]:
    try:
        count = max(0, min(int(post.get("rows", "0")), MAX_SKILL_ROWS))
    except ValueError:
        count = 0
    return [{"skill": post.get(f"skill-{i}", "").strip(),
             "level": post.get(f"level-{i}", "").strip()} for i in range(count)]


def _rows_to_skills(rows: list[dict]) -> dict[str, int]:
    """The skills typed line by line; a ValidationError names the line."""
    skills: dict[str, int] = {}
    for i, row in enumerate(rows, start=1):
        if not row["skill"] and not row["level"]:
            continue
        if not row["skill"]:
            row["error"] = True
            raise ValidationError("skills", f"line {i}: name the skill")
        level = row["level"]
        if not level.lstrip("-").isdigit():
            row["error"] = True
            raise ValidationError("skills", f"line {i}: give {row['skill']} a level from 1 "
                                            "to 5")
        key = row["skill"].lower()
        if key in skills:
            row["error"] = True
            raise ValidationError("skills", f"line {i}: {row['skill']} is listed twice")
        skills[key] = int(level)
    return skills


@auth.staff_view("users.update")
@require_POST
def profile_view(request: HttpRequest, member_id: str) -> HttpResponse:
    """Skills (line by line), maximum open tickets, away until further notice."""
    membership = _member(member_id)
    profile = _profile(membership)
    rows = _read_rows(request.POST)
    capacity_text = request.POST.get("max_open_tickets", "").strip()
    away = request.POST.get("out_of_office") == "on"
    errors: dict[str, str] = {}

    def refuse(key: str, message: str) -> HttpResponse:
        errors[key] = message
        return _page(request, membership, status=400, errors=errors, rows=rows,
                     capacity=capacity_text, away_flag=away)

    try:
        skills = _rows_to_skills(rows)
    except ValidationError as exc:
        return refuse("skills", f"Skills, {exc.message}.")
    try:
        capacity = int(capacity_text)
    except ValueError:
        return refuse("max_open_tickets", "Maximum open tickets: must be a whole number "
                                          "between 0 and 1000.")
    changes: dict = {}
    if skills != (profile.skills if profile else {}):
        changes["skills"] = skills
    if capacity != (profile.max_open_tickets if profile else DEFAULT_MAX_OPEN):
        changes["max_open_tickets"] = capacity
    if away != bool(profile and profile.out_of_office):
        changes["out_of_office"] = away
    if not changes:
        messages.success(request, "Nothing changed.")
        return redirect(_here(membership))
    try:
        account_actions.update_member(membership, changes, actor=request.user,
                                      actor_role=request.membership.role)
    except ValidationError as exc:
        field = exc.field or ""
        if field.startswith("skills."):
            name = field.split(".", 1)[1].strip().lower()
            line = next((i for i, r in enumerate(rows, start=1)
                         if r["skill"].lower() == name), None)
            if line is not None:
                rows[line - 1]["error"] = True
            where = f"line {line} ({name})" if line else name
            return refuse("skills", f"Skills, {where}: {exc.message}.")
        if field == "max_open_tickets":
            return refuse("max_open_tickets",
                          f"Maximum open tickets: {_sentence(exc.message)}")
        return refuse("profile", _sentence(f"{field}: {exc.message}" if field
                                           else exc.message))
    except PermissionDenied as exc:
        errors["profile"] = _sentence(exc.message)
        return _page(request, membership, status=403, errors=errors, rows=rows,
                     capacity=capacity_text, away_flag=away)
    messages.success(request, f"The technician profile of {_who(membership)} is saved.")
    return redirect(_here(membership))


@auth.staff_view("users.update")
@require_POST
def calendar_view(request: HttpRequest, member_id: str) -> HttpResponse:
    membership = _member(member_id)
    wanted = request.POST.get("calendar", "").strip()
    calendar = None
    if wanted:
        try:
            calendar = sla_queries.get_calendar(wanted)
        except NotFound:
            return _page(request, membership, status=400, calendar_value=wanted, errors={
                "calendar": "Working calendar: is not a calendar of this company."})
    current = TechnicianCalendar.objects.filter(user=membership.user).first()
    if (current.calendar_id if current else None) == (calendar.pk if calendar else None):
        messages.success(request, "Nothing changed.")
        return redirect(_here(membership))
    routing_actions.set_technician_calendar(request.company, membership.user, calendar,
                                            actor=request.user)
    messages.success(request, f"{_who(membership)} works to {calendar.name}." if calendar
                     else f"{_who(membership)} has no working calendar: routing counts "
                          "them available at any hour.")
    return redirect(_here(membership))


@auth.staff_view("routing.manage")
@require_POST
def absence_add_view(request: HttpRequest, member_id: str) -> HttpResponse:
    membership = _member(member_id)
    form = AbsenceForm(request.POST, tz=request.company.timezone or "UTC",
                       auto_id="absence_%s")
    period = _add_absence(request, membership.user, form)
    if period is None:
        return _page(request, membership, status=400, absence_form=form)
    messages.success(request, f"{_who(membership)} is out of office {_period_text(period)}.")
    return redirect(_here(membership))


@auth.staff_view("routing.manage")
@require_POST
def absence_remove_view(request: HttpRequest, member_id: str,
                        absence_id: str) -> HttpResponse:
    membership = _member(member_id)
    period = OutOfOffice.objects.filter(public_id=absence_id, user=membership.user).first()
    if period is None:
        raise Http404("absence not found")
    text = _period_text(period)
    routing_actions.remove_out_of_office(period, actor=request.user)
    messages.success(request, f"The absence of {_who(membership)} {text} is removed.")
    return redirect(_here(membership))


@auth.staff_view("users.update")
@require_POST
def two_factor_reset_view(request: HttpRequest, member_id: str) -> HttpResponse:
    membership = _member(member_id)
    if membership.user_id == request.user.pk:
        return _page(request, membership, status=400, errors={
            "two_factor": "Turn your own second factor off on your account page, with a "
                          "code."})
    if not security.has_two_factor(membership.user):
        return _page(request, membership, status=400, errors={
            "two_factor": f"{_who(membership)} has no second factor set up."})
    try:
        security.reset_two_factor(membership.user, company=request.company,
                                  actor=request.user, actor_role=request.membership.role)
    except PermissionDenied as exc:
        return _page(request, membership, status=403, errors={
            "two_factor": f"Not done: {_sentence(exc.message)}"})
    messages.success(request, f"Two-factor sign-in is off for {_who(membership)}: they sign "
                              "in with their password and set up a new app.")
    return redirect(_here(membership))


# -- one's own absences ----------------------------------------------------------------------


def _away_page(request: HttpRequest, form: AbsenceForm | None = None,
               status: int = 200) -> HttpResponse:
    absences = _absences(request.user)
    return render(request, "workspace/account_away.html", {
        "absences": absences, "away_until": _away_until(absences), "now": utc_now(),
        "form": form or AbsenceForm(tz=request.company.timezone or "UTC",
                                    auto_id="absence_%s"),
        "tz": request.company.timezone or "UTC",
    }, status=status)


@auth.staff_view("account.own")
@require_http_methods(["GET", "POST"])
def away_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _away_page(request)
    form = AbsenceForm(request.POST, tz=request.company.timezone or "UTC",
                       auto_id="absence_%s")
    period = _add_absence(request, request.user, form)
    if period is None:
        return _away_page(request, form, status=400)
    messages.success(request, f"You are out of office {_period_text(period)}.")
    return redirect(AWAY)


@auth.staff_view("account.own")
@require_POST
def away_remove_view(request: HttpRequest, absence_id: str) -> HttpResponse:
    period = OutOfOffice.objects.filter(public_id=absence_id, user=request.user).first()
    if period is None:
        raise Http404("absence not found")
    text = _period_text(period)
    routing_actions.remove_out_of_office(period, actor=request.user)
    messages.success(request, f"Your absence {text} is removed.")
    return redirect(AWAY)
