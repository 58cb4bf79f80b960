"""/tickets: CRUD, replies, import, bulk operations, the SLA report and escalation checks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.db import transaction
from ninja import Query, Router, Schema, Status
from pydantic import Field

from nestogy.accounts.queries import get_member
from nestogy.accounts.roles import require
from nestogy.api import desk_schemas
from nestogy.api.pagination import paginate
from nestogy.api.schemas import (
    Cursor,
    InputSchema,
    Limit,
    ObjectId,
    Timestamp,
    name_text,
    responses,
    text,
)
from nestogy.api.v1.sla import ref
from nestogy.clients.queries import get_client, get_contact, get_site
from nestogy.core.errors import ValidationError
from nestogy.core.timeutil import as_utc
from nestogy.tickets import actions, escalation, queries, reports
from nestogy.tickets.models import SLA_STATES, Priority, Reply, Ticket
from nestogy.tickets.models import Status as TicketStatus

router = Router(tags=["tickets"])


PriorityName = Literal[tuple(Priority.values)]
StatusName = Literal[tuple(TicketStatus.values)]
Subject = name_text(300)
Description = text(100_000)
Category = text(100)
OpenedAt = Annotated[Timestamp, Field(description="not in the future")]


def _any_of(values) -> str:
    """Pattern of a comma-separated list of ``values`` (a filter matching any of them)."""
    one = "|".join(values)
    return rf"^({one})(,({one}))*$"


class TicketIn(InputSchema):
    client_id: ObjectId
    subject: Subject
    description: Description | None = None
    priority: PriorityName = "medium"
    category: Category | None = None
    contact_id: ObjectId | None = None
    site_id: ObjectId | None = None
    assignee_id: ObjectId | None = None
    opened_at: OpenedAt | None = None
    status: StatusName | None = None


class TicketPatch(InputSchema):
    status: StatusName | None = None
    priority: PriorityName | None = None
    assignee_id: ObjectId | None = None
    category: Category | None = None
    subject: Subject | None = None
    description: Description | None = None
    client_id: ObjectId | None = None
    contact_id: ObjectId | None = None
    site_id: ObjectId | None = None


class FirstResponseOut(Schema):
    due_at: datetime | None
    met_at: datetime | None
    state: str
    business_seconds: int | None
    breached: bool
    breached_by: int


class ResolutionOut(FirstResponseOut):
    paused_business_seconds: int


class SlaOut(Schema):
    policy_id: str | None
    state: str
    first_response: FirstResponseOut
    resolution: ResolutionOut
    paused_since: datetime | None
    next_check_at: datetime | None


class TicketOut(Schema):
    id: str
    number: int
    subject: str
    description: str
    client_id: str
    contact_id: str | None
    site_id: str | None
    category: str
    priority: str
    status: str
    assignee_id: str | None
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    sla: SlaOut


class TicketList(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class ReplyIn(InputSchema):
    body: name_text(100_000)
    public: bool = True


class ReplyOut(Schema):
    id: str
    body: str
    public: bool
    author: Literal["staff", "contact"]
    author_id: str | None
    posted_at: datetime


class ReplyList(Schema):
    items: list[ReplyOut]
    next_cursor: str | None


class ImportEventIn(InputSchema):
    at: Annotated[Timestamp, Field(description="between opened_at and now")]
    type: Literal["reply", "status", "priority"]
    public: bool = True
    author: Literal["staff", "contact"] = "staff"
    status: StatusName | None = Field(None, description="required for type status")
    priority: PriorityName | None = Field(None, description="required for type priority")
    body: Description | None = None


class ImportIn(InputSchema):
    client_id: ObjectId
    subject: Subject
    priority: PriorityName = "medium"
    opened_at: OpenedAt
    description: Description | None = None
    category: Category | None = None
    contact_id: ObjectId | None = None
    assignee_id: ObjectId | None = None
    events: Annotated[list[ImportEventIn], Field(max_length=5000)] = []


TicketIds = Annotated[list[ObjectId], Field(min_length=1, max_length=500)]


class BulkAssignIn(InputSchema):
    ticket_ids: TicketIds
    assignee_id: Annotated[str, Field(pattern=r"^(auto|usr_[A-Za-z0-9]{1,60})$",
                                      description='a user id, "auto" (optimised), or null '
                                                  "(unassign)")] | None


class BulkStatusIn(InputSchema):
    ticket_ids: TicketIds
    status: StatusName


class BulkItemOut(Schema):
    id: str
    ok: bool
    error: str | None = None
    assignee_id: str | None = None


class OptimisationOut(Schema):
    total_score: str
    greedy_total_score: str
    assigned: int
    unassigned: int


class BulkOut(Schema):
    results: list[BulkItemOut]
    optimisation: OptimisationOut | None = None


class CandidateOut(Schema):
    user_id: str
    name: str
    score: str
    breakdown: dict[str, str]


class ExcludedOut(Schema):
    user_id: str
    name: str
    reason: str
    detail: str


class RoutingOut(Schema):
    ticket_id: str
    candidates: list[CandidateOut]
    excluded: list[ExcludedOut]
    weights: dict[str, float]


class CheckIn(InputSchema):
    dry_run: bool = False


class EscalationOut(Schema):
    id: str
    clock: str
    level: int
    percent: int
    fired_at: datetime
    fired_by: str
    actions: dict


class EscalationList(Schema):
    items: list[EscalationOut]
    next_cursor: str | None


def ticket_out(t: Ticket) -> dict:
    return {
        "id": t.public_id, "number": t.number, "subject": t.subject,
        "description": t.description, "client_id": t.client.public_id,
        "contact_id": t.contact.public_id if t.contact_id else None,
        "site_id": t.site.public_id if t.site_id else None,
        "category": t.category, "priority": t.priority, "status": t.status,
        "assignee_id": t.assignee.public_id if t.assignee_id else None,
        "opened_at": t.opened_at, "first_response_at": t.first_response_at,
        "resolved_at": t.resolved_at, "closed_at": t.closed_at,
        "created_at": t.created_at, "updated_at": t.updated_at,
        "sla": sla_out(t),
    }


def sla_out(t: Ticket) -> dict:
    return {
        "policy_id": t.policy.public_id if t.policy_id else None,
        "state": t.sla_state,
        "first_response": {
            "due_at": t.first_response_due_at, "met_at": t.first_response_at,
            "state": t.first_response_state, "business_seconds": t.first_response_seconds,
            "breached": t.first_response_breached,
            "breached_by": t.first_response_breached_by,
        },
        "resolution": {
            "due_at": t.resolution_due_at,
            "met_at": t.resolved_at if t.resolution_state in {"met", "met_late"} else None,
            "state": t.resolution_state, "business_seconds": t.resolution_seconds,
            "paused_business_seconds": t.paused_business_seconds,
            "breached": t.resolution_breached, "breached_by": t.resolution_breached_by,
        },
        "paused_since": t.paused_since,
        "next_check_at": t.next_check_at,
    }


def reply_out(r: Reply) -> dict:
    author = "staff" if r.by_staff else "contact"
    author_id = (r.author_user.public_id if r.author_user_id else None) if r.by_staff else \
        (r.author_contact.public_id if r.author_contact_id else None)
    return {"id": r.public_id, "body": r.body, "public": r.public, "author": author,
            "author_id": author_id, "posted_at": r.posted_at}


def _assignee(value: str | None):
    if value is None:
        return None
    return ref(get_member, value, "assignee_id").user


def _refs(data: dict) -> dict:
    """Replace ``*_id`` body references by objects (422 naming the field when missing)."""
    if "client_id" in data:
        if data["client_id"] is None:
            raise ValidationError("client_id", "must not be null")
        data["client"] = ref(get_client, data.pop("client_id"), "client_id")
    if "contact_id" in data:
        value = data.pop("contact_id")
        data["contact"] = ref(get_contact, value, "contact_id") if value else None
    if "site_id" in data:
        value = data.pop("site_id")
        data["site"] = ref(get_site, value, "site_id") if value else None
    if "assignee_id" in data:
        data["assignee"] = _assignee(data.pop("assignee_id"))
    return data


StatusFilter = Annotated[str, Field(pattern=_any_of(TicketStatus.values),
                                   description="one status or several, comma-separated")]
PriorityFilter = Annotated[str, Field(pattern=_any_of(Priority.values),
                                     description="one priority or several, comma-separated")]
SlaStateFilter = Annotated[str, Field(pattern=_any_of(SLA_STATES),
                                     description="one SLA state or several, comma-separated")]


@router.get("", response=responses({200: TicketList}), summary="List tickets")
def list_tickets(request, limit: int = Limit(), cursor: str | None = Cursor(),
                 status: StatusFilter | None = None, priority: PriorityFilter | None = None,
                 client_id: ObjectId | None = None,
                 assignee_id: Annotated[str | None, Query(
                     max_length=64,
                     description='a user id, or "none" for unassigned tickets')] = None,
                 sla_state: SlaStateFilter | None = None, q: text(300) | None = None,
                 opened_after: Timestamp | None = None, opened_before: Timestamp | None = None,
                 sort: Literal[tuple(queries.SORTS)] | None = None):
    require(request.auth, "tickets.view")
    qs = queries.tickets(
        status=status, priority=priority, client_id=client_id, assignee_id=assignee_id,
        sla_state=sla_state, q=q,
        opened_after=as_utc(opened_after, "opened_after") if opened_after else None,
        opened_before=as_utc(opened_before, "opened_before") if opened_before else None)
    qs, order = queries.sorted_tickets(qs, sort)
    rows, next_cursor = paginate(qs, limit=limit, cursor=cursor, order=order)
    return {"items": [ticket_out(t) for t in queries.with_relations(rows)],
            "next_cursor": next_cursor}


@router.post("", response=responses({201: TicketOut}), summary="Open a ticket")
def create_ticket(request, payload: TicketIn):
    require(request.auth, "tickets.create")
    data = _refs(payload.model_dump(exclude_unset=True))
    ticket = actions.create_ticket(request.auth.company, data, actor=request.auth.user)
    return Status(201, ticket_out(queries.get_ticket(ticket.public_id)))


@router.post("/import", response=responses({201: TicketOut}),
             summary="Import a ticket with its history; the SLA is computed by replay")
def import_ticket(request, payload: ImportIn):
    require(request.auth, "tickets.import")
    data = payload.model_dump(exclude_unset=True)
    events = data.pop("events", [])
    data.setdefault("priority", "medium")
    ticket = actions.import_ticket(request.auth.company, _refs(data), events,
                                   actor=request.auth.user)
    return Status(201, ticket_out(queries.get_ticket(ticket.public_id)))


@router.post("/bulk/assign", response=responses({200: BulkOut}),
             summary="Assign many tickets; each succeeds or fails on its own")
def bulk_assign(request, payload: BulkAssignIn):
    require(request.auth, "tickets.assign")
    if payload.assignee_id == "auto":
        outcome = actions.bulk_auto_assign(payload.ticket_ids, actor=request.auth.user)
        return {"results": [r.__dict__ for r in outcome.results],
                "optimisation": {"total_score": outcome.total_score,
                                 "greedy_total_score": outcome.greedy_total_score,
                                 "assigned": outcome.assigned,
                                 "unassigned": outcome.unassigned}}
    if payload.assignee_id is not None and not payload.assignee_id.startswith("usr_"):
        raise ValidationError("assignee_id", 'must be a user id, "auto" or null')
    user = _assignee(payload.assignee_id)
    results = actions.bulk_assign(payload.ticket_ids, user, actor=request.auth.user)
    return {"results": [r.__dict__ for r in results]}


@router.post("/bulk/status", response=responses({200: BulkOut}),
             summary="Change the status of many tickets; each on its own")
def bulk_status(request, payload: BulkStatusIn):
    require(request.auth, "tickets.update")
    results = actions.bulk_status(payload.ticket_ids, payload.status, actor=request.auth.user)
    return {"results": [r.__dict__ for r in results]}


@router.get("/sla-report", response=responses({200: desk_schemas.SlaReportOut}),
            summary="SLA compliance per priority, client or assignee")
def sla_report(request, group_by: Literal[tuple(reports.GROUPS)] = "priority",
               from_: Timestamp | None = Query(None, alias="from"),  # noqa: B008
               to: Timestamp | None = None):
    require(request.auth, "tickets.reports")
    return reports.sla_report(
        group_by=group_by, start=as_utc(from_, "from") if from_ else None,
        end=as_utc(to, "to") if to else None)


@router.post("/escalations/check", response=responses({200: desk_schemas.EscalationCheckOut}),
             summary="Find and fire due SLA warnings, breaches and escalations now")
def check_escalations(request, payload: CheckIn):
    require(request.auth, "tickets.escalations")
    report = escalation.check_company(request.auth.company, dry_run=payload.dry_run,
                                      actor=request.auth.user)
    return report.as_dict()


@router.get("/{ticket_id}/routing", response=responses({200: RoutingOut}),
            summary="Who could take this ticket now, best first, with the score's terms")
def ticket_routing(request, ticket_id: str):
    require(request.auth, "tickets.view")
    from nestogy.routing.actions import weights_for
    from nestogy.tickets.routing import candidates

    ticket = queries.get_ticket(ticket_id)
    weights = weights_for(request.auth.company)
    ranking, users = candidates(ticket, weights=weights)

    def who(user_id):
        user = users[user_id]
        return {"user_id": user.public_id, "name": user.name or user.email}

    return {"ticket_id": ticket.public_id,
            "candidates": [{**who(c.user_id), "score": str(c.score),
                            "breakdown": {k: str(v) for k, v in c.breakdown.items()}}
                           for c in ranking.candidates],
            "excluded": [{**who(e.user_id), "reason": e.reason, "detail": e.detail}
                         for e in ranking.excluded],
            "weights": weights.as_dict()}


@router.get("/{ticket_id}", response=responses({200: TicketOut}), summary="Get a ticket")
def get_ticket(request, ticket_id: str):
    require(request.auth, "tickets.view")
    return ticket_out(queries.get_ticket(ticket_id))


@router.patch("/{ticket_id}", response=responses({200: TicketOut}), summary="Update a ticket")
def update_ticket(request, ticket_id: str, payload: TicketPatch):
    require(request.auth, "tickets.update")
    ticket = queries.get_ticket(ticket_id)
    data = payload.model_dump(exclude_unset=True)
    if "assignee_id" in data:
        require(request.auth, "tickets.assign")
    for key in ("status", "priority", "subject"):
        if key in data and data[key] is None:
            raise ValidationError(key, "must not be null")
    with transaction.atomic():
        actions.update_ticket(ticket, _refs(data), actor=request.auth.user)
    return ticket_out(queries.get_ticket(ticket_id))


@router.delete("/{ticket_id}", response=responses({204: None}), summary="Delete a ticket")
def delete_ticket(request, ticket_id: str):
    require(request.auth, "tickets.delete")
    actions.delete_ticket(queries.get_ticket(ticket_id), actor=request.auth.user)
    return Status(204, None)


@router.get("/{ticket_id}/replies", response=responses({200: ReplyList}),
            summary="List a ticket's replies")
def list_replies(request, ticket_id: str, limit: int = Limit(), cursor: str | None = Cursor()):
    require(request.auth, "tickets.view")
    ticket = queries.get_ticket(ticket_id)
    rows, next_cursor = paginate(queries.replies(ticket), limit=limit, cursor=cursor,
                                 order=("posted_at", "id"))
    return {"items": [reply_out(r) for r in rows], "next_cursor": next_cursor}


@router.post("/{ticket_id}/replies", response=responses({201: ReplyOut}),
             summary="Reply (public) or add an internal note")
def add_reply(request, ticket_id: str, payload: ReplyIn):
    require(request.auth, "tickets.update")
    ticket = queries.get_ticket(ticket_id)
    reply = actions.add_reply(ticket, payload.body, public=payload.public,
                              actor=request.auth.user)
    return Status(201, reply_out(reply))


@router.get("/{ticket_id}/escalations", response=responses({200: EscalationList}),
            summary="The escalation levels fired on a ticket")
def list_escalations(request, ticket_id: str, limit: int = Limit(),
                     cursor: str | None = Cursor()):
    require(request.auth, "tickets.view")
    ticket = queries.get_ticket(ticket_id)
    rows, next_cursor = paginate(queries.escalations(ticket), limit=limit, cursor=cursor,
                                 order=("fired_at", "id"))
    return {"items": [{"id": e.public_id, "clock": e.clock, "level": e.level,
                       "percent": e.percent, "fired_at": e.fired_at, "fired_by": e.fired_by,
                       "actions": e.actions} for e in rows], "next_cursor": next_cursor}


class HistoryItemOut(Schema):
    at: datetime
    kind: Literal["status", "priority"]
    from_value: str
    to_value: str
    actor_id: str | None


class HistoryList(Schema):
    items: list[HistoryItemOut]
    next_cursor: str | None


@router.get("/{ticket_id}/history", response=responses({200: HistoryList}),
            summary="The ticket's status and priority changes, oldest first")
def ticket_history(request, ticket_id: str):
    require(request.auth, "tickets.view")
    ticket = queries.get_ticket(ticket_id)
    return {"items": queries.history(ticket), "next_cursor": None}
