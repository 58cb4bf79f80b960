"""The breach checker: warnings, breaches and the escalation ladder (docs/sla.md).

``check_company`` claims one company's tickets whose indexed ``next_check_at`` has passed,
in batches of up to ``BATCH_SIZE``, with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL;
SQLite serialises writers with its IMMEDIATE transactions). For each batch it loads the
history of all its tickets in a fixed number of queries, evaluates the pure clocks
(``tickets.sla``), and fires every ladder level that is reached and not yet fired:

- a level at a percentage below 100 → ``sla.warning``; at 100 (strictly after due) →
  ``sla.breached``; above 100 → ``ticket.escalated``; recipients come from the rung's
  ``notify`` (assignee or dispatchers, managers, owners/admins), and the notifications
  fan-out groups a run's alerts into one message per recipient and channel;
- a rung with ``raise_priority`` raises the ticket one step (never above ``critical``) and
  the due times are recomputed; a rung with ``reassign`` routes the ticket again when its
  assignee is unavailable.

Each level fires once per ticket and clock: the batch's tickets are locked before their
fired levels are read, and ``Escalation``'s unique constraint on (company, ticket, clock,
level) is the last guard. Every table is written set-based (``tickets.bulk``: COPY on
PostgreSQL), so the query count of a run does not depend on how many tickets are due; a
batch writes one audit entry (``sla.levels_fired``, with its counts and run id), the fired
levels being the audit detail. ``dry_run`` reports the same findings and writes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.db import transaction
from django_scopes import scope, scopes_disabled

from nestogy.audit.actions import log_action
from nestogy.core.events import emit_many
from nestogy.core.timeutil import now as utc_now
from nestogy.sla import clock
from nestogy.sla.models import SLAPolicy
from nestogy.tickets.bulk import JSONText, insert_rows, public_ids
from nestogy.tickets.events import DIGEST_TYPE
from nestogy.tickets.models import Escalation, PriorityChange, Ticket
from nestogy.tickets.sla import (
    SLA_FIELDS,
    Policies,
    apply_result,
    compute,
    fired_levels,
    histories,
    write_columns,
)

# Due tickets per claimed batch: a run over up to this many due tickets of a company takes a
# fixed number of queries (histories, fired levels, one statement per table written).
BATCH_SIZE = 50_000
CLOCK_LABELS = {"first_response": "first response", "resolution": "resolution"}


@dataclass
class Finding:
    ticket_id: str
    number: int
    clock: str
    level: int
    percent: int
    event: str
    actions: dict = field(default_factory=dict)


@dataclass
class Report:
    dry_run: bool
    checked: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    state_changes: int = 0
    findings: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        if finding.event == "sla.warning":
            self.warnings += 1
        elif finding.event == "sla.breached":
            self.breaches += 1
        else:
            self.escalations += 1

    def merge(self, other: Report) -> None:
        self.checked += other.checked
        self.state_changes += other.state_changes
        for finding in other.findings:
            self.add(finding)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "checked": self.checked, "warnings": self.warnings,
                "breaches": self.breaches, "escalations": self.escalations,
                "state_changes": self.state_changes,
                "findings": [asdict(f) for f in self.findings]}


def event_for(percent: int) -> str:
    if percent < 100:
        return "sla.warning"
    return "sla.breached" if percent == 100 else "ticket.escalated"


@dataclass
class _Writes:
    """What a batch found, to be written (or, in a dry run, only reported)."""

    pending: list[tuple[Ticket, Finding, datetime]] = field(default_factory=list)
    escalations: list[tuple] = field(default_factory=list)  # (pk, clock, level, %, actions)
    priority_changes: list[tuple] = field(default_factory=list)  # (ticket pk, from, to)
    changed: list[Ticket] = field(default_factory=list)
    _texts: dict[tuple, JSONText] = field(default_factory=dict)

    def fire(self, ticket: Ticket, rules, rung, clk: str, due_at: datetime) -> Finding:
        percent = rules.warning_percent if rung.percent is None else rung.percent
        finding = Finding(ticket.public_id, ticket.number, clk, rung.level, percent,
                          event_for(percent), {"notify": rung.notify})
        if rung.reassign:
            # Routing reassigns the ticket after this batch if its assignee cannot work it
            # now (away, off hours); the outcome replaces this marker.
            finding.actions["reassign"] = "if the assignee is unavailable"
        self.pending.append((ticket, finding, due_at))
        return finding

    def record(self, ticket: Ticket, findings: list[Finding]) -> None:
        # The record keeps the actions as they are now (before any reassignment), as JSON
        # text shared by every level with the same actions (a burst has a handful).
        for f in findings:
            key = tuple(f.actions.items())
            text = self._texts.get(key)
            if text is None:
                text = self._texts[key] = JSONText(json.dumps(f.actions))
            self.escalations.append((ticket.pk, f.clock, f.level, f.percent, text))


def _process_batch(company, tickets: list[Ticket], now: datetime, report: Report, *,
                   dry_run: bool, actor=None) -> None:
    """Evaluate a batch of due tickets. A ticket with a plan (``sla.clock.plan``, stored
    with its clocks) is advanced by comparing its thresholds with ``now``; one without
    (never computed since plans exist, or paused with a level reached) is replayed from its
    history. Both give the same findings and columns (tests/tickets/test_escalation.py)."""
    run_id = uuid.uuid4().hex
    fired_by = getattr(actor, "email", "") or "system"
    writes = _Writes()
    policies = Policies()
    replay: list[Ticket] = []
    for ticket in tickets:
        report.checked += 1
        if ticket.policy is None:
            continue
        rules, calendar = policies.get(ticket.policy)
        advanced = None if ticket.sla_plan is None else clock.advance_sla(
            rules, calendar, ticket.sla_plan, priority=ticket.priority, now=now,
            states={"first_response": ticket.first_response_state,
                    "resolution": ticket.resolution_state})
        if advanced is None:
            replay.append(ticket)
            continue
        ladder = policies.ladder(ticket.policy)
        findings = [writes.fire(ticket, rules, ladder[number], clk, due_at)
                    for clk, number, due_at in advanced.fired]
        if advanced.raising:
            for finding in findings:
                if (finding.clock, finding.level) in advanced.raising:
                    finding.actions["raised_priority"] = advanced.priority
            writes.priority_changes.append((ticket.pk, ticket.priority, advanced.priority))
            ticket.priority = advanced.priority
        writes.record(ticket, findings)
        before_state = ticket.sla_state
        for name, (due_at, state, breached, breached_by) in advanced.clocks.items():
            setattr(ticket, f"{name}_due_at", due_at)
            setattr(ticket, f"{name}_state", state)
            setattr(ticket, f"{name}_breached", breached)
            setattr(ticket, f"{name}_breached_by", breached_by)
        ticket.sla_state = advanced.state
        ticket.next_check_at = advanced.next_check_at
        ticket.sla_plan = advanced.plan
        ticket.sla_computed_at = now
        if before_state != ticket.sla_state:
            report.state_changes += 1
        writes.changed.append(ticket)
    if replay:
        _replay(replay, now, policies, report, writes)
        order = {ticket.pk: i for i, ticket in enumerate(tickets)}
        writes.pending.sort(key=lambda item: order[item[0].pk])  # stable: levels in order
    pending, priority_changes = writes.pending, writes.priority_changes
    if dry_run:
        _plan_reassignments(pending, now, dry_run=True, actor=actor)
        for _, finding, _ in pending:
            report.add(finding)
        return
    company_id = tickets[0].company_id
    _insert_escalations(company_id, writes.escalations, now, fired_by, run_id)
    if priority_changes:
        ids_ = public_ids(PriorityChange.public_id_prefix, len(priority_changes))
        insert_rows(PriorityChange, ["company", "public_id", "created_at", "updated_at",
                                     "ticket", "from_priority", "to_priority", "at", "actor"],
                    [(company_id, pid, now, now, tid, frm, to, now, None)
                     for pid, (tid, frm, to) in zip(ids_, priority_changes, strict=True)])
    write_columns(writes.changed, [*SLA_FIELDS, "sla_computed_at", "priority"])
    _plan_reassignments(pending, now, dry_run=False, actor=actor)
    announcements: list[tuple[str, dict]] = []
    for ticket, finding, due_at in pending:
        report.add(finding)
        announcements.append((finding.event, {
            "ticket_id": ticket.public_id, "ticket_pk": ticket.pk, "number": ticket.number,
            "subject": ticket.subject, "priority": ticket.priority,
            "assignee_user_id": ticket.assignee_id, "clock": finding.clock,
            "clock_label": CLOCK_LABELS[finding.clock], "level": finding.level,
            "percent": finding.percent, "notify": finding.actions.get("notify"),
            "raised_priority": finding.actions.get("raised_priority"),
            "due_at": due_at.isoformat(),
            "group_as": DIGEST_TYPE}))
    if pending:
        _audit_batch(company, pending, run_id, actor)
        # One dispatch for the batch; the fan-out groups it into one message per recipient
        # and channel. (A batch holds one company's tickets: check_company runs per company.)
        emit_many(announcements, company_id=company_id, actor=actor)



def _replay(tickets: list[Ticket], now: datetime, policies: Policies, report: Report,
            writes: _Writes) -> None:
    """Tickets without a usable plan: their clocks from their history (three queries for
    the batch), then every reached level fired, as ``_process_batch`` does from plans."""
    ids = [t.pk for t in tickets]
    loaded = histories(ids)
    fired = fired_levels(ids)
    for ticket in tickets:
        rules, _ = policies.get(ticket.policy)
        ladder = policies.ladder(ticket.policy)
        h = loaded[ticket.pk]
        initial = h.initial(ticket)
        events = list(h.events)

        def evaluate(fired_now, events=events, initial=initial, ticket=ticket, h=h):
            return compute(ticket, now=now, history=h, fired=fired_now, policies=policies,
                           events=events, initial=initial)

        result = evaluate(fired[ticket.pk])
        raised = False
        # Fire every reached level; a raised priority may bring new levels within reach,
        # so loop until nothing is due (bounded: each pass fires at least one new level).
        while result.due_levels:
            findings = [writes.fire(ticket, rules, ladder[number], clk,
                                    result.clock(clk).due_at)
                        for clk, number in result.due_levels]
            fired[ticket.pk].update(result.due_levels)
            raise_now = [f for f in findings if ladder[f.level].raise_priority]
            step = clock.PRIORITIES.index(ticket.priority)
            raised_now = False
            if raise_now and not raised and step + 1 < len(clock.PRIORITIES):
                raised = raised_now = True  # one step per run, never above critical
                new = clock.PRIORITIES[step + 1]
                writes.priority_changes.append((ticket.pk, ticket.priority, new))
                events.append(clock.PriorityChange(now, new))
                if h.priority0 is None:
                    initial = (ticket.priority, initial[1])
                for finding in raise_now:
                    finding.actions["raised_priority"] = new
                ticket.priority = new
            writes.record(ticket, findings)
            # The stored next check moves on to the next threshold: with the priority just
            # raised, re-evaluate (new targets may bring more levels within reach);
            # otherwise the clocks are unchanged and only the fired levels drop out.
            if raised_now:
                result = evaluate(fired[ticket.pk], events=events, initial=initial)
            else:
                result = dataclasses.replace(result, due_levels=(),
                                             next_check_at=result.next_check_after_firing)
        if result.plan is not None:
            result = dataclasses.replace(result, plan=clock.without_fired(result.plan,
                                                                          fired[ticket.pk]))
        before_state = ticket.sla_state
        apply_result(ticket, result, now)
        if before_state != ticket.sla_state:
            report.state_changes += 1
        writes.changed.append(ticket)

def _insert_escalations(company_id: int, rows: list[tuple], now: datetime, fired_by: str,
                        run_id: str) -> None:
    """Write the fired levels (one COPY on PostgreSQL).

    No level is written twice: the batch's tickets are locked (``FOR UPDATE``; SQLite
    serialises writers) before their fired levels are read, and only the checker writes
    this table. The unique constraint on (company, ticket, clock, level) stays as the last
    guard: a duplicate would fail the batch and roll it back, never notify twice.
    """
    if not rows:
        return
    names = ["company", "public_id", "created_at", "updated_at", "ticket", "clock", "level",
             "percent", "fired_at", "fired_by", "actions", "run_id"]
    insert_rows(Escalation, names, [
        (company_id, pid, now, now, tid, clk, level, percent, now, fired_by, actions, run_id)
        for pid, (tid, clk, level, percent, actions)
        in zip(public_ids(Escalation.public_id_prefix, len(rows)), rows, strict=True)])


def _audit_batch(company, pending, run_id: str, actor) -> None:
    """One audit entry per checker batch (not per level): what it fired, in numbers; the
    fired levels themselves are the batch's ``Escalation`` rows (``run_id``), each with
    who fired it and what was done."""
    counts = {"sla.warning": 0, "sla.breached": 0, "ticket.escalated": 0}
    for _, finding, _ in pending:
        counts[finding.event] += 1
    log_action(company, "sla.levels_fired", actor=actor, company=company, data={
        "run_id": run_id, "tickets": len({ticket.pk for ticket, _, _ in pending}),
        "warnings": counts["sla.warning"], "breaches": counts["sla.breached"],
        "escalations": counts["ticket.escalated"]})


def _plan_reassignments(pending, now: datetime, *, dry_run: bool, actor) -> None:
    """Level-3 rungs with ``reassign``: route tickets whose assignee cannot work them now.

    One routing pass for the whole batch (``tickets.routing``); each finding's actions say
    what happened: reassigned to whom, nobody available, or assignee available (kept).
    """
    from nestogy.tickets.routing import auto_assign, unavailable_assignees

    wanting = {}
    for ticket, finding, _ in pending:
        if "reassign" in finding.actions:
            wanting.setdefault(ticket.pk, (ticket, []))[1].append(finding)
    if not wanting:
        return
    tickets = [ticket for ticket, _ in wanting.values()]
    unavailable = {t.pk for t in unavailable_assignees(tickets, now=now)}
    outcome = None
    if unavailable and not dry_run:
        outcome = auto_assign([t for t in tickets if t.pk in unavailable], actor=actor, now=now)
    for pk, (ticket, findings) in wanting.items():
        if pk not in unavailable:
            note = "kept: the assignee is available" if ticket.assignee_id else \
                "not assigned"
        elif dry_run:
            note = "would reassign: the assignee is unavailable"
        elif pk in outcome.assigned:
            user = outcome.assigned[pk]
            note = f"reassigned to {user.email}"
            ticket.assignee_id = user.pk
        else:
            note = "nobody available: " + outcome.reasons.get(pk, "nobody qualifies")
        for finding in findings:
            finding.actions["reassign"] = note


def check_company(company, *, dry_run: bool = False, now: datetime | None = None,
                  batch_size: int = BATCH_SIZE, actor=None) -> Report:
    """Check one company's due tickets (call inside its scope or not; it enters it).

    ``actor`` is who asked (the API caller); scheduled and command runs are "system".
    """
    now = now or utc_now()
    report = Report(dry_run=dry_run)
    last_pk = 0
    with scope(company=company.pk):
        while True:
            with transaction.atomic():
                # Claim the due tickets (rows another run holds are skipped) and read them in
                # one query; their few distinct policies (and calendars) in one more.
                due = (Ticket.objects.filter(next_check_at__lte=now, pk__gt=last_pk)
                       .defer("description").order_by("pk"))
                if not dry_run:
                    due = due.select_for_update(skip_locked=True)
                tickets = list(due[:batch_size])
                if not tickets:
                    break
                last_pk = tickets[-1].pk
                policies = SLAPolicy.objects.select_related("calendar").in_bulk(
                    {t.policy_id for t in tickets if t.policy_id})
                for ticket in tickets:
                    if ticket.policy_id:
                        ticket.policy = policies[ticket.policy_id]
                _process_batch(company, tickets, now, report, dry_run=dry_run, actor=actor)
            if len(tickets) < batch_size:
                break
    return report


def check_all(*, dry_run: bool = False, now: datetime | None = None,
              progress=None) -> Report:
    """Every company with due tickets, each in its own scope."""
    from nestogy.tenancy.models import Company

    now = now or utc_now()
    with scopes_disabled():
        company_ids = list(Ticket.objects.filter(next_check_at__lte=now)
                           .values_list("company_id", flat=True).distinct().order_by())
        companies = list(Company.objects.filter(pk__in=company_ids, is_active=True))
    total = Report(dry_run=dry_run)
    for company in companies:
        report = check_company(company, dry_run=dry_run, now=now)
        if progress:
            progress(f"{company.name}: checked {report.checked}, warnings {report.warnings}, "
                     f"breaches {report.breaches}, escalations {report.escalations}")
        total.merge(report)
    return total
