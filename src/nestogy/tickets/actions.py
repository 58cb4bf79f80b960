"""Every change to tickets: validated, atomic, audited, emitting events, SLA recomputed.

Every action that can move a deadline (status, priority, reply, client/policy change)
recomputes the ticket's stored SLA columns through ``tickets.sla.recompute_sla`` in its own
transaction, from the ticket's stored history and the pure ``sla.clock.compute_sla``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from nestogy.audit.actions import log_action
from nestogy.core.errors import NestogyError, ValidationError
from nestogy.core.events import emit
from nestogy.core.timeutil import now as utc_now
from nestogy.core.validation import clean_moment
from nestogy.core.validation import clean_text as _text
from nestogy.sla import actions as sla_actions
from nestogy.sla.models import SLAPolicy
from nestogy.tickets.models import (
    Priority,
    PriorityChange,
    Reply,
    Status,
    StatusChange,
    Ticket,
    TicketCounter,
)
from nestogy.tickets.sla import recompute_sla, select_policy

__all__ = ["recompute_sla", "select_policy"]  # the SLA lives in tickets.sla; re-exported


def _policy_for_new_ticket(company, client) -> SLAPolicy:
    """``select_policy``, creating the company's defaults if it somehow has none, so every
    ticket has due times (companies made by ``provision_company`` always have them)."""
    return select_policy(client) or sla_actions.provision_defaults(company)


# -- helpers -----------------------------------------------------------------------------


def _choice(value: Any, field: str, choices) -> str:
    if value not in choices.values:
        raise ValidationError(field, f"must be one of {', '.join(choices.values)}")
    return value




def _next_number(company) -> int:
    TicketCounter.objects.get_or_create(company=company)
    counter = TicketCounter.objects.select_for_update().get(company=company)
    counter.last_number = F("last_number") + 1
    counter.save(update_fields=["last_number", "updated_at"])
    counter.refresh_from_db(fields=["last_number"])
    return counter.last_number


def _check_assignee(user) -> None:
    from nestogy.accounts.models import Membership

    if user is not None and not Membership.objects.filter(
            user=user, is_active=True, role__in=("owner", "admin", "manager",
                                                 "technician")).exists():
        raise ValidationError("assignee_id", "must be an active staff member who works tickets")


def _ticket_data(ticket: Ticket) -> dict[str, Any]:
    return {"ticket_id": ticket.public_id, "ticket_pk": ticket.pk, "number": ticket.number,
            "subject": ticket.subject, "priority": ticket.priority,
            "assignee_user_id": ticket.assignee_id}


def _set_status(ticket: Ticket, status: str, at: datetime, actor) -> bool:
    status = _choice(status, "status", Status)
    if status == ticket.status:
        return False
    StatusChange.objects.create(company_id=ticket.company_id, ticket=ticket,
                                from_status=ticket.status, to_status=status, at=at,
                                actor=actor if getattr(actor, "pk", None) else None)
    if status == Status.RESOLVED:
        ticket.resolved_at = at
    elif status == Status.CLOSED:
        ticket.closed_at = at
        if ticket.resolved_at is None:
            ticket.resolved_at = at
    else:
        ticket.resolved_at = ticket.closed_at = None  # a reopen
    ticket.status = status
    return True


def _set_priority(ticket: Ticket, priority: str, at: datetime, actor) -> bool:
    priority = _choice(priority, "priority", Priority)
    if priority == ticket.priority:
        return False
    PriorityChange.objects.create(company_id=ticket.company_id, ticket=ticket,
                                  from_priority=ticket.priority, to_priority=priority, at=at,
                                  actor=actor if getattr(actor, "pk", None) else None)
    ticket.priority = priority
    return True


def _add_reply(ticket: Ticket, body: str, public: bool, at: datetime, *, user=None,
               contact=None, by_staff: bool | None = None) -> Reply:
    by_staff = contact is None if by_staff is None else by_staff
    if not isinstance(public, bool):
        raise ValidationError("public", "must be true or false")
    reply = Reply.objects.create(
        company_id=ticket.company_id, ticket=ticket,
        body=_text(body, "body", max_length=100_000, required=True), public=public,
        author_user=user if getattr(user, "pk", None) else None, author_contact=contact,
        by_staff=by_staff, posted_at=at)
    if public and by_staff and ticket.first_response_at is None:
        ticket.first_response_at = at
    return reply


# -- actions -----------------------------------------------------------------------------

TICKET_FIELDS = {"client", "subject", "description", "priority", "category", "contact", "site",
                 "assignee", "opened_at", "status"}


def _apply_fields(ticket: Ticket, data: dict[str, Any]) -> None:
    unknown = set(data) - TICKET_FIELDS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a ticket field")
    if "subject" in data:
        ticket.subject = _text(data["subject"], "subject", max_length=300, required=True)
    if "description" in data:
        ticket.description = _text(data["description"], "description", max_length=100_000)
    if "category" in data:
        ticket.category = _text(data["category"], "category", max_length=100)
    if "client" in data:
        ticket.client = data["client"]
    if "contact" in data:
        contact = data["contact"]
        if contact is not None and contact.client_id != ticket.client_id:
            raise ValidationError("contact_id", "belongs to another client")
        ticket.contact = contact
    if "site" in data:
        site = data["site"]
        if site is not None and site.client_id != ticket.client_id:
            raise ValidationError("site_id", "belongs to another client")
        ticket.site = site


@transaction.atomic
def create_ticket(company, data: dict[str, Any], *, actor=None) -> Ticket:
    """Open a ticket. ``opened_at`` may lie in the past (imports); default now."""
    for key in ("client", "subject"):
        if data.get(key) is None:
            raise ValidationError(f"{key}_id" if key == "client" else key, "is required")
    now = utc_now()
    opened_at = clean_moment(data["opened_at"], "opened_at") if data.get("opened_at") else now
    if opened_at > now:
        raise ValidationError("opened_at", "must not be in the future")
    ticket = Ticket(company=company, opened_at=opened_at,
                    priority=_choice(data.get("priority") or Priority.MEDIUM, "priority",
                                     Priority))
    _apply_fields(ticket, {k: v for k, v in data.items()
                           if k not in {"opened_at", "priority", "assignee", "status"}})
    assignee = data.get("assignee")
    _check_assignee(assignee)
    ticket.assignee = assignee
    ticket.policy = _policy_for_new_ticket(company, ticket.client)
    ticket.number = _next_number(company)
    ticket.save()
    if data.get("status") and data["status"] != Status.NEW:
        _set_status(ticket, data["status"], opened_at, actor)
        ticket.save()
    recompute_sla(ticket, now=now)
    log_action(ticket, "ticket.created", actor=actor,
               data={"number": ticket.number, "subject": ticket.subject,
                     "priority": ticket.priority, "client_id": ticket.client.public_id})
    emit("ticket.created", company_id=company.pk, data=_ticket_data(ticket), actor=actor)
    if assignee is not None:
        emit("ticket.assigned", company_id=company.pk, data=_ticket_data(ticket), actor=actor)
    elif company.get_setting("routing.auto_assign") and not ticket.is_closed:
        from nestogy.tickets.routing import auto_assign

        auto_assign([ticket], actor=actor)
        ticket.refresh_from_db(fields=["assignee"])
    return ticket


@transaction.atomic
def update_ticket(ticket: Ticket, changes: dict[str, Any], *, actor=None) -> Ticket:
    """Edit fields and, in one step, status/priority/assignee (each recorded in history)."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    now = utc_now()
    client_before = ticket.client_id
    _apply_fields(ticket, {k: v for k, v in changes.items()
                           if k not in {"status", "priority", "assignee", "opened_at"}})
    if "opened_at" in changes:
        raise ValidationError("opened_at", "cannot be changed after the ticket is opened")
    if ticket.client_id != client_before:
        if "contact" not in changes and ticket.contact and \
                ticket.contact.client_id != ticket.client_id:
            ticket.contact = None
        if "site" not in changes and ticket.site and ticket.site.client_id != ticket.client_id:
            ticket.site = None
        ticket.policy = select_policy(ticket.client)
    if "priority" in changes:
        _set_priority(ticket, changes["priority"], now, actor)
    if "status" in changes:
        _set_status(ticket, changes["status"], now, actor)
    assigned = False
    if "assignee" in changes and changes["assignee"] != ticket.assignee:
        _check_assignee(changes["assignee"])
        ticket.assignee = changes["assignee"]
        assigned = ticket.assignee is not None
    ticket.save()
    recompute_sla(ticket, now=now)
    log_action(ticket, "ticket.updated", actor=actor,
               data={k: (getattr(v, "public_id", v)) for k, v in changes.items()})
    if assigned:
        emit("ticket.assigned", company_id=ticket.company_id, data=_ticket_data(ticket),
             actor=actor)
    return ticket


@transaction.atomic
def change_status(ticket: Ticket, status: str, *, actor=None) -> Ticket:
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    before = ticket.status
    now = utc_now()
    if _set_status(ticket, status, now, actor):
        ticket.save()
        recompute_sla(ticket, now=now)
        log_action(ticket, "ticket.status_changed", actor=actor,
                   data={"from": before, "to": ticket.status})
        emit("ticket.status_changed", company_id=ticket.company_id, actor=actor,
             data={**_ticket_data(ticket), "from": before, "to": ticket.status})
    return ticket


@transaction.atomic
def change_priority(ticket: Ticket, priority: str, *, actor=None) -> Ticket:
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    before = ticket.priority
    now = utc_now()
    if _set_priority(ticket, priority, now, actor):
        ticket.save()
        recompute_sla(ticket, now=now)
        log_action(ticket, "ticket.priority_changed", actor=actor,
                   data={"from": before, "to": ticket.priority})
        emit("ticket.priority_changed", company_id=ticket.company_id, actor=actor,
             data={**_ticket_data(ticket), "from": before, "to": ticket.priority})
    return ticket


@transaction.atomic
def assign_ticket(ticket: Ticket, user, *, actor=None) -> Ticket:
    """Assign to ``user`` (``None`` unassigns)."""
    _check_assignee(user)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.assignee_id == getattr(user, "pk", None):
        return ticket
    ticket.assignee = user
    ticket.save(update_fields=["assignee", "updated_at"])
    log_action(ticket, "ticket.assigned", actor=actor,
               data={"assignee_id": user.public_id if user else None})
    if user is not None:
        emit("ticket.assigned", company_id=ticket.company_id, data=_ticket_data(ticket),
             actor=actor)
    return ticket


@transaction.atomic
def add_reply(ticket: Ticket, body: str, *, public: bool = True, actor=None,
              contact=None) -> Reply:
    """A staff reply (``actor``) or a contact's reply (``contact``).

    A contact's reply hands the ticket back to the desk: from ``waiting_on_client`` (the
    client answered: the paused clocks run again) or ``resolved`` (the problem is back: a
    reopen, so the resolution clock runs again) the status becomes ``open``. ``on_hold``
    (the MSP's own pause) and ``closed`` stay as they are.
    """
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    now = utc_now()
    reply = _add_reply(ticket, body, public, now, user=actor, contact=contact)
    if contact is not None and ticket.status in (Status.WAITING_ON_CLIENT, Status.RESOLVED):
        before = ticket.status
        _set_status(ticket, Status.OPEN, now, None)
        log_action(ticket, "ticket.status_changed", actor=None,
                   actor_label=f"contact:{contact.email}",
                   data={"from": before, "to": Status.OPEN, "by": "contact reply"})
        emit("ticket.status_changed", company_id=ticket.company_id,
             data={**_ticket_data(ticket), "from": before, "to": Status.OPEN,
                   "by": "contact reply"})
    ticket.save()
    recompute_sla(ticket, now=now)
    log_action(ticket, "ticket.replied", actor=actor,
               data={"reply_id": reply.public_id, "public": reply.public,
                     "by": "staff" if contact is None else "contact"})
    if reply.public:
        # Internal notes tell nobody; a public reply tells the other side.
        emit("ticket.replied", company_id=ticket.company_id, actor=actor,
             data={**_ticket_data(ticket), "reply_pk": reply.pk,
                   "by": "staff" if contact is None else "contact",
                   "contact_pk": ticket.contact_id,
                   "author_contact_pk": contact.pk if contact is not None else None})
    return reply


@transaction.atomic
def delete_ticket(ticket: Ticket, *, actor=None) -> None:
    log_action(ticket, "ticket.deleted", actor=actor,
               data={"number": ticket.number, "subject": ticket.subject})
    ticket.delete()


@transaction.atomic
def import_ticket(company, data: dict[str, Any], events: list[dict[str, Any]], *,
                  actor=None) -> Ticket:
    """Replay another PSA's ticket history; the SLA is computed from it.

    ``events``: ``{at, type: reply|status|priority, public?, author?: staff|contact,
    status?, priority?, body?}`` in any order (replayed by time); every ``at`` lies between
    ``opened_at`` and now.
    """
    if not data.get("opened_at"):
        raise ValidationError("opened_at", "is required")
    now = utc_now()
    opened_at = clean_moment(data["opened_at"], "opened_at")
    if opened_at > now:
        raise ValidationError("opened_at", "must not be in the future")
    parsed = []
    for i, event in enumerate(events):
        where = f"events[{i}]"
        at = clean_moment(event.get("at"), f"{where}.at")
        if at < opened_at or at > now:
            raise ValidationError(f"{where}.at", "must lie between opened_at and now")
        kind = event.get("type")
        if kind not in {"reply", "status", "priority"}:
            raise ValidationError(f"{where}.type", "must be reply, status or priority")
        if kind == "status":
            _choice(event.get("status"), f"{where}.status", Status)
        if kind == "priority":
            _choice(event.get("priority"), f"{where}.priority", Priority)
        if kind == "reply" and event.get("author", "staff") not in {"staff", "contact"}:
            raise ValidationError(f"{where}.author", "must be staff or contact")
        parsed.append((at, i, event))
    parsed.sort(key=lambda item: (item[0], item[1]))
    ticket = Ticket(company=company, opened_at=opened_at,
                    priority=_choice(data.get("priority") or Priority.MEDIUM, "priority",
                                     Priority))
    _apply_fields(ticket, {k: v for k, v in data.items()
                           if k not in {"opened_at", "priority", "assignee", "status"}})
    if not ticket.subject:
        raise ValidationError("subject", "is required")
    ticket.assignee = data.get("assignee")
    _check_assignee(ticket.assignee)
    ticket.policy = _policy_for_new_ticket(company, ticket.client)
    ticket.number = _next_number(company)
    ticket.save()
    for at, _, event in parsed:
        if event["type"] == "status":
            _set_status(ticket, event["status"], at, None)
        elif event["type"] == "priority":
            _set_priority(ticket, event["priority"], at, None)
        else:
            by_contact = event.get("author", "staff") == "contact"
            _add_reply(ticket, event.get("body") or "(imported reply)",
                       event.get("public", True), at,
                       contact=ticket.contact if by_contact else None, by_staff=not by_contact)
    ticket.save()
    recompute_sla(ticket, now=now)
    log_action(ticket, "ticket.imported", actor=actor,
               data={"number": ticket.number, "events": len(parsed),
                     "opened_at": opened_at})
    emit("ticket.created", company_id=company.pk, data={**_ticket_data(ticket),
                                                          "imported": True}, actor=actor)
    return ticket


# -- bulk --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkResult:
    id: str
    ok: bool
    error: str | None = None
    assignee_id: str | None = None


def _bulk(ticket_ids: list[str], apply) -> list[BulkResult]:
    tickets = {t.public_id: t for t in Ticket.objects.filter(public_id__in=ticket_ids)}
    results = []
    for public_id in ticket_ids:
        ticket = tickets.get(public_id)
        if ticket is None:
            results.append(BulkResult(public_id, False, "not found"))
            continue
        try:
            with transaction.atomic():
                apply(ticket)
        except (NestogyError, IntegrityError) as exc:
            message = getattr(exc, "message", str(exc))
            field = getattr(exc, "field", None)
            results.append(BulkResult(public_id, False,
                                      f"{field}: {message}" if field else message))
        else:
            results.append(BulkResult(public_id, True))
    return results


def bulk_assign(ticket_ids: list[str], user, *, actor=None) -> list[BulkResult]:
    """Assign each ticket on its own: one failure does not undo the others."""
    _check_assignee(user)
    results = _bulk(ticket_ids, lambda t: assign_ticket(t, user, actor=actor))
    if user is None:
        return results
    return [dataclasses.replace(r, assignee_id=user.public_id) if r.ok else r
            for r in results]


@dataclass
class AutoBulkResult:
    results: list[BulkResult]
    total_score: str
    greedy_total_score: str
    assigned: int
    unassigned: int


def bulk_auto_assign(ticket_ids: list[str], *, actor=None) -> AutoBulkResult:
    """Route these tickets together (one optimisation over the batch, not one by one)."""
    from nestogy.tickets.routing import auto_assign

    found = {t.public_id: t for t in Ticket.objects.filter(public_id__in=ticket_ids)}
    routable = [t for t in found.values() if not t.is_closed]
    outcome = auto_assign(routable, actor=actor)
    pk_of = {t.public_id: t.pk for t in routable}
    results = []
    for public_id in ticket_ids:
        if public_id not in found:
            results.append(BulkResult(public_id, False, "not found"))
        elif public_id not in pk_of:
            results.append(BulkResult(public_id, False, "status: closed tickets are not routed"))
        elif pk_of[public_id] in outcome.assigned:
            results.append(BulkResult(public_id, True,
                                      assignee_id=outcome.assigned[pk_of[public_id]].public_id))
        else:
            results.append(BulkResult(public_id, False,
                                      outcome.reasons.get(pk_of[public_id], "nobody qualifies")))
    return AutoBulkResult(results, str(outcome.batch.total_score),
                          str(outcome.batch.greedy_total_score), len(outcome.assigned),
                          len(outcome.unassigned))


def bulk_status(ticket_ids: list[str], status: str, *, actor=None) -> list[BulkResult]:
    _choice(status, "status", Status)
    return _bulk(ticket_ids, lambda t: change_status(t, status, actor=actor))

