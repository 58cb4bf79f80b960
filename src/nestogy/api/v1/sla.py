"""/calendars and /sla-policies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Router, Schema, Status
from pydantic import Field, create_model

from nestogy.accounts.roles import require
from nestogy.api.pagination import paginate
from nestogy.api.schemas import (
    Cursor,
    Day,
    InputSchema,
    Limit,
    ObjectId,
    Timestamp,
    TimeZone,
    name_text,
    responses,
)
from nestogy.core.errors import NotFound, ValidationError
from nestogy.core.timeutil import as_utc
from nestogy.sla import actions, queries
from nestogy.sla.actions import (
    MAX_LEVEL,
    MAX_LEVEL_PERCENT,
    MAX_TARGET_MINUTES,
    NOTIFY,
    PAUSABLE,
)
from nestogy.sla.calendar import WEEKDAYS
from nestogy.sla.clock import PRIORITIES
from nestogy.sla.models import BusinessCalendar, SLAPolicy

router = Router(tags=["calendars"])

MAX_BUDGET_SECONDS = 100_000 * 3600
policies_router = Router(tags=["sla policies"])


def ref(getter, value: str, field: str):
    """Look up an object named in a request body; a missing one is a 422 naming the field."""
    try:
        return getter(value)
    except NotFound:
        raise ValidationError(field, "not found") from None


Weekday = Literal[WEEKDAYS]
ClockTime = Annotated[str, Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$",
                                 examples=["09:00"])]
Window = Annotated[list[ClockTime], Field(min_length=2, max_length=2,
                                          description="[start, end), start before end; "
                                                      "windows of a day in order, not "
                                                      "overlapping")]
Hours = dict[Weekday, Annotated[list[Window], Field(max_length=24)]]
Holidays = Annotated[list[Day], Field(max_length=1000)]
HolidayCountry = Annotated[str, Field(pattern=r"^([A-Za-z]{2,3})?$",
                                      description="a country code the holidays library "
                                                  "supports (US, DE, GBR...), or empty")]
Subdivision = Annotated[str, Field(max_length=10,
                                   description="a subdivision of holiday_country, or empty")]


class CalendarIn(InputSchema):
    name: name_text(200)
    timezone: TimeZone = "UTC"
    hours: Hours = {}
    holidays: Holidays = []
    holiday_country: HolidayCountry | None = None
    holiday_subdivision: Subdivision | None = None
    is_24x7: bool = False


class CalendarPatch(InputSchema):
    name: name_text(200) | None = None
    timezone: TimeZone | None = None
    hours: Hours | None = None
    holidays: Holidays | None = None
    holiday_country: HolidayCountry | None = None
    holiday_subdivision: Subdivision | None = None
    is_24x7: bool | None = None


class CalendarOut(Schema):
    id: str
    name: str
    timezone: str
    hours: dict[str, list[list[str]]]
    holidays: list[str]
    holiday_country: str
    holiday_subdivision: str
    is_24x7: bool


class CalendarList(Schema):
    items: list[CalendarOut]
    next_cursor: str | None


class AddTimeIn(InputSchema):
    start: Timestamp
    seconds: Annotated[int, Field(ge=0, le=MAX_BUDGET_SECONDS)]


class AddTimeOut(Schema):
    due_at: datetime


class BetweenIn(InputSchema):
    start: Timestamp
    end: Timestamp = Field(description="within 50 years of start")


class BetweenOut(Schema):
    seconds: int


def calendar_out(c: BusinessCalendar) -> dict:
    return {"id": c.public_id, "name": c.name, "timezone": c.timezone, "hours": c.hours,
            "holidays": c.holidays, "holiday_country": c.holiday_country,
            "holiday_subdivision": c.holiday_subdivision, "is_24x7": c.is_24x7}


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    for key in ("holiday_country", "holiday_subdivision"):
        if key in data and data[key] is None:
            data[key] = ""
    return data


@router.get("", response=responses({200: CalendarList}), summary="List calendars")
def list_calendars(request, limit: int = Limit(), cursor: str | None = Cursor()):
    require(request.auth, "calendars.view")
    rows, next_cursor = paginate(BusinessCalendar.objects.all(), limit=limit, cursor=cursor,
                                 order=("name", "id"))
    return {"items": [calendar_out(c) for c in rows], "next_cursor": next_cursor}


@router.post("", response=responses({201: CalendarOut}), summary="Create a calendar")
def create_calendar(request, payload: CalendarIn):
    require(request.auth, "calendars.manage")
    calendar = actions.create_calendar(request.auth.company,
                                       _clean(payload.model_dump(mode="json", exclude_unset=True)),
                                       actor=request.auth.user)
    return Status(201, calendar_out(calendar))


@router.get("/{calendar_id}", response=responses({200: CalendarOut}), summary="Get a calendar")
def get_calendar(request, calendar_id: str):
    require(request.auth, "calendars.view")
    return calendar_out(queries.get_calendar(calendar_id))


@router.patch("/{calendar_id}", response=responses({200: CalendarOut}),
              summary="Update a calendar (recomputes open tickets on its policies)")
def update_calendar(request, calendar_id: str, payload: CalendarPatch):
    require(request.auth, "calendars.manage")
    calendar = actions.update_calendar(queries.get_calendar(calendar_id),
                                       _clean(payload.model_dump(mode="json", exclude_unset=True)),
                                       actor=request.auth.user)
    return calendar_out(calendar)


@router.post("/{calendar_id}/add-business-time", response=responses({200: AddTimeOut}),
             summary="The moment a business-time budget from start runs out")
def add_business_time(request, calendar_id: str, payload: AddTimeIn):
    require(request.auth, "calendars.view")
    calendar = queries.get_calendar(calendar_id)
    if payload.seconds < 0 or payload.seconds > MAX_BUDGET_SECONDS:
        raise ValidationError("seconds", f"must be between 0 and {MAX_BUDGET_SECONDS}")
    start = as_utc(payload.start, "start")
    return {"due_at": calendar.as_calendar().add_business_time(start, payload.seconds)}


@router.post("/{calendar_id}/business-seconds", response=responses({200: BetweenOut}),
             summary="Working seconds in [start, end)")
def business_seconds(request, calendar_id: str, payload: BetweenIn):
    require(request.auth, "calendars.view")
    calendar = queries.get_calendar(calendar_id)
    start, end = as_utc(payload.start, "start"), as_utc(payload.end, "end")
    if (end - start).days > 366 * 50:
        raise ValidationError("end", "must be within 50 years of start")
    return {"seconds": calendar.as_calendar().business_seconds_between(start, end)}


Minutes = Annotated[int, Field(ge=1, le=MAX_TARGET_MINUTES)]


class TargetIn(InputSchema):
    first_response_minutes: Minutes
    resolution_minutes: Minutes


# One target per priority, all required.
TargetsIn = create_model("TargetsIn", __base__=InputSchema,
                         **dict.fromkeys(PRIORITIES, (TargetIn, ...)))


class LevelIn(InputSchema):
    level: Annotated[int, Field(ge=1, le=MAX_LEVEL, description="unique in the ladder")]
    percent: Annotated[int, Field(ge=1, le=MAX_LEVEL_PERCENT)] | None = Field(
        None, description="percent of the target; null = the policy's warning_percent")
    notify: Literal[NOTIFY] = "assignee"
    raise_priority: bool = False
    reassign: bool = False


WarningPercent = Annotated[int, Field(ge=1, le=99)]
PauseStatuses = list[Literal[PAUSABLE]]
Ladder = Annotated[list[LevelIn], Field(max_length=MAX_LEVEL)]


class PolicyIn(InputSchema):
    name: name_text(200)
    calendar_id: ObjectId
    is_default: bool = False
    warning_percent: WarningPercent = 80
    targets: TargetsIn
    pause_statuses: PauseStatuses | None = None
    escalation_ladder: Ladder | None = None


class PolicyPatch(InputSchema):
    name: name_text(200) | None = None
    calendar_id: ObjectId | None = None
    is_default: bool | None = None
    warning_percent: WarningPercent | None = None
    targets: TargetsIn | None = None
    pause_statuses: PauseStatuses | None = None
    escalation_ladder: Ladder | None = None


class PolicyOut(Schema):
    id: str
    name: str
    calendar_id: str
    is_default: bool
    warning_percent: int
    targets: dict[str, dict[str, int]]
    pause_statuses: list[str]
    escalation_ladder: list[dict]


class PolicyList(Schema):
    items: list[PolicyOut]
    next_cursor: str | None


def policy_out(p: SLAPolicy) -> dict:
    return {"id": p.public_id, "name": p.name, "calendar_id": p.calendar.public_id,
            "is_default": p.is_default, "warning_percent": p.warning_percent,
            "targets": p.targets, "pause_statuses": p.pause_statuses,
            "escalation_ladder": p.escalation_ladder}


def _policy_data(payload) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    if "calendar_id" in data:
        calendar_id = data.pop("calendar_id")
        if calendar_id is None:
            raise ValidationError("calendar_id", "must not be null")
        data["calendar"] = ref(queries.get_calendar, calendar_id, "calendar_id")
    for key in ("pause_statuses", "escalation_ladder", "is_default", "warning_percent",
                "targets", "name"):
        if key in data and data[key] is None:
            raise ValidationError(key, "must not be null")
    return data


@policies_router.get("", response=responses({200: PolicyList}), summary="List SLA policies")
def list_policies(request, limit: int = Limit(), cursor: str | None = Cursor()):
    require(request.auth, "sla_policies.view")
    rows, next_cursor = paginate(SLAPolicy.objects.select_related("calendar"), limit=limit,
                                 cursor=cursor, order=("name", "id"))
    return {"items": [policy_out(p) for p in rows], "next_cursor": next_cursor}


@policies_router.post("", response=responses({201: PolicyOut}), summary="Create an SLA policy")
def create_policy(request, payload: PolicyIn):
    require(request.auth, "sla_policies.manage")
    policy = actions.create_policy(request.auth.company, _policy_data(payload),
                                   actor=request.auth.user)
    return Status(201, policy_out(policy))


@policies_router.get("/{policy_id}", response=responses({200: PolicyOut}),
                     summary="Get an SLA policy")
def get_policy(request, policy_id: str):
    require(request.auth, "sla_policies.view")
    return policy_out(queries.get_policy(policy_id))


@policies_router.patch("/{policy_id}", response=responses({200: PolicyOut}),
                       summary="Update an SLA policy (recomputes its open tickets)")
def update_policy(request, policy_id: str, payload: PolicyPatch):
    require(request.auth, "sla_policies.manage")
    policy = queries.get_policy(policy_id)
    policy = actions.update_policy(policy, _policy_data(payload), actor=request.auth.user)
    return policy_out(policy)
