"""SLA clocks as a pure function of a ticket's history (docs/sla.md).

``compute_sla`` takes the policy, its calendar, the ticket's ``opened_at``, initial priority
and status, its history (status changes, priority changes, replies) and ``now``, and returns
both clocks' figures plus ``next_check_at``. The same function serves live tickets (the
stored columns are recomputed in the transaction of every change) and imports (a replay of
another PSA's history), so both give identical figures.

Rules:

- Two clocks start at ``opened_at``. **First response** is met by the first *public* reply
  by a *staff* user (internal notes, contact replies and status changes do not count).
  **Resolution** is met when the ticket enters ``resolved`` (or ``closed`` without passing
  ``resolved``); a reopen un-meets it and its final met time is the last resolve.
- Pause statuses (per policy; default ``waiting_on_client`` and ``on_hold``) stop every
  running clock. Time spent ``resolved``/``closed`` before a reopen counts as paused (and
  stops an unmet first-response clock too). Paused time is measured in business seconds of
  the calendar and added to the budget:
  ``due_at = add_business_time(opened_at, target + paused_business_seconds)``.
  While a clock is paused its ``due_at`` is the due time if the pause ended now.
- Priority changes recompute both due times from ``opened_at`` with the new targets keeping
  the accumulated pause; a met clock keeps its met time and is judged by the targets of the
  priority it had when it was met.
- A clock is breached iff it was met strictly after ``due_at``, or is unmet and ``now`` is
  strictly after ``due_at``; ``breached_by`` is the business seconds from ``due_at`` to the
  met time (or now).
- States: ``running``, ``paused``, ``warning`` (elapsed business time ≥ warning percent of
  the target), ``breached``, ``met``, ``met_late``.
- Escalation ladder levels fire at a percentage of a clock's target (``None`` = the policy's
  warning percent; 100 = the breach, i.e. strictly after ``due_at``). ``next_check_at`` is
  the earliest moment a state changes or an unfired level becomes due (in the past when a
  reached level has not fired yet), or ``None`` when nothing can change without a new event.

The business rules this implements: docs/semantics.md#sla-clocks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from nestogy.sla.calendar import Calendar

PRIORITIES = ("low", "medium", "high", "critical")
STATUSES = ("new", "open", "in_progress", "waiting_on_client", "on_hold", "resolved", "closed")
RESOLVED_STATUSES = frozenset({"resolved", "closed"})
DEFAULT_PAUSE_STATUSES = ("waiting_on_client", "on_hold")
CLOCKS = ("first_response", "resolution")
STATE_RANK = {"met": 1, "met_late": 2, "paused": 3, "running": 4, "warning": 5, "breached": 6}
ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Level:
    """One rung of the escalation ladder."""

    level: int
    percent: int | None  # None: the policy's warning percent
    notify: str = "assignee"  # assignee | managers | owners_admins
    raise_priority: bool = False
    reassign: bool = False


DEFAULT_LADDER: tuple[Level, ...] = (
    Level(1, None, "assignee"),
    Level(2, 100, "managers"),
    Level(3, 150, "owners_admins", raise_priority=True, reassign=True),
)


def ladder_to_json(ladder: Iterable[Level]) -> list[dict]:
    return [{"level": lv.level, "percent": lv.percent, "notify": lv.notify,
             "raise_priority": lv.raise_priority, "reassign": lv.reassign} for lv in ladder]


def ladder_from_json(raw: Iterable[Mapping] | None) -> tuple[Level, ...]:
    if not raw:
        return DEFAULT_LADDER
    return tuple(Level(int(r["level"]), r.get("percent"), r.get("notify", "assignee"),
                       bool(r.get("raise_priority")), bool(r.get("reassign"))) for r in raw)


@dataclass(frozen=True)
class Targets:
    first_response_seconds: int
    resolution_seconds: int

    def for_clock(self, clock: str) -> int:
        return self.first_response_seconds if clock == "first_response" \
            else self.resolution_seconds


@dataclass(frozen=True)
class PolicyRules:
    targets: Mapping[str, Targets]
    warning_percent: int = 80
    pause_statuses: frozenset[str] = frozenset(DEFAULT_PAUSE_STATUSES)
    ladder: tuple[Level, ...] = DEFAULT_LADDER


# -- history ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    status: str


@dataclass(frozen=True)
class PriorityChange:
    at: datetime
    priority: str


@dataclass(frozen=True)
class ReplyEvent:
    at: datetime
    public: bool
    by_staff: bool


HistoryEvent = StatusChange | PriorityChange | ReplyEvent


# -- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockResult:
    name: str
    target_seconds: int
    due_at: datetime
    met_at: datetime | None
    state: str
    business_seconds: int  # to meet (or so far), pauses excluded
    paused_business_seconds: int
    breached: bool
    breached_by: int
    levels_reached: tuple[int, ...] = ()

    def as_dict(self) -> dict:
        return {"due_at": self.due_at, "met_at": self.met_at, "state": self.state,
                "business_seconds": self.business_seconds,
                "paused_business_seconds": self.paused_business_seconds,
                "breached": self.breached, "breached_by": self.breached_by}


@dataclass(frozen=True)
class SlaResult:
    first_response: ClockResult
    resolution: ClockResult
    state: str
    priority: str
    status: str
    paused_since: datetime | None
    next_check_at: datetime | None
    due_levels: tuple[tuple[str, int], ...] = field(default=())  # reached, not yet fired
    # ``next_check_at`` once every level in ``due_levels`` has fired (the checker fires them
    # and, unless it also raises the priority, needs no second evaluation).
    next_check_after_firing: datetime | None = None
    # The running clocks' thresholds as timestamps (see ``plan``), for the checker.
    plan: dict | None = None

    def clock(self, name: str) -> ClockResult:
        return self.first_response if name == "first_response" else self.resolution


def _pause_intervals(opened_at, status, events, now, pausing) -> tuple[list, str, datetime]:
    """Intervals ``[start, end)`` spent in a pausing status, the current status and since."""
    intervals = []
    current, since = status, opened_at
    for event in events:
        if not isinstance(event, StatusChange) or event.status == current:
            continue
        if current in pausing:
            intervals.append((since, event.at))
        current, since = event.status, event.at
    if current in pausing:
        intervals.append((since, now))
    return intervals, current, since


def compute_sla(rules: PolicyRules, calendar: Calendar, *, opened_at: datetime, priority: str,
                status: str = "new", events: Sequence[HistoryEvent] = (), now: datetime,
                fired: Iterable[tuple[str, int]] = ()) -> SlaResult:
    """Both clocks of one ticket at ``now`` (see the module docstring for the rules).

    ``priority``/``status`` are the values the ticket had at ``opened_at``; ``events`` may be
    in any order (stable-sorted by time here); events after ``now`` are ignored.
    ``fired`` lists ``(clock, level)`` pairs whose escalation already fired.
    """
    fired = set(fired)
    history = sorted((e for e in events if opened_at <= e.at <= now), key=lambda e: e.at)
    pausing = set(rules.pause_statuses) | RESOLVED_STATUSES
    pauses, current_status, status_since = _pause_intervals(opened_at, status, history, now,
                                                             pausing)
    # Resolution is met at the start of the current run of resolved/closed statuses.
    resolution_met = None
    if current_status in RESOLVED_STATUSES:
        resolution_met = status_since
        for event in reversed(history):
            if isinstance(event, StatusChange):
                if event.status in RESOLVED_STATUSES:
                    resolution_met = event.at
                else:
                    break
        if not any(isinstance(e, StatusChange) for e in history):
            resolution_met = opened_at
    first_response_met = next((e.at for e in history if isinstance(e, ReplyEvent)
                               and e.public and e.by_staff), None)

    def priority_at(moment: datetime) -> str:
        value = priority
        for event in history:
            if isinstance(event, PriorityChange) and event.at <= moment:
                value = event.priority
        return value

    current_priority = priority_at(now)
    paused_now = current_status in pausing
    results = {}
    due_levels: list[tuple[str, int]] = []
    candidates: list[datetime] = []  # moments a state changes or an unfired level is reached
    firing_now = False  # a reached level has not fired: check again now
    running: dict[str, tuple[int, datetime]] = {}  # unmet clock → (paused seconds, due_at)
    for clock, met_at in (("first_response", first_response_met),
                          ("resolution", resolution_met)):
        limit = met_at or now
        paused = sum(calendar.business_seconds_between(max(s, opened_at), min(e, limit))
                     for s, e in pauses if s < limit)
        clock_priority = priority_at(met_at) if met_at else current_priority
        target = rules.targets[clock_priority].for_clock(clock)
        due_at = calendar.add_business_time(opened_at, target + paused)
        elapsed = max(0, calendar.business_seconds_between(opened_at, limit) - paused)
        if met_at is not None:
            breached = met_at > due_at
            results[clock] = ClockResult(
                clock, target, due_at, met_at, "met_late" if breached else "met", elapsed,
                paused, breached,
                calendar.business_seconds_between(due_at, met_at) if breached else 0)
            continue
        running[clock] = (paused, due_at)
        breached = now > due_at
        warn_budget = math.ceil(target * rules.warning_percent / 100)
        if breached:
            state = "breached"
        elif paused_now:
            state = "paused"
        elif elapsed >= warn_budget:
            state = "warning"
        else:
            state = "running"
        reached = []
        for level in rules.ladder:
            percent = rules.warning_percent if level.percent is None else level.percent
            if percent == 100:
                hit, moment = breached, due_at + ONE_SECOND
            else:
                budget = math.ceil(target * percent / 100)
                hit = elapsed >= budget
                moment = None if hit or paused_now else \
                    calendar.add_business_time(opened_at, budget + paused)
            if hit:
                reached.append(level.level)
                if (clock, level.level) not in fired:
                    due_levels.append((clock, level.level))
                    firing_now = True
            elif not paused_now and (clock, level.level) not in fired:
                candidates.append(moment)
        if not paused_now:
            # State changes (warning, breach) also need a check even without a ladder rung.
            if state == "running":
                candidates.append(calendar.add_business_time(opened_at, warn_budget + paused))
            if not breached:
                candidates.append(due_at + ONE_SECOND)
        results[clock] = ClockResult(
            clock, target, due_at, None, state, elapsed, paused, breached,
            calendar.business_seconds_between(due_at, now) if breached else 0, tuple(reached))

    first, resolution = results["first_response"], results["resolution"]
    if current_status in RESOLVED_STATUSES:
        considered = [resolution.state]
        if first.state in {"breached", "met_late"}:
            considered.append(first.state)
    else:
        considered = [first.state, resolution.state]
    state = max(considered, key=STATE_RANK.__getitem__)
    return SlaResult(first, resolution, state, current_priority, current_status,
                     status_since if paused_now else None,
                     min([*candidates, now]) if firing_now else min(candidates, default=None),
                     tuple(due_levels),
                     min(candidates, default=None),
                     None if paused_now or not running else
                     plan(rules, calendar, opened_at, current_priority, running, fired))


# -- thresholds as timestamps: the checker's plan ------------------------------------------
#
# While nothing happens to a ticket, its clocks only move with time: every threshold (each
# unfired ladder level, the warning state, the breach) is a fixed moment. ``plan`` stores
# those moments when the clocks are computed, for the ticket's priority and for each
# priority the ladder's unfired ``raise_priority`` rungs may still raise it to; the checker
# then compares timestamps (``advance_sla``) instead of replaying the history. Any event
# (status, reply, priority, policy or calendar edit) recomputes the clocks and the plan.
# Moments are integers: microseconds since the Unix epoch (exact, compact in JSON).

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def from_us(value: int) -> datetime:
    return EPOCH + value * MICROSECOND


def _percent(rules: PolicyRules, level: Level) -> int:
    return rules.warning_percent if level.percent is None else level.percent


def plan(rules: PolicyRules, calendar: Calendar, opened_at: datetime, priority: str,
         running: Mapping[str, tuple[int, datetime]], fired: Iterable[tuple[str, int]]) -> dict:
    """``{"p": {priority: {clock: [due, warning, [[level, moment], ...]]}}}`` for the unmet,
    unpaused clocks (``running``: clock → paused seconds and due time at ``priority``), with
    the unfired levels in ladder order; a level at 100 % is reached strictly after ``due``
    and its moment is one second after it (when the checker looks)."""
    fired = set(fired)
    raises = sum(1 for clock in running for level in rules.ladder
                 if level.raise_priority and (clock, level.level) not in fired)
    step = PRIORITIES.index(priority)
    out: dict[str, dict] = {}
    for p in PRIORITIES[step:step + 1 + raises]:
        clocks = {}
        for clock, (paused, due_now) in running.items():
            target = rules.targets[p].for_clock(clock)
            due_at = due_now if p == priority else \
                calendar.add_business_time(opened_at, target + paused)
            moments = {100: due_at + ONE_SECOND}

            def moment(percent, target=target, paused=paused, moments=moments):
                if percent not in moments:
                    moments[percent] = calendar.add_business_time(
                        opened_at, math.ceil(target * percent / 100) + paused)
                return moments[percent]

            clocks[clock] = [to_us(due_at), to_us(moment(rules.warning_percent)),
                             [[level.level, to_us(moment(_percent(rules, level)))]
                              for level in rules.ladder if (clock, level.level) not in fired]]
        out[p] = clocks
    return {"p": out}


def without_fired(stored: dict, fired: Iterable[tuple[str, int]]) -> dict:
    """The plan without these (clock, level) pairs: levels fire once."""
    fired = set(fired)
    return {"p": {p: {clock: [due, warn, [lv for lv in levels if (clock, lv[0]) not in fired]]
                      for clock, (due, warn, levels) in clocks.items()}
                  for p, clocks in stored["p"].items()}}


@dataclass(frozen=True)
class Advanced:
    """What the checker finds at ``now`` from a ticket's plan (``advance_sla``)."""

    # (clock, level, the clock's due time when it fired), reached now, in firing order
    fired: tuple[tuple[str, int, datetime], ...]
    raising: frozenset[tuple[str, int]]  # (clock, level) whose rung raised the priority
    priority: str  # after the raise, if any
    clocks: dict[str, tuple[datetime, str, bool, int]]  # due_at, state, breached, breached_by
    state: str
    next_check_at: datetime | None
    plan: dict


def advance_sla(rules: PolicyRules, calendar: Calendar, stored: dict, *, priority: str,
                states: Mapping[str, str], now: datetime) -> Advanced | None:
    """The clocks of a ticket with no event since its plan was made, at ``now``: the same
    levels, states, due times and next check as ``compute_sla`` over its history with the
    levels fired by earlier runs, and as the checker's raise of one priority step when a
    ``raise_priority`` rung fires (then the levels reached at the new priority fire too, in
    the same run). ``states`` holds the stored state of each clock (a met clock keeps its
    own). ``None`` when the plan does not cover the ticket's priority (recompute instead)."""
    by_priority = stored.get("p") or {}
    if priority not in by_priority:
        return None
    now_us = to_us(now)
    ladder = {level.level: level for level in rules.ladder}

    def reached(p: str, done: set[tuple[str, int]]) -> list[tuple[str, int, int]]:
        out = []
        for clock in CLOCKS:
            entry = by_priority[p].get(clock)
            if entry is None:
                continue
            due, _, levels = entry
            for number, moment in levels:
                if (clock, number) in done or number not in ladder:
                    continue
                if (now_us > due if _percent(rules, ladder[number]) == 100
                        else now_us >= moment):
                    out.append((clock, number, due))
        return out

    fired = reached(priority, set())
    raising = frozenset(f[:2] for f in fired if ladder[f[1]].raise_priority)
    step = PRIORITIES.index(priority)
    if raising and step + 1 < len(PRIORITIES):
        if PRIORITIES[step + 1] not in by_priority:
            return None
        priority = PRIORITIES[step + 1]  # one step per run, never above critical
        fired += reached(priority, {f[:2] for f in fired})
    else:
        raising = frozenset()
    done = {f[:2] for f in fired}
    clocks: dict[str, tuple[datetime, str, bool, int]] = {}
    candidates: list[int] = []
    for clock in CLOCKS:
        entry = by_priority[priority].get(clock)
        if entry is None:
            continue
        due, warn, levels = entry
        due_at = from_us(due)
        breached = now_us > due
        state = "breached" if breached else "warning" if now_us >= warn else "running"
        clocks[clock] = (due_at, state, breached,
                         calendar.business_seconds_between(due_at, now) if breached else 0)
        candidates += [moment for number, moment in levels if (clock, number) not in done]
        if state == "running":
            candidates.append(warn)
        if not breached:
            candidates.append(due + 1_000_000)
    considered = [clocks[c][1] if c in clocks else states[c] for c in CLOCKS]
    kept = without_fired({"p": {p: by_priority[p] for p in PRIORITIES[PRIORITIES.index(
        priority):] if p in by_priority}}, done)
    return Advanced(tuple((c, n, from_us(due)) for c, n, due in fired), raising, priority,
                    clocks,
                    max(considered, key=STATE_RANK.__getitem__),
                    from_us(min(candidates)) if candidates else None, kept)
