"""Reads for the staff workspace: the queue's views and counts, SLA urgency, countdowns and
the ticket timeline. The active company scope filters every query.

Urgency (the queue's default order): breached tickets first, then by the earliest unmet
deadline (first response while it is unmet, else resolution), paused tickets after running
ones, tickets without a deadline last. The sort key is one SQL expression, so the page is
chosen in the database with a constant number of queries whatever the number of tickets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, Max, Prefetch, Q
from django.db.models.lookups import Exact

from nestogy.audit.models import AuditEntry
from nestogy.core.timeutil import now as utc_now
from nestogy.sla.models import SLAPolicy
from nestogy.tickets.models import (
    CLOSED_STATUSES,
    OPEN,
    UNMET,
    Escalation,
    PriorityChange,
    Reply,
    StatusChange,
    Ticket,
    next_clock,
    next_due,
    urgency_rank,
)

DUE_SOON = timedelta(hours=4)
PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueView:
    key: str
    label: str
    description: str


VIEWS = (
    QueueView("mine", "My work", "Open tickets assigned to you"),
    QueueView("unassigned", "Unassigned", "Open tickets nobody has taken"),
    QueueView("due_soon", "Due soon", "Running deadlines within the next 4 hours"),
    QueueView("breached", "Breached", "Open tickets past a deadline"),
    QueueView("waiting", "Waiting on client", "Paused until the client answers"),
    QueueView("all", "All open", "Every open ticket"),
)
VIEW_KEYS = tuple(v.key for v in VIEWS)


def view_condition(key: str, user, now: datetime) -> Q:
    soon = now + DUE_SOON
    return {
        "mine": OPEN & Q(assignee=user),
        "unassigned": OPEN & Q(assignee__isnull=True),
        # running clocks: urgency rank 1 (not breached, not paused), written as the urgency
        # index's own expression so the page is read from that index from the first row
        "due_soon": OPEN & Q(Exact(urgency_rank(), 1)) & (
            Q(first_response_state__in=("running", "warning"), first_response_due_at__lte=soon)
            | Q(resolution_state__in=("running", "warning"), resolution_due_at__lte=soon)),
        "breached": OPEN & Q(sla_state="breached"),
        "waiting": Q(status="waiting_on_client"),
        "all": OPEN,
    }[key]


@dataclass(frozen=True)
class FilterKeys:
    """Database keys of the public ids the filter form accepts (already loaded for the
    form's choices), so filters become conditions on the ticket table alone."""

    clients: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)


def filter_condition(filters: dict, keys: FilterKeys) -> Q:
    """The queue filters (the filter form's cleaned data) as one condition on tickets.

    No joins and no lookups: client and assignee are matched by the keys the form's choices
    were built from, so the same condition serves the page and the saved views' counts.
    """
    condition = Q()
    for name in ("status", "priority", "sla_state"):
        if filters.get(name):
            condition &= Q(**{name: filters[name]})
    if filters.get("client"):
        condition &= Q(client_id=keys.clients.get(filters["client"], 0))
    assignee = filters.get("assignee")
    if assignee == "none":
        condition &= Q(assignee__isnull=True)
    elif assignee:
        condition &= Q(assignee_id=keys.users.get(assignee, 0))
    if filters.get("category"):
        condition &= Q(category__iexact=filters["category"])
    if filters.get("q"):
        condition &= Q(subject__icontains=filters["q"]) | Q(description__icontains=filters["q"])
    return condition


@dataclass(frozen=True)
class Tally:
    """The queue's numbers, from one query: how many tickets each built-in view holds, each
    ``extra`` condition (saved views', the page's own filters), and the stamp of what the
    queue shows."""

    counts: dict[str, int]
    stamp: str


def tally(user, now: datetime | None = None, extra: dict[str, Q] | None = None) -> Tally:
    """Counts of the built-in views and of each ``extra`` condition (conditional
    aggregation over the open tickets), with the queue stamp (:func:`queue_stamp`)."""
    now = now or utc_now()
    conditions = {key: view_condition(key, user, now) for key in VIEW_KEYS}
    conditions.update(extra or {})
    seen = Ticket.objects.filter(OPEN).aggregate(
        **_STAMP_PARTS, **{f"n:{key}": Count("pk", filter=condition)
                           for key, condition in conditions.items()})
    return Tally({key: seen[f"n:{key}"] for key in conditions}, _stamp(seen, now))


def saved_views(user):
    """The user's saved views in the current company, in their order."""
    from nestogy.workspace.models import SavedView

    return SavedView.objects.filter(user=user).order_by("position", "id")


STAMP_PERIOD = 60  # seconds: an unchanged queue is still re-rendered this often
_STAMP_PARTS = {"stamp:n": Count("pk"), "stamp:changed": Max("updated_at"),
                "stamp:computed": Max("sla_computed_at")}


def _stamp(seen: dict, now: datetime) -> str:
    raw = "|".join(str(part) for part in (seen["stamp:n"], seen["stamp:changed"],
                                          seen["stamp:computed"],
                                          int(now.timestamp()) // STAMP_PERIOD))
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def queue_stamp(now: datetime | None = None) -> str:
    """A short fingerprint of what the queue shows, for the self-refresh (one query).

    It changes when an open ticket of the company is created, deleted, closed or edited
    (count, latest ``updated_at`` of the open tickets), when the SLA columns are recomputed
    (latest ``sla_computed_at``, which the breach checker sets without touching
    ``updated_at``), and once a minute, so that business time left and the share of the
    target used, rendered by the server, stay current. Equal stamps: nothing to redraw.
    The queue shows open tickets only, so closed ones are not read.
    """
    now = now or utc_now()
    return _stamp(Ticket.objects.filter(OPEN).aggregate(**_STAMP_PARTS), now)


def urgency_ordered(qs):
    """``qs`` in SLA urgency order (see the module docstring)."""
    return (qs.annotate(urgency=urgency_rank(), next_due=next_due(),
                        next_clock=next_clock())
            .order_by("urgency", F("next_due").asc(nulls_last=True), "opened_at", "id"))


def in_order(ids: list[int], qs) -> list:
    """The rows of ``qs`` with these primary keys, in the order of ``ids`` (one query)."""
    found = qs.in_bulk(ids) if ids else {}
    return [found[pk] for pk in ids if pk in found]


@dataclass
class Countdown:
    """What a row or header shows about one deadline."""

    clock: str
    label: str
    due_at: datetime | None
    state: str
    business_left: int | None  # business seconds until due (negative: overdue by)
    used_percent: int | None  # share of the target used
    tone: str  # ok | warn | late | paused | met | none
    paused_seconds: int = 0  # business seconds the clock has been paused


CLOCK_LABELS = {"first_response": "First response", "resolution": "Resolution"}


def _tone(state: str, used: int | None) -> str:
    if state in ("met", "met_late"):
        return "met"
    if state == "paused":
        return "paused"
    if state == "breached":
        return "late"
    if used is not None and used >= 75:
        return "warn"
    return "ok"


class Calendars:
    """Each policy's calendar and targets, loaded once per page."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple] = {}

    def get(self, policy_id: int | None):
        if policy_id is None:
            return None
        if policy_id not in self._cache:
            policy = SLAPolicy.objects.select_related("calendar").get(pk=policy_id)
            self._cache[policy_id] = (policy.calendar.as_calendar(), policy.rules())
        return self._cache[policy_id]


def countdown(ticket: Ticket, clock: str, now: datetime, calendars: Calendars) -> Countdown:
    state = getattr(ticket, f"{clock}_state")
    due_at = getattr(ticket, f"{clock}_due_at")
    left = used = None
    loaded = calendars.get(ticket.policy_id)
    if due_at is not None and loaded is not None and state in UNMET:
        calendar, rules = loaded
        if now <= due_at:
            left = calendar.business_seconds_between(now, due_at)
        else:
            left = -calendar.business_seconds_between(due_at, now)
        target = rules.targets[ticket.priority].for_clock(clock)
        if target:
            used = max(0, min(999, round(100 * (target - left) / target)))
    paused = (ticket.first_response_paused_seconds if clock == "first_response"
              else ticket.paused_business_seconds)
    return Countdown(clock, CLOCK_LABELS[clock], due_at, state, left, used, _tone(state, used),
                     paused or 0)


def next_countdown(ticket: Ticket, now: datetime, calendars: Calendars) -> Countdown | None:
    for clock in ("first_response", "resolution"):
        if getattr(ticket, f"{clock}_state") in UNMET:
            return countdown(ticket, clock, now, calendars)
    return None


def human_seconds(seconds: int | None) -> str:
    """``3h 05m``, ``2d 4h``, ``45m``, ``under a minute``."""
    if seconds is None:
        return ""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return "under a minute"


# -- the ticket timeline ---------------------------------------------------------------------

@dataclass
class Entry:
    at: datetime
    kind: str  # reply | note | status | priority | assignment | escalation | created
    who: str
    text: str
    body: str = ""
    order: int = 0
    attachments: tuple = ()  # TicketAttachment rows that came with a reply or note


ESCALATION_TEXT = {"sla.warning": "SLA warning", "sla.breached": "SLA breached",
                   "ticket.escalated": "Escalated"}


def _escalation_text(e: Escalation) -> str:
    clock = CLOCK_LABELS.get(e.clock, e.clock).lower()
    if e.percent < 100:
        head = f"SLA warning: {clock} at {e.percent}% of its target"
    elif e.percent == 100:
        head = f"SLA breached: {clock} passed its due time"
    else:
        head = f"Escalated (level {e.level}): {clock} at {e.percent}% of its target"
    actions = e.actions or {}
    extra = []
    if actions.get("raised_priority"):
        extra.append(f"priority raised to {actions['raised_priority']}")
    if actions.get("reassign"):
        extra.append(str(actions["reassign"]))
    return head + (f"; {'; '.join(extra)}" if extra else "")


def _name(user) -> str:
    if user is None:
        return "System"
    return user.name or user.email


def timeline(ticket: Ticket) -> list[Entry]:
    """Everything that happened on the ticket, oldest first (six queries)."""
    entries = [Entry(ticket.opened_at, "created", "", "Ticket opened", order=0)]
    # attachments into a plain list (``to_attr``): ``reply.attachments.all()`` would build
    # a queryset per reply, a tenth of a millisecond each on a long timeline
    for r in (Reply.objects.filter(ticket=ticket).select_related("author_user", "author_contact")
              .prefetch_related(Prefetch("attachments", to_attr="files"))):
        who = r.author_contact.name if r.author_contact else _name(r.author_user)
        entries.append(Entry(r.posted_at, "reply" if r.public else "note", who,
                             ("Reply" if r.by_staff else "Client reply") if r.public
                             else "Internal note", r.body, order=3,
                             attachments=tuple(r.files)))
    for c in StatusChange.objects.filter(ticket=ticket).select_related("actor"):
        entries.append(Entry(c.at, "status", _name(c.actor),
                             f"Status {c.get_from_status_display()} → "
                             f"{c.get_to_status_display()}", order=1))
    for c in PriorityChange.objects.filter(ticket=ticket).select_related("actor"):
        entries.append(Entry(c.at, "priority", _name(c.actor),
                             f"Priority {c.from_priority} → {c.to_priority}", order=1))
    for e in Escalation.objects.filter(ticket=ticket):
        entries.append(Entry(e.fired_at, "escalation", "SLA checker", _escalation_text(e),
                             order=2))
    assigned = (AuditEntry.objects.filter(object_type=Ticket._meta.label_lower,
                                          object_id=ticket.public_id,
                                          action__in=("ticket.assigned", "ticket.unassigned"))
                .select_related("actor").order_by("created_at", "id"))
    names = _assignee_names(assigned)
    for a in assigned:
        target = names.get((a.data or {}).get("assignee_id"))
        text = f"Assigned to {target}" if target else "Unassigned"
        entries.append(Entry(a.created_at, "assignment", _name(a.actor) if a.actor else
                             (a.actor_label or "System"), text, order=1))
    entries.sort(key=lambda e: (e.at, e.order))
    return entries


def ticket_attachments(ticket: Ticket) -> list:
    """Files attached to the ticket itself, not to a reply (a contact's new-ticket file)."""
    from nestogy.tickets.models import TicketAttachment

    return list(TicketAttachment.objects.filter(ticket=ticket, reply__isnull=True)
                .order_by("created_at", "id"))


def _assignee_names(entries) -> dict[str, str]:
    from nestogy.accounts.models import User

    ids = {(a.data or {}).get("assignee_id") for a in entries} - {None}
    return {u.public_id: (u.name or u.email) for u in User.objects.filter(public_id__in=ids)}


def client_panel(ticket: Ticket) -> dict:
    """The client and contact panel: contract, SLA policy, open and recent tickets."""
    from nestogy.contracts.models import Contract

    client = ticket.client
    others = (Ticket.objects.filter(client=client).exclude(pk=ticket.pk)
              .only("public_id", "number", "subject", "status", "opened_at")
              .order_by("-opened_at", "-id"))
    contract = (Contract.objects.filter(client=client, status="active")
                .order_by("-start_date").first())
    return {
        "client": client,
        "contact": ticket.contact,
        "contract": contract,
        "policy": ticket.policy,
        "open_tickets": list(others.filter(OPEN)[:5]),
        "open_count": others.filter(OPEN).count(),
        "recent_tickets": list(others.filter(status__in=CLOSED_STATUSES)[:5]),
    }
