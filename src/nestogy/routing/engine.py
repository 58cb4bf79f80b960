"""Routing engine: who should work a ticket, and why. Pure functions, no database.

The service desk gathers the inputs (one :class:`TechInput` per technician, one
:class:`TicketInput` per ticket) with a bounded number of queries and calls :func:`rank` for
one ticket or :func:`assign_batch` for many. Rules (docs/routing.md):

* **Exclusions** come first and carry a reason a dispatcher can read: inactive, out of office,
  outside working hours, at capacity (open tickets whose SLA clock runs ≥ max open tickets),
  missing a required skill (or below its minimum level).
* **Score** = skill fit + client familiarity − load (+ a small availability headroom term),
  weights in :class:`Weights` (company-overridable). The breakdown's values add up to the
  total exactly: every term is rounded to 4 decimals first and the total is their sum.
* **Ties** go to the technician assigned least recently (never assigned first), then by id,
  so equal candidates share the work.
* **Batches** are solved together as an assignment problem over capacity slots
  (``scipy.optimize.linear_sum_assignment``): each technician offers one slot per free place,
  later slots carry the extra load they would add, and higher priorities carry a bonus that
  dominates score differences, so when capacity is short the critical tickets win. The
  result reports the total score against the greedy arrival-order baseline.

The business rules this implements: docs/semantics.md#routing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

PRIORITIES = ("low", "medium", "high", "critical")

#: Load a ticket adds to its technician, by priority (a critical ticket weighs four lows).
PRIORITY_LOAD = {"low": 0.5, "medium": 1.0, "high": 2.0, "critical": 4.0}

#: Batch bonus per priority: larger than any score difference, so capacity goes to the most
#: urgent tickets first; within one priority the scores decide.
PRIORITY_BONUS = {"low": 1_000.0, "medium": 2_000.0, "high": 3_000.0, "critical": 4_000.0}

FAMILIARITY_CAP = 10  # resolved tickets for the client in 90 days that count as "knows it well"

EXCLUSION_REASONS = {
    "inactive": "not an active technician",
    "out_of_office": "out of office",
    "off_hours": "outside working hours",
    "at_capacity": "at capacity",
    "missing_skill": "missing required skill",
}


# Largest weight a company may set (weights are relative; the defaults sum to 110).
MAX_WEIGHT = 1000.0


@dataclass(frozen=True)
class Weights:
    """How much each term counts. Companies override these in setting ``routing.weights``."""

    skill: float = 50.0
    familiarity: float = 20.0
    load: float = 30.0
    headroom: float = 10.0

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None) -> Weights:
        if not overrides:
            return cls()
        known = {f.name for f in fields(cls)}
        clean: dict[str, float] = {}
        for key, value in overrides.items():
            if key not in known:
                raise ValueError(f"unknown routing weight {key!r}; known: {sorted(known)}")
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
                raise ValueError(f"routing weight {key!r} must be a number")
            number = float(value)
            if not math.isfinite(number) or not 0 <= number <= MAX_WEIGHT:
                raise ValueError(f"routing weight {key!r} must be a number from 0 to "
                                 f"{MAX_WEIGHT:g}")
            clean[key] = number
        return replace(cls(), **clean)

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class TechInput:
    """Everything routing knows about one technician at decision time."""

    user_id: Any
    skills: Mapping[str, int] = field(default_factory=dict)
    max_open: int = 15
    open_count: int = 0            # open tickets whose SLA clock runs
    weighted_load: float = 0.0     # sum of PRIORITY_LOAD over those tickets
    familiarity: Mapping[Any, int] = field(default_factory=dict)  # client -> resolved in 90 days
    active: bool = True
    out_of_office: bool = False
    working_now: bool = True
    last_assigned_at: datetime | None = None

    @property
    def free_slots(self) -> int:
        return max(0, self.max_open - self.open_count)


@dataclass(frozen=True)
class TicketInput:
    ticket_id: Any
    client_id: Any = None
    priority: str = "medium"
    required_skills: Mapping[str, int] = field(default_factory=dict)  # skill -> minimum level


@dataclass(frozen=True)
class Candidate:
    user_id: Any
    score: Decimal
    breakdown: dict[str, Decimal]


@dataclass(frozen=True)
class Exclusion:
    user_id: Any
    reason: str
    detail: str


@dataclass(frozen=True)
class Ranking:
    candidates: list[Candidate]
    excluded: list[Exclusion]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def _q(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def exclusion(ticket: TicketInput, tech: TechInput, *, extra_load: int = 0) -> Exclusion | None:
    """Why ``tech`` cannot take ``ticket`` now, or None when they can."""
    if not tech.active:
        return Exclusion(tech.user_id, "inactive", EXCLUSION_REASONS["inactive"])
    if tech.out_of_office:
        return Exclusion(tech.user_id, "out_of_office", EXCLUSION_REASONS["out_of_office"])
    if not tech.working_now:
        return Exclusion(tech.user_id, "off_hours", EXCLUSION_REASONS["off_hours"])
    if tech.open_count + extra_load >= tech.max_open:
        return Exclusion(tech.user_id, "at_capacity",
                         f"at capacity ({tech.open_count + extra_load} of {tech.max_open} "
                         "open tickets with a running clock)")
    for skill, minimum in sorted(ticket.required_skills.items()):
        level = int(tech.skills.get(skill, 0) or 0)
        if level < minimum:
            return Exclusion(tech.user_id, "missing_skill",
                             f"missing required skill {skill} (needs {minimum}, has {level})")
    return None


def breakdown(ticket: TicketInput, tech: TechInput, weights: Weights,
              *, extra_load: float = 0.0, extra_count: int = 0) -> dict[str, Decimal]:
    """The score's terms for an eligible pair; their sum is the score."""
    if ticket.required_skills:
        levels = [min(5, int(tech.skills.get(s, 0) or 0)) / 5 for s in ticket.required_skills]
        skill_fit = weights.skill * sum(levels) / len(levels)
    else:
        # No requirement: a generalist bonus from breadth, small next to a real fit.
        skill_fit = weights.skill * 0.5
    known = min(FAMILIARITY_CAP, int(tech.familiarity.get(ticket.client_id, 0) or 0))
    familiarity = weights.familiarity * known / FAMILIARITY_CAP
    capacity = max(1, tech.max_open)
    load = -weights.load * min(1.0, (tech.weighted_load + extra_load) / capacity)
    headroom = weights.headroom * (tech.free_slots - extra_count) / capacity
    return {"skill_fit": _q(skill_fit), "familiarity": _q(familiarity), "load": _q(load),
            "headroom": _q(headroom)}


def _tie_key(tech: TechInput) -> tuple:
    stamp = tech.last_assigned_at.timestamp() if tech.last_assigned_at else float("-inf")
    return (stamp, str(tech.user_id))


def rank(ticket: TicketInput, techs: Sequence[TechInput],
         weights: Weights | None = None) -> Ranking:
    """Eligible technicians best first (ties: least recently assigned), and the excluded."""
    weights = weights or Weights()
    candidates: list[tuple[Candidate, TechInput]] = []
    excluded: list[Exclusion] = []
    for tech in techs:
        reason = exclusion(ticket, tech)
        if reason is not None:
            excluded.append(reason)
            continue
        terms = breakdown(ticket, tech, weights)
        candidates.append((Candidate(tech.user_id, sum(terms.values(), Decimal(0)), terms), tech))
    candidates.sort(key=lambda pair: (-pair[0].score, *_tie_key(pair[1])))
    return Ranking([c for c, _ in candidates], excluded)


@dataclass(frozen=True)
class BatchResult:
    assignments: dict[Any, Any]          # ticket id -> user id
    unassigned: list[Any]                # ticket ids nobody could take
    total_score: Decimal
    greedy_assignments: dict[Any, Any]
    greedy_unassigned: list[Any]
    greedy_total_score: Decimal

    @property
    def improvement(self) -> Decimal:
        return self.total_score - self.greedy_total_score


def _pair_value(ticket: TicketInput, tech: TechInput, weights: Weights, slot: int) -> float | None:
    """Score of giving ``ticket`` to ``tech`` as their ``slot``-th new ticket, or None."""
    if exclusion(ticket, tech, extra_load=slot) is not None:
        return None
    extra = slot * PRIORITY_LOAD["medium"]
    return float(sum(breakdown(ticket, tech, weights, extra_load=extra, extra_count=slot).values()))


def greedy(tickets: Sequence[TicketInput], techs: Sequence[TechInput],
           weights: Weights | None = None) -> tuple[dict[Any, Any], list[Any], Decimal]:
    """Baseline: tickets in arrival order, each to its best technician with room left."""
    weights = weights or Weights()
    taken: dict[Any, int] = {}
    assignments: dict[Any, Any] = {}
    unassigned: list[Any] = []
    total = 0.0
    for ticket in tickets:
        best: tuple[float, tuple, TechInput] | None = None
        for tech in techs:
            value = _pair_value(ticket, tech, weights, taken.get(tech.user_id, 0))
            if value is None:
                continue
            key = (-value, *_tie_key(tech))
            if best is None or key < (-best[0], *best[1]):
                best = (value, _tie_key(tech), tech)
        if best is None:
            unassigned.append(ticket.ticket_id)
            continue
        value, _, tech = best
        taken[tech.user_id] = taken.get(tech.user_id, 0) + 1
        assignments[ticket.ticket_id] = tech.user_id
        total += value
    return assignments, unassigned, _q(total)


def assign_batch(tickets: Sequence[TicketInput], techs: Sequence[TechInput],
                 weights: Weights | None = None) -> BatchResult:
    """Assign a whole batch at once, maximising priority-weighted total score."""
    weights = weights or Weights()
    g_assign, g_unassigned, g_total = greedy(tickets, techs, weights)
    slots: list[tuple[TechInput, int]] = []
    for tech in techs:
        for slot in range(min(tech.free_slots, len(tickets))):
            slots.append((tech, slot))
    if not tickets or not slots:
        return BatchResult({}, [t.ticket_id for t in tickets], Decimal("0.0000"),
                           g_assign, g_unassigned, g_total)
    forbidden = -1e12
    # value(ticket, tech, slot) = pair part (skill fit + familiarity, or forbidden) + slot part
    # (load and headroom after ``slot`` earlier new tickets): build both once, then broadcast.
    pair = np.full((len(tickets), len(techs)), forbidden)
    for i, ticket in enumerate(tickets):
        bonus = PRIORITY_BONUS.get(ticket.priority, PRIORITY_BONUS["medium"])
        for t, tech in enumerate(techs):
            if tech.free_slots and exclusion(ticket, tech) is None:
                terms = breakdown(ticket, tech, weights)
                pair[i, t] = bonus + float(terms["skill_fit"] + terms["familiarity"])
    slot_tech = np.empty(len(slots), dtype=int)
    slot_part = np.empty(len(slots))
    index = {id(tech): t for t, tech in enumerate(techs)}
    probe = TicketInput(ticket_id=None)
    for j, (tech, slot) in enumerate(slots):
        slot_tech[j] = index[id(tech)]
        terms = breakdown(probe, tech, weights, extra_load=slot * PRIORITY_LOAD["medium"],
                          extra_count=slot)
        slot_part[j] = float(terms["load"] + terms["headroom"])
    values = pair[:, slot_tech] + slot_part[np.newaxis, :]
    rows, cols = linear_sum_assignment(values, maximize=True)
    assignments: dict[Any, Any] = {}
    total = 0.0
    for i, j in zip(rows, cols, strict=True):
        if values[i, j] <= forbidden / 2:
            continue
        tech, _slot = slots[j]
        assignments[tickets[i].ticket_id] = tech.user_id
        total += values[i, j] - PRIORITY_BONUS.get(tickets[i].priority, PRIORITY_BONUS["medium"])
    # Slot order within one technician does not matter for the result; recompute the exact
    # score of what was chosen with each technician's slots filled in order.
    exact = _score_assignment(tickets, techs, weights, assignments)
    unassigned = [t.ticket_id for t in tickets if t.ticket_id not in assignments]
    return BatchResult(assignments, unassigned, exact, g_assign, g_unassigned, g_total)


def _score_assignment(tickets: Sequence[TicketInput], techs: Sequence[TechInput],
                      weights: Weights, assignments: Mapping[Any, Any]) -> Decimal:
    by_id = {tech.user_id: tech for tech in techs}
    taken: dict[Any, int] = {}
    total = 0.0
    for ticket in tickets:
        user_id = assignments.get(ticket.ticket_id)
        if user_id is None:
            continue
        slot = taken.get(user_id, 0)
        value = _pair_value(ticket, by_id[user_id], weights, slot)
        if value is None:  # cannot happen for a feasible solution; keep the guard honest
            raise AssertionError(f"infeasible assignment {ticket.ticket_id} -> {user_id}")
        total += value
        taken[user_id] = slot + 1
    return _q(total)
