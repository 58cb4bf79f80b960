"""The dispatch board: who should take which ticket, the team's load and availability, and
the auto-assign preview (the optimal batch against greedy) with its exact application.

Reads use :func:`nestogy.tickets.routing.gather` (a fixed number of queries whatever the
number of tickets and technicians) plus two queries for today's shifts and absences, so the
board costs the same with 5 tickets or 500. Every assignment goes through
:func:`nestogy.tickets.actions.assign_ticket` (audit entry, ``ticket.assigned`` event,
notifications), one ticket at a time, exactly like the ticket page.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from nestogy.accounts.models import Membership, User
from nestogy.core.errors import ValidationError
from nestogy.core.timeutil import day_start, today_in
from nestogy.core.timeutil import now as utc_now
from nestogy.routing.actions import weights_for
from nestogy.routing.engine import (
    PRIORITY_LOAD,
    BatchResult,
    Candidate,
    Ranking,
    TechInput,
    assign_batch,
    rank,
)
from nestogy.routing.models import OutOfOffice, TechnicianCalendar
from nestogy.tickets.actions import assign_ticket
from nestogy.tickets.models import CLOSED_STATUSES, Ticket
from nestogy.tickets.routing import Inputs, gather


@dataclass
class BoardTicket:
    ticket: Ticket
    required_skills: dict[str, int]
    ranking: Ranking
    suggestion: Candidate | None
    suggested_user: User | None
    why_nobody: str = ""

    @property
    def suggestion_is_current(self) -> bool:
        return (self.suggestion is not None
                and self.suggestion.user_id == self.ticket.assignee_id)


@dataclass
class Shift:
    start: datetime
    end: datetime


@dataclass
class TechRow:
    user: User
    skills: dict[str, int]
    open_count: int
    max_open: int
    working_now: bool
    out_of_office: bool
    always_on: bool                       # no working calendar: always available
    shifts_today: list[Shift] = field(default_factory=list)
    absences_today: list[OutOfOffice] = field(default_factory=list)
    calendar_name: str = ""

    @property
    def free(self) -> int:
        return max(0, self.max_open - self.open_count)

    @property
    def load_percent(self) -> int:
        return min(100, round(100 * self.open_count / max(1, self.max_open)))

    @property
    def available(self) -> bool:
        return self.working_now and not self.out_of_office and self.free > 0

    @property
    def status(self) -> str:
        if self.out_of_office:
            return "Away"
        if not self.working_now:
            return "Off shift"
        if self.free == 0:
            return "At capacity"
        return "Available"


@dataclass
class Board:
    tickets: list[BoardTicket]
    techs: list[TechRow]


def _with_board_load(inputs: Inputs, tickets: list[Ticket]) -> list[TechInput]:
    """``gather`` leaves the routed tickets out of their assignees' load (right when they are
    being re-routed); the board shows the real load, so the assigned ones count again."""
    extra: dict[int, tuple[int, float]] = {}
    for t in tickets:
        if t.assignee_id and t.sla_state != "paused" and t.status not in CLOSED_STATUSES:
            n, w = extra.get(t.assignee_id, (0, 0.0))
            extra[t.assignee_id] = (n + 1, w + PRIORITY_LOAD.get(t.priority, 1.0))
    return [replace(tech, open_count=tech.open_count + extra.get(tech.user_id, (0, 0))[0],
                    weighted_load=tech.weighted_load + extra.get(tech.user_id, (0, 0.0))[1])
            for tech in inputs.techs]


def why_nobody(ranking: Ranking) -> str:
    if ranking.candidates:
        return ""
    if not ranking.excluded:
        return "no active technicians"
    reasons = sorted({e.reason for e in ranking.excluded})
    return "nobody qualifies (" + ", ".join(r.replace("_", " ") for r in reasons) + ")"


def board(tickets: list[Ticket], company, *, now: datetime | None = None) -> Board:
    """Each ticket's ranking and best candidate, and every technician's load, skills and
    today's availability (a fixed number of queries)."""
    now = now or utc_now()
    inputs = gather(tickets, now=now)
    techs = _with_board_load(inputs, tickets)
    weights = weights_for(company)
    rows = []
    for ticket, tin in zip(tickets, inputs.tickets, strict=True):
        ranking = rank(tin, techs, weights)
        best = ranking.best
        rows.append(BoardTicket(ticket, dict(tin.required_skills), ranking, best,
                                inputs.users.get(best.user_id) if best else None,
                                why_nobody(ranking)))
    return Board(rows, _tech_rows(company, inputs, techs, now))


def _tech_rows(company, inputs: Inputs, techs: list[TechInput], now: datetime) -> list[TechRow]:
    tz = company.timezone or "UTC"
    today = today_in(tz)
    start, end = day_start(today, tz), day_start(today + timedelta(days=1), tz)
    user_ids = [t.user_id for t in techs]
    calendars = {tc.user_id: tc.calendar for tc in TechnicianCalendar.objects
                 .filter(user_id__in=user_ids).select_related("calendar")}
    absences: dict[int, list[OutOfOffice]] = {}
    for period in OutOfOffice.objects.filter(user_id__in=user_ids, starts_at__lt=end,
                                             ends_at__gt=start).order_by("starts_at"):
        absences.setdefault(period.user_id, []).append(period)
    rows = []
    for tech in techs:
        stored = calendars.get(tech.user_id)
        shifts: list[Shift] = []
        always = stored is None or stored.is_24x7
        if not always:
            calendar = stored.as_calendar()
            # The technician's shifts that touch the company's today (their calendar may
            # keep another time zone, so look at the neighbouring local dates too).
            for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
                for a, b in calendar.intervals(day):
                    if a < end and b > start:
                        shifts.append(Shift(max(a, start), min(b, end)))
            shifts.sort(key=lambda s: s.start)
        rows.append(TechRow(
            user=inputs.users[tech.user_id], skills=dict(sorted(tech.skills.items())),
            open_count=tech.open_count, max_open=tech.max_open, working_now=tech.working_now,
            out_of_office=tech.out_of_office, always_on=always, shifts_today=shifts,
            absences_today=absences.get(tech.user_id, []),
            calendar_name=stored.name if stored else ""))
    order = {"Available": 0, "At capacity": 1, "Off shift": 2, "Away": 3}
    rows.sort(key=lambda r: (order[r.status], r.load_percent, r.user.name or r.user.email))
    return rows


# -- auto-assign: preview and apply ---------------------------------------------------------

@dataclass(frozen=True)
class PlanItem:
    """One previewed assignment, with what the decision depended on."""

    ticket_id: str
    user_id: str
    priority: str
    category: str
    client_id: str

    def as_list(self) -> list[str]:
        return [self.ticket_id, self.user_id, self.priority, self.category, self.client_id]

    @classmethod
    def from_list(cls, value: Any) -> PlanItem:
        if (not isinstance(value, list | tuple) or len(value) != 5
                or not all(isinstance(v, str) for v in value)):
            raise ValidationError("plan", "is not a preview this board made")
        return cls(*value)


@dataclass
class PreviewRow:
    ticket: Ticket
    user: User | None          # optimal
    greedy_user: User | None


@dataclass
class Preview:
    batch: BatchResult
    rows: list[PreviewRow]
    unassigned: list[tuple[Ticket, str]]   # (ticket, reason)
    plan: list[PlanItem]

    @property
    def improvement(self) -> Decimal:
        return self.batch.improvement

    @property
    def differs(self) -> int:
        return sum(1 for r in self.rows if r.user != r.greedy_user)


def routable_unassigned():
    """The tickets "Auto-assign all" routes: open and unassigned, in arrival order (the
    order the greedy baseline takes them, as ``routing.auto_assign`` does)."""
    return (Ticket.objects.exclude(status__in=CLOSED_STATUSES).filter(assignee__isnull=True)
            .select_related("client").order_by("opened_at", "id"))


def preview(company, tickets: list[Ticket] | None = None, *,
            now: datetime | None = None) -> Preview:
    """What auto-assign would do now: ``routing.engine.assign_batch`` on ``gather``'s inputs,
    with the greedy baseline beside it. Writes nothing."""
    now = now or utc_now()
    tickets = list(routable_unassigned()) if tickets is None else tickets
    inputs = gather(tickets, now=now)
    weights = weights_for(company)
    batch = assign_batch(inputs.tickets, inputs.techs, weights)
    users = inputs.users
    rows, unassigned, plan = [], [], []
    for ticket, tin in zip(tickets, inputs.tickets, strict=True):
        chosen = batch.assignments.get(ticket.pk)
        greedy_user = batch.greedy_assignments.get(ticket.pk)
        if chosen is None:
            ranking = rank(tin, inputs.techs, weights)
            unassigned.append((ticket, why_nobody(ranking) or
                               "every qualified technician's capacity went to more urgent "
                               "tickets"))
            if greedy_user is not None:
                rows.append(PreviewRow(ticket, None, users[greedy_user]))
            continue
        rows.append(PreviewRow(ticket, users[chosen],
                               users[greedy_user] if greedy_user is not None else None))
        plan.append(PlanItem(ticket.public_id, users[chosen].public_id, ticket.priority,
                             ticket.category, ticket.client.public_id))
    return Preview(batch, rows, unassigned, plan)


@dataclass
class Skipped:
    ticket_id: str
    label: str      # "#12 Printer offline" (or the id when the ticket is gone)
    reason: str


@dataclass
class Applied:
    assigned: list[tuple[Ticket, User]]
    skipped: list[Skipped]


def apply_plan(plan: list[PlanItem], *, actor) -> Applied:
    """Assign exactly the previewed pairs, each through ``assign_ticket``. A ticket that
    changed since the preview (closed, assigned by someone, priority, category or client
    changed) or whose technician left is skipped with the reason; nothing else is
    re-decided."""
    members = {m.user.public_id: m.user for m in Membership.objects.select_related("user")
               .filter(user__public_id__in=[i.user_id for i in plan], is_active=True,
                       user__is_active=True, role="technician")}
    assigned, skipped = [], []
    for item in plan:
        with transaction.atomic():
            ticket = (Ticket.objects.select_for_update(of=("self",))
                      .select_related("client", "assignee")
                      .filter(public_id=item.ticket_id).first())
            if ticket is None:
                skipped.append(Skipped(item.ticket_id, item.ticket_id, "no longer exists"))
                continue
            label = f"#{ticket.number} {ticket.subject}"
            reason = _changed(ticket, item)
            user = members.get(item.user_id)
            if not reason and user is None:
                reason = "the technician is no longer an active technician"
            if reason:
                skipped.append(Skipped(item.ticket_id, label, reason))
                continue
            assigned.append((assign_ticket(ticket, user, actor=actor), user))
    return Applied(assigned, skipped)


def _changed(ticket: Ticket, item: PlanItem) -> str:
    if ticket.status in CLOSED_STATUSES:
        return f"it was {ticket.get_status_display().lower()} since the preview"
    if ticket.assignee_id is not None:
        who = ticket.assignee.name or ticket.assignee.email
        return f"it was assigned to {who} since the preview"
    if ticket.priority != item.priority:
        return f"its priority changed from {item.priority} to {ticket.priority}"
    if ticket.category != item.category:
        return "its category changed since the preview"
    if ticket.client.public_id != item.client_id:
        return "its client changed since the preview"
    return ""


def technician(user_public_id: str) -> User | None:
    """An active technician of the current company by public id (None: not one of ours)."""
    membership = (Membership.objects.select_related("user")
                  .filter(user__public_id=user_public_id, is_active=True, user__is_active=True,
                          role="technician").first())
    return membership.user if membership else None


def assign_from_board(ticket: Ticket, user: User, *, seen_assignee: str, actor) -> Ticket:
    """Assign from the board, unless someone changed the ticket's assignee since the board
    was drawn (``seen_assignee``: the assignee's public id then, "" for nobody)."""
    with transaction.atomic():
        current = (Ticket.objects.select_for_update(of=("self",)).select_related("assignee")
                   .get(pk=ticket.pk))
        now_assignee = current.assignee.public_id if current.assignee else ""
        if now_assignee != seen_assignee:
            who = (current.assignee.name or current.assignee.email) if current.assignee \
                else "nobody"
            raise ValidationError("ticket", f"#{current.number} was reassigned to {who} since "
                                            "the board was loaded; nothing was changed")
        if current.status in CLOSED_STATUSES:
            raise ValidationError("ticket", f"#{current.number} is "
                                            f"{current.get_status_display().lower()}")
        return assign_ticket(current, user, actor=actor)
