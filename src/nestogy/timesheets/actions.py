"""Every change to time: validated (errors name the field, nothing is written), atomic and
audited.

- :func:`start_timer` starts the user's stopwatch on a ticket (or for a client). A user has
  one timer per company: starting another stops the running one first and records its
  entry; the result says so.
- :func:`stop_timer` turns the timer into a draft entry with the elapsed whole seconds (at
  least one second; a timer left running for more than 24 hours is recorded as 24 hours and
  the result says it was capped, so the technician corrects it).
- :func:`add_entry` records time after the fact; :func:`update_entry` and
  :func:`delete_entry` change the user's own draft entries only (submitted, approved and
  invoiced time belongs to the approval and billing steps).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from nestogy.audit.actions import log_action
from nestogy.core.errors import Conflict, NotFound, ValidationError
from nestogy.core.timeutil import now as utc_now
from nestogy.core.validation import FUTURE_SKEW, clean_moment
from nestogy.core.validation import clean_text as _text
from nestogy.timesheets.durations import format_duration, parse_duration
from nestogy.timesheets.models import (
    MAX_DURATION,
    EntrySource,
    EntryStatus,
    RunningTimer,
    TimeEntry,
    WorkType,
)

NOTE_MAX = 4000
ENTRY_FIELDS = {"ticket", "client", "started_at", "duration", "work_type", "billable", "note"}


@dataclass(frozen=True)
class TimerStop:
    """What stopping a timer recorded."""

    entry: TimeEntry
    elapsed_seconds: int  # as measured (may exceed the recorded duration when capped)
    capped: bool

    @property
    def message(self) -> str:
        where = f"#{self.entry.ticket.number}" if self.entry.ticket_id else \
            self.entry.client.name
        text = f"{format_duration(self.entry.duration_seconds)} recorded on {where}."
        if self.capped:
            hours = self.elapsed_seconds // 3600
            text += (f" The timer ran {hours} hours and was capped at 24 hours: correct the "
                     "entry to the time you worked.")
        return text


@dataclass(frozen=True)
class TimerStart:
    timer: RunningTimer
    stopped: TimerStop | None  # the timer that was running before, now recorded


# -- helpers -----------------------------------------------------------------------------


def _work_type(value: Any, field: str = "work_type_id", *,
               keep: WorkType | None = None) -> WorkType | None:
    """A work type of the company (active, unless it is the one the entry already has)."""
    if value in (None, ""):
        return None
    if isinstance(value, WorkType):
        work_type = value
        if not WorkType.objects.filter(pk=work_type.pk).exists():
            raise ValidationError(field, "unknown work type")
    else:
        work_type = WorkType.objects.filter(public_id=str(value)).first()
        if work_type is None:
            raise ValidationError(field, "unknown work type")
    if not work_type.is_active and (keep is None or keep.pk != work_type.pk):
        raise ValidationError(field, f"{work_type.name} is no longer in use")
    return work_type


def _duration(value: Any, field: str = "duration") -> int:
    """Whole seconds (an int) or a typed duration (text such as ``1h 30m``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 < value <= MAX_DURATION:
            raise ValidationError(field, f"must be between 1 and {MAX_DURATION} seconds "
                                         "(24 hours)")
        return value
    if not isinstance(value, str):
        raise ValidationError(field, "must be a number of seconds or a duration such as "
                                     "1h 30m")
    return parse_duration(value, field)


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(field, "must be true or false")
    return value


def _target(ticket, client) -> tuple[Any, Any]:
    """(ticket, client): the client comes from the ticket when there is one."""
    if ticket is not None:
        if client is not None and client.pk != ticket.client_id:
            raise ValidationError("client_id", "must be the ticket's client (or left empty)")
        return ticket, ticket.client
    if client is None:
        raise ValidationError("client_id", "is required for time not on a ticket")
    return None, client


def _started_at(value: Any, now: datetime) -> datetime:
    started = clean_moment(value, "started_at")
    if started > now + FUTURE_SKEW:
        raise ValidationError("started_at", "must not be in the future")
    return started


def _entry_data(entry: TimeEntry) -> dict[str, Any]:
    return {"ticket_id": entry.ticket.public_id if entry.ticket_id else None,
            "client_id": entry.client.public_id, "user_id": entry.user.public_id,
            "started_at": entry.started_at, "duration_seconds": entry.duration_seconds,
            "work_type_id": entry.work_type.public_id if entry.work_type_id else None,
            "billable": entry.billable, "source": entry.source}


def _check_own_draft(entry: TimeEntry, actor) -> TimeEntry:
    entry = TimeEntry.objects.select_for_update().filter(pk=entry.pk).first()
    if entry is None or entry.user_id != getattr(actor, "pk", None):
        raise NotFound("time entry not found")
    if entry.status != EntryStatus.DRAFT:
        raise Conflict(f"this entry is {entry.get_status_display().lower()}; only draft "
                       "entries can be changed")
    return entry


# -- work types --------------------------------------------------------------------------


@transaction.atomic
def create_work_type(company, data: dict[str, Any], *, actor=None) -> WorkType:
    name = _text(data.get("name"), "name", max_length=100, required=True)
    if WorkType.objects.filter(name__iexact=name).exists():
        raise ValidationError("name", f"a work type named {name} already exists")
    work_type = WorkType.objects.create(
        company=company, name=name, billable=_bool(data.get("billable", True), "billable"),
        is_active=_bool(data.get("is_active", True), "is_active"))
    log_action(work_type, "work_type.created", actor=actor,
               data={"name": name, "billable": work_type.billable})
    return work_type


@transaction.atomic
def update_work_type(work_type: WorkType, data: dict[str, Any], *, actor=None) -> WorkType:
    unknown = set(data) - {"name", "billable", "is_active"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a work type field")
    if "name" in data:
        name = _text(data["name"], "name", max_length=100, required=True)
        if WorkType.objects.filter(name__iexact=name).exclude(pk=work_type.pk).exists():
            raise ValidationError("name", f"a work type named {name} already exists")
        work_type.name = name
    for key in ("billable", "is_active"):
        if key in data:
            setattr(work_type, key, _bool(data[key], key))
    work_type.save()
    log_action(work_type, "work_type.updated", actor=actor, data=dict(data))
    return work_type


STANDARD_WORK_TYPES = (("Remote support", True), ("On-site", True), ("Project", True),
                       ("After hours", True))


def ensure_standard_work_types(company, *, actor=None) -> list[WorkType]:
    """The four usual work types, for a company that has none yet."""
    if WorkType.objects.exists():
        return list(WorkType.objects.all())
    return [create_work_type(company, {"name": name, "billable": billable}, actor=actor)
            for name, billable in STANDARD_WORK_TYPES]


# -- timer -------------------------------------------------------------------------------


def _stop(timer: RunningTimer, now: datetime, actor, changes: dict[str, Any]) -> TimerStop:
    elapsed = max(1, int((now - timer.started_at).total_seconds()))
    duration = min(elapsed, MAX_DURATION)
    work_type = timer.work_type
    if "work_type" in changes:
        work_type = _work_type(changes["work_type"], keep=timer.work_type)
    billable = _bool(changes["billable"], "billable") if "billable" in changes else \
        timer.billable
    note = _text(changes["note"], "note", max_length=NOTE_MAX) if "note" in changes else \
        timer.note
    entry = TimeEntry.objects.create(
        company_id=timer.company_id, ticket=timer.ticket, client=timer.client,
        user=timer.user, started_at=timer.started_at, duration_seconds=duration,
        work_type=work_type, billable=billable, note=note, source=EntrySource.TIMER)
    timer.delete()
    stop = TimerStop(entry=entry, elapsed_seconds=elapsed, capped=elapsed > MAX_DURATION)
    log_action(entry, "time.timer_stopped", actor=actor,
               data={**_entry_data(entry), "elapsed_seconds": elapsed,
                     "capped": stop.capped})
    return stop


@transaction.atomic
def start_timer(company, user, *, ticket=None, client=None, work_type=None,
                billable: bool | None = None, note: str = "", actor=None) -> TimerStart:
    """Start ``user``'s timer; a timer already running is stopped and recorded first."""
    ticket, client = _target(ticket, client)
    work_type = _work_type(work_type)
    billable = (work_type.billable if work_type else True) if billable is None else \
        _bool(billable, "billable")
    note = _text(note, "note", max_length=NOTE_MAX)
    now = utc_now()
    stopped = None
    running = RunningTimer.objects.select_for_update().filter(user=user).first()
    if running is not None:
        stopped = _stop(running, now, actor, {})
    try:
        with transaction.atomic():
            timer = RunningTimer.objects.create(company=company, user=user, ticket=ticket,
                                                client=client, started_at=now,
                                                work_type=work_type, billable=billable,
                                                note=note)
    except IntegrityError:
        # Another request (a second tab) started one at the same moment.
        raise Conflict("a timer was started at the same moment elsewhere; reload the "
                       "page") from None
    log_action(timer, "time.timer_started", actor=actor,
               data={"ticket_id": ticket.public_id if ticket else None,
                     "client_id": client.public_id, "user_id": user.public_id,
                     "stopped_entry_id": stopped.entry.public_id if stopped else None})
    return TimerStart(timer=timer, stopped=stopped)


@transaction.atomic
def stop_timer(user, *, actor=None, **changes: Any) -> TimerStop:
    """Record ``user``'s running timer as a draft entry; ``changes`` may set ``note``,
    ``work_type`` and ``billable`` of the entry."""
    unknown = set(changes) - {"note", "work_type", "billable"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "cannot be set when stopping a timer")
    timer = RunningTimer.objects.select_for_update().filter(user=user).first()
    if timer is None:
        raise Conflict("no timer is running")
    return _stop(timer, utc_now(), actor, changes)


@transaction.atomic
def discard_timer(user, *, actor=None) -> None:
    """Throw the running timer away without recording time."""
    timer = RunningTimer.objects.select_for_update().filter(user=user).first()
    if timer is None:
        raise Conflict("no timer is running")
    elapsed = int((utc_now() - timer.started_at).total_seconds())
    log_action(timer, "time.timer_discarded", actor=actor,
               data={"ticket_id": timer.ticket.public_id if timer.ticket_id else None,
                     "elapsed_seconds": elapsed})
    timer.delete()


# -- entries -----------------------------------------------------------------------------


@transaction.atomic
def add_entry(company, user, data: dict[str, Any], *, actor=None) -> TimeEntry:
    """Record time after the fact. ``data``: ticket or client, ``started_at`` (aware),
    ``duration`` (seconds or text such as ``1h 30m``), ``work_type`` (object or public id),
    ``billable`` (default: the work type's), ``note``."""
    unknown = set(data) - ENTRY_FIELDS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a time entry field")
    ticket, client = _target(data.get("ticket"), data.get("client"))
    now = utc_now()
    started = _started_at(data.get("started_at"), now)
    duration = _duration(data.get("duration"))
    work_type = _work_type(data.get("work_type"))
    billable = data.get("billable")
    billable = (work_type.billable if work_type else True) if billable is None else \
        _bool(billable, "billable")
    entry = TimeEntry.objects.create(
        company=company, ticket=ticket, client=client, user=user, started_at=started,
        duration_seconds=duration, work_type=work_type, billable=billable,
        note=_text(data.get("note"), "note", max_length=NOTE_MAX), source=EntrySource.MANUAL)
    log_action(entry, "time_entry.created", actor=actor, data=_entry_data(entry))
    return entry


@transaction.atomic
def update_entry(entry: TimeEntry, changes: dict[str, Any], *, actor=None) -> TimeEntry:
    """Change one of the actor's own draft entries (the ticket and client stay)."""
    unknown = set(changes) - (ENTRY_FIELDS - {"ticket", "client"})
    if unknown:
        raise ValidationError(sorted(unknown)[0], "cannot be changed on a time entry")
    entry = _check_own_draft(entry, actor)
    before = _entry_data(entry)
    if "started_at" in changes:
        entry.started_at = _started_at(changes["started_at"], utc_now())
    if "duration" in changes:
        entry.duration_seconds = _duration(changes["duration"])
    if "work_type" in changes:
        entry.work_type = _work_type(changes["work_type"], keep=entry.work_type)
    if "billable" in changes:
        entry.billable = _bool(changes["billable"], "billable")
    if "note" in changes:
        entry.note = _text(changes["note"], "note", max_length=NOTE_MAX)
    entry.save()
    after = _entry_data(entry)
    log_action(entry, "time_entry.updated", actor=actor,
               data={k: {"from": before[k], "to": v} for k, v in after.items()
                     if before[k] != v})
    return entry


@transaction.atomic
def delete_entry(entry: TimeEntry, *, actor=None) -> None:
    entry = _check_own_draft(entry, actor)
    log_action(entry, "time_entry.deleted", actor=actor, data=_entry_data(entry))
    entry.delete()


__all__ = ["TimerStart", "TimerStop", "add_entry", "create_work_type", "delete_entry",
           "discard_timer", "ensure_standard_work_types", "start_timer", "stop_timer",
           "update_entry", "update_work_type"]
