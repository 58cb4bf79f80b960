"""Reads of tickets. The active company scope filters every query."""

from __future__ import annotations

from datetime import datetime

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from nestogy.accounts.queries import get_member
from nestogy.clients.queries import get_client
from nestogy.core.errors import NotFound, ValidationError
from nestogy.tickets.models import (
    CLOSED_STATUSES,
    SLA_STATES,
    Escalation,
    Priority,
    PriorityChange,
    Reply,
    Status,
    StatusChange,
    Ticket,
)

SORTS = {
    "opened_at": ("opened_at", "id"), "-opened_at": ("-opened_at", "-id"),
    "number": ("number",), "-number": ("-number",),
    "resolution_due_at": ("resolution_due_at", "id"),
    "-resolution_due_at": ("-resolution_due_at", "-id"),
    "first_response_due_at": ("first_response_due_at", "id"),
    "-first_response_due_at": ("-first_response_due_at", "-id"),
    "priority": ("priority_rank", "id"), "-priority": ("-priority_rank", "-id"),
    "updated_at": ("updated_at", "id"), "-updated_at": ("-updated_at", "-id"),
}


def _split(value: str | None, field: str, allowed) -> list[str]:
    values = [v for v in (value or "").split(",") if v]
    for v in values:
        if v not in allowed:
            raise ValidationError(field, f"must be one of {', '.join(allowed)}")
    return values


def tickets(*, status: str | None = None, priority: str | None = None,
            client_id: str | None = None, assignee_id: str | None = None,
            sla_state: str | None = None, q: str | None = None,
            opened_after: datetime | None = None,
            opened_before: datetime | None = None) -> QuerySet[Ticket]:
    """Tickets filtered as the list endpoint allows (comma-separated values are OR-ed).

    ``client_id`` and ``assignee_id`` must name an object of the company (``NotFound``
    otherwise); ``assignee_id="none"`` selects unassigned tickets.

    No joins here: the page is chosen on the ticket table alone (so PostgreSQL can walk an
    index in sort order), then :func:`with_relations` loads the page's rows with their
    related objects in one more query.
    """
    qs = Ticket.objects.all()
    if statuses := _split(status, "status", Status.values):
        qs = qs.filter(status__in=statuses)
    if priorities := _split(priority, "priority", Priority.values):
        qs = qs.filter(priority__in=priorities)
    if states := _split(sla_state, "sla_state", SLA_STATES):
        qs = qs.filter(sla_state__in=states)
    if client_id:
        # Another company's or an unknown client answers 404, like everywhere else.
        qs = qs.filter(client=get_client(client_id, "client_id"))
    if assignee_id == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee_id:
        try:
            assignee = get_member(assignee_id).user
        except NotFound:
            raise NotFound("assignee_id not found") from None
        qs = qs.filter(assignee=assignee)
    if q:
        qs = qs.filter(Q(subject__icontains=q) | Q(description__icontains=q))
    if opened_after:
        qs = qs.filter(opened_at__gte=opened_after)
    if opened_before:
        qs = qs.filter(opened_at__lt=opened_before)
    return qs


PRIORITY_RANK = Case(*(When(priority=p, then=Value(i)) for i, p in
                       enumerate(("low", "medium", "high", "critical"))),
                     output_field=IntegerField())


def sorted_tickets(qs: QuerySet[Ticket], sort: str | None) -> tuple[QuerySet, tuple[str, ...]]:
    """``qs`` ready for keyset pagination in ``sort`` order (default newest first)."""
    sort = sort or "-opened_at"
    if sort not in SORTS:
        raise ValidationError("sort", f"must be one of {', '.join(SORTS)}")
    if "priority" in sort:
        qs = qs.annotate(priority_rank=PRIORITY_RANK)
    return qs, SORTS[sort]


def with_relations(rows: list[Ticket]) -> list[Ticket]:
    """The same tickets, in the same order, with client/contact/site/assignee/policy."""
    if not rows:
        return rows
    loaded = Ticket.objects.select_related("client", "contact", "site", "assignee",
                                           "policy").in_bulk([t.pk for t in rows])
    return [loaded[t.pk] for t in rows]


def get_ticket(public_id: str, field: str = "ticket") -> Ticket:
    ticket = (Ticket.objects.select_related("client", "contact", "site", "assignee",
                                            "policy__calendar")
              .filter(public_id=public_id).first())
    if ticket is None:
        raise NotFound(f"{field} not found")
    return ticket


def replies(ticket: Ticket) -> QuerySet[Reply]:
    return Reply.objects.filter(ticket=ticket).select_related("author_user", "author_contact")


def escalations(ticket: Ticket) -> QuerySet[Escalation]:
    return Escalation.objects.filter(ticket=ticket)


def history(ticket: Ticket) -> list[dict]:
    """Status and priority changes of a ticket, oldest first (two queries)."""
    rows = [{"at": c.at, "kind": "status", "from_value": c.from_status,
             "to_value": c.to_status, "actor_id": c.actor.public_id if c.actor else None,
             "_id": c.pk}
            for c in StatusChange.objects.filter(ticket=ticket).select_related("actor")]
    rows += [{"at": c.at, "kind": "priority", "from_value": c.from_priority,
              "to_value": c.to_priority, "actor_id": c.actor.public_id if c.actor else None,
              "_id": c.pk}
             for c in PriorityChange.objects.filter(ticket=ticket).select_related("actor")]
    rows.sort(key=lambda r: (r["at"], r["kind"] == "status", r["_id"]))
    for row in rows:
        del row["_id"]
    return rows


def with_open_ticket_counts(clients: QuerySet) -> QuerySet:
    """``clients`` annotated with ``open_tickets``: how many of each client's tickets are
    not resolved or closed (a correlated count, so a page of clients is one query)."""
    per_client = (Ticket.objects.filter(client=OuterRef("pk"))
                  .exclude(status__in=CLOSED_STATUSES).order_by()
                  .values("client").annotate(n=Count("pk")).values("n"))
    return clients.annotate(open_tickets=Coalesce(Subquery(per_client), 0))


def client_tickets(client, *, closed: bool, limit: int) -> list[Ticket]:
    """A client's open tickets (most urgent deadline first) or its most recently resolved
    and closed ones (latest first), with contact and assignee."""
    qs = Ticket.objects.filter(client=client).select_related("contact", "assignee")
    if closed:
        qs = qs.filter(status__in=CLOSED_STATUSES).order_by("-resolved_at", "-opened_at", "-id")
    else:
        qs = qs.exclude(status__in=CLOSED_STATUSES).order_by(
            "resolution_due_at", "opened_at", "id")
    return list(qs[:limit])


def open_ticket_count(client) -> int:
    return Ticket.objects.filter(client=client).exclude(status__in=CLOSED_STATUSES).count()


def categories(limit: int = 100) -> list[str]:
    """The categories the company's tickets use, alphabetically (for suggestions)."""
    return list(Ticket.objects.exclude(category="").order_by("category")
                .values_list("category", flat=True).distinct()[:limit])
