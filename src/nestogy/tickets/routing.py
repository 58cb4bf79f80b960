"""Routing tickets: the engine's inputs from the database, ranking, auto-assignment.

:func:`gather` reads everything the engine needs with a fixed number of queries (six),
however many tickets and technicians there are:

1. active technicians with their profile (skills, capacity, out-of-office flag, last assigned);
2. out-of-office periods covering now;
3. technicians' working calendars;
4. open tickets whose SLA clock runs, per technician and priority (the load);
5. tickets each technician resolved for these clients in the last 90 days (familiarity);
6. the skills the tickets' categories require.

:func:`auto_assign` solves a batch together (``routing.engine.assign_batch``) and writes the
result set-based: one bulk update of the tickets, one of the profiles, the audit entries in
bulk and the events through one ``emit_many``. Tickets nobody can take stay unassigned and
the dispatchers hear of them (``ticket.unassignable``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count

from nestogy.accounts.models import Membership, User
from nestogy.audit.actions import build_entry, log_actions_bulk
from nestogy.core.events import emit_many
from nestogy.core.timeutil import now as utc_now
from nestogy.routing.actions import weights_for
from nestogy.routing.engine import (
    PRIORITY_LOAD,
    BatchResult,
    Ranking,
    TechInput,
    TicketInput,
    Weights,
    assign_batch,
    rank,
)
from nestogy.routing.models import CategorySkill, OutOfOffice, TechnicianCalendar
from nestogy.tickets.models import CLOSED_STATUSES, Ticket

FAMILIARITY_DAYS = 90


@dataclass
class Inputs:
    techs: list[TechInput]
    tickets: list[TicketInput]
    users: dict[int, User] = field(default_factory=dict)


def _ticket_input(ticket: Ticket, required: dict[str, dict[str, int]]) -> TicketInput:
    return TicketInput(ticket_id=ticket.pk, client_id=ticket.client_id, priority=ticket.priority,
                       required_skills=required.get(ticket.category, {}))


def gather(tickets: list[Ticket], *, now: datetime | None = None) -> Inputs:
    """The engine's view of these tickets and of every technician (six queries)."""
    now = now or utc_now()
    members = list(Membership.objects.filter(role="technician", is_active=True,
                                             user__is_active=True)
                   .select_related("user", "technician"))
    user_ids = [m.user_id for m in members]
    away = set(OutOfOffice.objects.filter(user_id__in=user_ids, starts_at__lte=now,
                                          ends_at__gt=now).values_list("user_id", flat=True))
    calendars = {tc.user_id: tc.calendar.as_calendar() for tc in
                 TechnicianCalendar.objects.filter(user_id__in=user_ids)
                 .select_related("calendar")}
    routed = [t.pk for t in tickets if t.pk]
    counts: dict[int, int] = defaultdict(int)
    weighted: dict[int, float] = defaultdict(float)
    load_rows = (Ticket.objects.filter(assignee_id__in=user_ids)
                 .exclude(status__in=CLOSED_STATUSES).exclude(sla_state="paused")
                 .exclude(pk__in=routed)
                 .values("assignee_id", "priority").annotate(n=Count("id")))
    for row in load_rows:
        counts[row["assignee_id"]] += row["n"]
        weighted[row["assignee_id"]] += row["n"] * PRIORITY_LOAD.get(row["priority"], 1.0)
    client_ids = {t.client_id for t in tickets}
    familiarity: dict[int, dict[int, int]] = defaultdict(dict)
    for row in (Ticket.objects.filter(assignee_id__in=user_ids, client_id__in=client_ids,
                                      resolved_at__gte=now - timedelta(days=FAMILIARITY_DAYS))
                .values("assignee_id", "client_id").annotate(n=Count("id"))):
        familiarity[row["assignee_id"]][row["client_id"]] = row["n"]
    required: dict[str, dict[str, int]] = defaultdict(dict)
    categories = {t.category for t in tickets if t.category}
    for category, skill, level in CategorySkill.objects.filter(
            category__in=categories).values_list("category", "skill", "min_level"):
        required[category][skill] = level
    techs = []
    for m in members:
        profile = getattr(m, "technician", None)
        calendar = calendars.get(m.user_id)
        working = calendar is None or calendar.business_seconds_between(
            now, now + timedelta(seconds=1)) == 1
        techs.append(TechInput(
            user_id=m.user_id,
            skills={str(k).lower(): int(v) for k, v in (profile.skills if profile else {})
                    .items()},
            max_open=profile.max_open_tickets if profile else 15,
            open_count=counts[m.user_id], weighted_load=weighted[m.user_id],
            familiarity=familiarity[m.user_id],
            out_of_office=bool(profile and profile.out_of_office) or m.user_id in away,
            working_now=working,
            last_assigned_at=profile.last_assigned_at if profile else None))
    return Inputs(techs=techs, tickets=[_ticket_input(t, required) for t in tickets],
                  users={m.user_id: m.user for m in members})


def candidates(ticket: Ticket, *, now: datetime | None = None,
               weights: Weights | None = None) -> tuple[Ranking, dict[int, User]]:
    """Ranked candidates and exclusions for one ticket (``GET /tickets/{id}/routing``)."""
    ranking, users, _ = candidates_with_load(ticket, now=now, weights=weights)
    return ranking, users


def candidates_with_load(ticket: Ticket, *, now: datetime | None = None,
                         weights: Weights | None = None
                         ) -> tuple[Ranking, dict[int, User], dict[int, int]]:
    """:func:`candidates` plus each technician's open tickets (user pk -> count), as the
    ranking counted them (the workspace's routing panel shows both)."""
    inputs = gather([ticket], now=now)
    from nestogy.tenancy.models import Company

    weights = weights or weights_for(Company.objects.get(pk=ticket.company_id))
    return (rank(inputs.tickets[0], inputs.techs, weights), inputs.users,
            {tech.user_id: tech.open_count for tech in inputs.techs})


@dataclass
class AutoResult:
    batch: BatchResult
    assigned: dict[int, User]          # ticket pk -> user
    unassigned: list[int]              # ticket pks nobody could take
    reasons: dict[int, str]            # ticket pk -> why nobody could take it


@transaction.atomic
def auto_assign(tickets: list[Ticket], *, actor=None, now: datetime | None = None) -> AutoResult:
    """Assign these open tickets together; write the result set-based."""
    from nestogy.tenancy.models import Company

    now = now or utc_now()
    if not tickets:
        return AutoResult(assign_batch([], []), {}, [], {})
    pks = [t.pk for t in tickets]
    tickets = list(Ticket.objects.select_for_update().filter(pk__in=pks)
                   .exclude(status__in=CLOSED_STATUSES).order_by("opened_at", "id"))
    company = Company.objects.get(pk=tickets[0].company_id) if tickets else None
    inputs = gather(tickets, now=now)
    result = assign_batch(inputs.tickets, inputs.techs, weights_for(company) if company
                          else None)
    by_pk = {t.pk: t for t in tickets}
    changed: list[Ticket] = []
    assigned: dict[int, User] = {}
    audit = []
    for ticket_pk, user_id in result.assignments.items():
        ticket = by_pk[ticket_pk]
        user = inputs.users[user_id]
        assigned[ticket_pk] = user
        if ticket.assignee_id == user_id:
            continue
        ticket.assignee_id = user_id
        ticket.updated_at = now
        changed.append(ticket)
        audit.append(build_entry(ticket, "ticket.assigned", actor=actor,
                                 data={"assignee_id": user.public_id, "routing": "auto"}))
    if changed:
        Ticket.objects.bulk_update(changed, ["assignee", "updated_at"], batch_size=500)
        from nestogy.accounts.models import TechnicianProfile

        TechnicianProfile.objects.filter(
            membership__user_id__in={t.assignee_id for t in changed}).update(
                last_assigned_at=now)
        log_actions_bulk(audit)
    reasons = {}
    for ticket_pk in result.unassigned:
        reasons[ticket_pk] = _why_nobody(inputs, ticket_pk)
    announcements: list[tuple[str, dict[str, Any]]] = [
        ("ticket.assigned", _data(t)) for t in changed]
    announcements += [("ticket.unassignable", {**_data(by_pk[pk]), "reason": reasons[pk]})
                      for pk in result.unassigned]
    if announcements:
        emit_many(announcements, company_id=company.pk, actor=actor)
    return AutoResult(result, assigned, list(result.unassigned), reasons)


def _why_nobody(inputs: Inputs, ticket_pk: int) -> str:
    ticket = next(t for t in inputs.tickets if t.ticket_id == ticket_pk)
    ranking = rank(ticket, inputs.techs)
    if ranking.candidates:
        return "every qualified technician's capacity went to more urgent tickets"
    if not ranking.excluded:
        return "no active technicians"
    reasons = sorted({e.reason for e in ranking.excluded})
    return "nobody qualifies (" + ", ".join(r.replace("_", " ") for r in reasons) + ")"


def _data(ticket: Ticket) -> dict[str, Any]:
    return {"ticket_id": ticket.public_id, "ticket_pk": ticket.pk, "number": ticket.number,
            "subject": ticket.subject, "priority": ticket.priority,
            "assignee_user_id": ticket.assignee_id}


def unavailable_assignees(tickets: list[Ticket], *, now: datetime | None = None) -> list[Ticket]:
    """Of these tickets, those whose assignee cannot work them now (away, off hours,
    inactive): escalation level 3 reassigns them."""
    assigned = [t for t in tickets if t.assignee_id]
    if not assigned:
        return []
    inputs = gather(assigned, now=now)
    by_user = {tech.user_id: tech for tech in inputs.techs}
    out = []
    for ticket in assigned:
        tech = by_user.get(ticket.assignee_id)
        if tech is None:
            continue  # a manager or admin working the ticket: not routing's to judge
        if tech.out_of_office or not tech.working_now or not tech.active:
            out.append(ticket)
    return out
