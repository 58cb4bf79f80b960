"""The SLA of tickets, in one place: policy selection, the history loader, the compute path
and the column writer.

Every caller goes through these functions: ticket actions (one ticket), policy and calendar
edits and client policy re-selection (many open tickets, reacting to ``sla.policy_changed``
and ``sla.client_policy_changed``), and the breach checker (``tickets.escalation``). The
history of one ticket or of N tickets is read with the same three set-based queries; the
clocks come from the pure ``sla.clock.compute_sla``; the stored columns are written with one
statement per batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from nestogy.clients.models import Client
from nestogy.contracts.queries import active_contract_policy
from nestogy.core.events import Event
from nestogy.core.timeutil import now as utc_now
from nestogy.sla import clock
from nestogy.sla.models import SLAPolicy
from nestogy.sla.queries import client_policy, default_policy
from nestogy.tickets.models import (
    CLOSED_STATUSES,
    Escalation,
    PriorityChange,
    Reply,
    StatusChange,
    Ticket,
)

BATCH_SIZE = 500

SLA_FIELDS = ("sla_state", "first_response_state", "resolution_state", "first_response_due_at",
              "resolution_due_at", "first_response_seconds", "resolution_seconds",
              "first_response_paused_seconds", "paused_business_seconds", "paused_since",
              "first_response_breached", "first_response_breached_by", "resolution_breached",
              "resolution_breached_by", "next_check_at", "sla_plan")


# -- policy selection ---------------------------------------------------------------------


def select_policy(client) -> SLAPolicy | None:
    """The SLA policy for a ticket of ``client``: the ONE place policy selection lives.

    Order (docs/sla.md): the client's active contract's policy, else the client's
    assigned policy, else the company default.
    """
    today = timezone.localdate(timezone=ZoneInfo(_company_tz(client.company_id)))
    return (active_contract_policy(client, today) or client_policy(client)
            or default_policy())


@dataclass
class Preview:
    """What a new ticket's SLA would be if it were opened at ``opened_at``."""

    policy: SLAPolicy | None
    opened_at: datetime
    result: clock.SlaResult | None


def preview(client, priority: str, *, now: datetime | None = None) -> Preview:
    """The due times a ticket of ``client`` with ``priority`` opened ``now`` gets: the same
    policy selection (:func:`select_policy`) and the same computation (:func:`compute` on
    an empty history) as ``tickets.actions.create_ticket``, without writing anything."""
    now = now or utc_now()
    policy = select_policy(client)
    if policy is None:
        return Preview(None, now, None)
    ticket = Ticket(company_id=client.company_id, client=client, priority=priority,
                    opened_at=now, policy=policy)
    return Preview(policy, now, compute(ticket, now=now, history=History(), fired=()))


def _company_tz(company_id: int) -> str:
    from nestogy.tenancy.models import Company

    return Company.objects.filter(pk=company_id).values_list("timezone", flat=True).first() \
        or "UTC"


def reselect_client_policies(client_ids: list[int]) -> int:
    """Re-select the policy of the open tickets of these clients (a client's assignment or
    a contract changed). Per client: the selection and one UPDATE of the tickets that move;
    then the moved tickets are recomputed set-based. Returns how many moved."""
    moved: list[int] = []
    for client in Client.objects.filter(pk__in=client_ids):
        policy = select_policy(client)
        ids = list(Ticket.objects.filter(client=client).exclude(status__in=CLOSED_STATUSES)
                   .exclude(policy=policy).values_list("pk", flat=True))
        if ids:
            Ticket.objects.filter(pk__in=ids).update(policy=policy)
            moved.extend(ids)
    for start in range(0, len(moved), BATCH_SIZE):
        recompute_where(Q(pk__in=moved[start:start + BATCH_SIZE]))
    return len(moved)


def on_client_policy_changed(event: Event) -> None:
    """Reaction to ``sla.client_policy_changed`` (subscribed in ``TicketsConfig.ready``)."""
    reselect_client_policies(list(event.data.get("client_ids") or ()))


def on_policy_changed(event: Event) -> None:
    """Reaction to ``sla.policy_changed`` (subscribed in ``TicketsConfig.ready``)."""
    recompute_policies(list(event.data.get("policy_ids") or ()))


# -- history ------------------------------------------------------------------------------


@dataclass
class History:
    """A ticket's SLA-relevant history: its first recorded status and priority (``None``
    when it never changed, so the ticket's current value is the initial one) and events."""

    status0: str | None = None
    priority0: str | None = None
    events: list[clock.HistoryEvent] = field(default_factory=list)

    def initial(self, ticket: Ticket) -> tuple[str, str]:
        return self.priority0 or ticket.priority, self.status0 or ticket.status


def histories(ids: Iterable[int]) -> dict[int, History]:
    """The history of one or many tickets in three queries."""
    ids = list(ids)
    out: dict[int, History] = defaultdict(History)
    for tid, at, frm, to in (StatusChange.objects.filter(ticket_id__in=ids)
                             .order_by("at", "id")
                             .values_list("ticket_id", "at", "from_status", "to_status")):
        h = out[tid]
        h.status0 = h.status0 or frm
        h.events.append(clock.StatusChange(at, to))
    for tid, at, frm, to in (PriorityChange.objects.filter(ticket_id__in=ids)
                             .order_by("at", "id")
                             .values_list("ticket_id", "at", "from_priority", "to_priority")):
        h = out[tid]
        h.priority0 = h.priority0 or frm
        h.events.append(clock.PriorityChange(at, to))
    for tid, at, public, by_staff in (Reply.objects.filter(ticket_id__in=ids)
                                      .order_by("posted_at", "id")
                                      .values_list("ticket_id", "posted_at", "public",
                                                   "by_staff")):
        out[tid].events.append(clock.ReplyEvent(at, public, by_staff))
    return out


def fired_levels(ids: Iterable[int]) -> dict[int, set[tuple[str, int]]]:
    """The fired (clock, level) pairs of one or many tickets in one query."""
    fired: dict[int, set] = defaultdict(set)
    for tid, clk, level in Escalation.objects.filter(ticket_id__in=list(ids)).values_list(
            "ticket_id", "clock", "level"):
        fired[tid].add((clk, level))
    return fired


# -- compute ------------------------------------------------------------------------------


class Policies:
    """Compiled rules and calendar per policy (one Calendar, and its holiday cache, each)."""

    def __init__(self) -> None:
        self._compiled: dict = {}

    def get(self, policy: SLAPolicy) -> tuple[clock.PolicyRules, object]:
        if policy.pk not in self._compiled:
            self._compiled[policy.pk] = (policy.rules(), policy.calendar.as_calendar())
        return self._compiled[policy.pk]

    def ladder(self, policy: SLAPolicy) -> dict[int, clock.Level]:
        """The policy's ladder rungs by level number."""
        rules, _ = self.get(policy)
        key = ("ladder", policy.pk)
        if key not in self._compiled:
            self._compiled[key] = {level.level: level for level in rules.ladder}
        return self._compiled[key]


def compute(ticket: Ticket, *, now: datetime, history: History, fired: Iterable,
            policies: Policies | None = None, events: list | None = None,
            initial: tuple[str, str] | None = None) -> clock.SlaResult | None:
    """The ticket's SLA at ``now`` (no writes); ``None`` without a policy.

    ``events``/``initial`` override the stored history (the checker adds the priority it
    raises before writing it).
    """
    if ticket.policy is None:
        return None
    rules, calendar = (policies or Policies()).get(ticket.policy)
    priority, status = initial or history.initial(ticket)
    return clock.compute_sla(rules, calendar, opened_at=ticket.opened_at, priority=priority,
                             status=status,
                             events=history.events if events is None else events, now=now,
                             fired=fired)


def apply_result(ticket: Ticket, result: clock.SlaResult | None, now: datetime) -> list[str]:
    """Copy a computed SLA onto the ticket's stored columns; returns the changed fields."""
    before = {f: getattr(ticket, f) for f in SLA_FIELDS}
    if result is None:
        ticket.sla_state = ticket.first_response_state = ticket.resolution_state = "running"
        ticket.first_response_due_at = ticket.resolution_due_at = None
        ticket.next_check_at = ticket.paused_since = ticket.sla_plan = None
    else:
        fr, res = result.first_response, result.resolution
        ticket.sla_state = result.state
        ticket.first_response_state, ticket.resolution_state = fr.state, res.state
        ticket.first_response_due_at, ticket.resolution_due_at = fr.due_at, res.due_at
        ticket.first_response_seconds = fr.business_seconds if fr.met_at else None
        ticket.resolution_seconds = res.business_seconds if res.met_at else None
        ticket.first_response_paused_seconds = fr.paused_business_seconds
        ticket.paused_business_seconds = res.paused_business_seconds
        ticket.paused_since = result.paused_since
        ticket.first_response_breached, ticket.first_response_breached_by = \
            fr.breached, fr.breached_by
        ticket.resolution_breached, ticket.resolution_breached_by = res.breached, res.breached_by
        ticket.next_check_at = result.next_check_at
        ticket.sla_plan = result.plan
    ticket.sla_computed_at = now
    return [f for f in SLA_FIELDS if getattr(ticket, f) != before[f]] + ["sla_computed_at"]


def recompute_sla(ticket: Ticket, *, now: datetime | None = None) -> clock.SlaResult | None:
    """Recompute and store one ticket's SLA columns (inside the caller's transaction)."""
    return _recompute([ticket], now or utc_now(), Policies(), single=True)[0]


def recompute_policies(policy_ids: list[int], *, batch_size: int = BATCH_SIZE) -> int:
    """Recompute every open ticket on these policies (a calendar or policy was edited)."""
    return recompute_where(Q(policy_id__in=policy_ids), batch_size=batch_size)


def recompute_where(condition: Q, *, batch_size: int = BATCH_SIZE) -> int:
    """Recompute the SLA columns of the open tickets matching ``condition``.

    Runs in the caller's transaction, in batches with a fixed number of queries each
    (histories, fired levels and the column write are set-based).
    """
    now = utc_now()
    policies = Policies()
    count, last_pk = 0, 0
    while True:
        tickets = list(Ticket.objects.filter(condition, pk__gt=last_pk)
                       .exclude(status__in=CLOSED_STATUSES)
                       .select_related("policy__calendar").order_by("pk")[:batch_size])
        if not tickets:
            return count
        last_pk = tickets[-1].pk
        _recompute(tickets, now, policies)
        count += len(tickets)


def _recompute(tickets: list[Ticket], now: datetime, policies: Policies, *,
               single: bool = False) -> list[clock.SlaResult | None]:
    saved = [t for t in tickets if t.pk]
    ids = [t.pk for t in saved]
    loaded = histories(ids) if ids else {}
    fired = fired_levels(ids) if ids else {}
    results = []
    for ticket in tickets:
        result = compute(ticket, now=now, history=loaded.get(ticket.pk, History()),
                         fired=fired.get(ticket.pk, ()), policies=policies)
        fields = apply_result(ticket, result, now)
        if single and ticket.pk:
            Ticket.objects.filter(pk=ticket.pk).update(**{f: getattr(ticket, f)
                                                          for f in fields})
        results.append(result)
    if not single:
        write_columns(saved, [*SLA_FIELDS, "sla_computed_at"])
    return results


# -- column writer ------------------------------------------------------------------------


def write_columns(tickets: list[Ticket], names: list[str]) -> None:
    """Write these columns of many tickets in one statement (``tickets.bulk``)."""
    from nestogy.tickets.bulk import update_columns

    update_columns(Ticket, tickets, names)
