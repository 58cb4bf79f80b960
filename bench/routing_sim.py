"""Replay a synthetic month of an MSP's service desk under three routing strategies.

    .venv/bin/python bench/routing_sim.py [--techs 12] [--seed 7] [--days 30] [--json]

The world (same for every strategy, same seed → same numbers):

* **Arrivals**: a Poisson process per hour, with a rate that depends on the hour and the
  weekday (a morning peak, a smaller after-lunch peak, a trickle at night and on weekends),
  scaled to the team size so the desk is busy but not drowning (about 75 % utilisation).
* **Tickets**: priority (5 % critical, 15 % high, 50 % medium, 30 % low), one of six
  categories, each needing one skill at a minimum level, and one of 40 clients.
* **Technicians**: 8-20 of them, each with 2-4 skills at levels 1-5, a capacity of 12 open
  tickets and one of two shifts (07-16 or 09-18, Monday to Friday). Effort is log-normal
  around 50 working minutes, faster for higher skill (level 5: ×0.6, level 1: ×1.6, no skill:
  ×2.5) and for a client the technician knows (×0.85).
* **Work**: a technician works one ticket at a time during their shift, most urgent first
  (then oldest); picking a ticket up is its first response.
* **SLA**: business hours Mon-Fri 08-18; targets (first response / resolution, business
  minutes): critical 30/240, high 60/480, medium 240/1440, low 480/2880.

Strategies: ``round_robin`` (next technician on shift, in turn), ``least_loaded`` (fewest
open tickets among those on shift) and ``smart`` (Nestogy's engine: skills, capacity,
familiarity and load, with queued tickets solved as one batch every 15 minutes), plus
``smart_balanced``: the same engine with the company override ``BALANCED`` (heavier load
and headroom weights), to show what the weights trade.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from nestogy.routing.engine import (
    PRIORITY_LOAD,
    TechInput,
    TicketInput,
    Weights,
    assign_batch,
    rank,
)

DAY = 24 * 60
CATEGORIES = {"network": "networking", "workstation": "windows", "email": "m365",
              "security": "security", "backup": "backup", "printing": "printers"}
CATEGORY_MIX = [("workstation", 30), ("email", 25), ("network", 15), ("printing", 12),
                ("backup", 10), ("security", 8)]
PRIORITY_MIX = [("critical", 5), ("high", 15), ("medium", 50), ("low", 30)]
PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
TARGETS = {"critical": (30, 240), "high": (60, 480), "medium": (240, 1440), "low": (480, 2880)}
SPEED = {0: 2.5, 1: 1.6, 2: 1.3, 3: 1.0, 4: 0.8, 5: 0.6}
SHIFTS = [(7 * 60, 16 * 60), (9 * 60, 18 * 60)]
CAPACITY = 12
CLIENTS = 40
#: A company override that trades some skill fit for an even spread of work.
BALANCED = {"load": 120.0, "headroom": 40.0}


def hourly_rate(weekday: int, hour: int) -> float:
    """Relative arrival rate by weekday (0 = Monday) and hour."""
    if weekday >= 5:
        return 0.04
    if 8 <= hour < 12:
        return 1.0 if hour < 10 else 0.8
    if 12 <= hour < 13:
        return 0.4
    if 13 <= hour < 17:
        return 0.6
    if 17 <= hour < 20:
        return 0.15
    return 0.03


def weighted_choice(rng: random.Random, mix: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]


@dataclass
class Ticket:
    id: int
    arrival: int
    priority: str
    category: str
    client: int
    effort: float  # base working minutes at skill level 3
    assignee: int | None = None
    assigned_at: int | None = None
    first_response: int | None = None
    resolved: int | None = None
    remaining: float | None = None


@dataclass
class Tech:
    id: int
    skills: dict[str, int]
    shift: tuple[int, int]
    queue: list[Ticket] = field(default_factory=list)
    current: Ticket | None = None
    busy_minutes: int = 0
    shift_minutes: int = 0
    resolved: int = 0
    familiarity: dict[int, int] = field(default_factory=dict)
    last_assigned: int = -1

    def on_shift(self, minute: int) -> bool:
        day, tod = divmod(minute, DAY)
        return day % 7 < 5 and self.shift[0] <= tod < self.shift[1]

    @property
    def open_tickets(self) -> list[Ticket]:
        return self.queue + ([self.current] if self.current else [])


def build_world(n_techs: int, days: int, seed: int) -> tuple[list[dict], list[Ticket]]:
    rng = random.Random(seed)
    skills = list(CATEGORIES.values())
    techs = []
    for i in range(n_techs):
        own = rng.sample(skills, rng.randint(2, 4))
        techs.append({"id": i, "skills": {s: rng.randint(1, 5) for s in own},
                      "shift": SHIFTS[i % len(SHIFTS)]})
    # Make sure every skill has at least one solid technician, as any real MSP would.
    for n, skill in enumerate(skills):
        techs[n % n_techs]["skills"][skill] = max(techs[n % n_techs]["skills"].get(skill, 0), 4)
    # Tickets per hour at rate 1.0, scaled so the team is about 75 % busy.
    peak = 1.7 * n_techs / 2.0
    tickets: list[Ticket] = []
    for hour in range(days * 24):
        weekday, hod = (hour // 24) % 7, hour % 24
        lam = peak * hourly_rate(weekday, hod)
        count = _poisson(rng, lam)
        for _ in range(count):
            arrival = hour * 60 + rng.randrange(60)
            tickets.append(Ticket(
                id=len(tickets), arrival=arrival,
                priority=weighted_choice(rng, PRIORITY_MIX),
                category=weighted_choice(rng, CATEGORY_MIX),
                client=rng.randrange(CLIENTS),
                effort=rng.lognormvariate(math.log(40), 0.6)))
    tickets.sort(key=lambda t: t.arrival)
    return techs, tickets


def _poisson(rng: random.Random, lam: float) -> int:
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def business_minutes_prefix(days: int) -> list[int]:
    """prefix[m] = SLA business minutes (Mon-Fri 08-18) before minute m."""
    prefix = [0] * (days * DAY + 1)
    total = 0
    for m in range(days * DAY):
        day, tod = divmod(m, DAY)
        if day % 7 < 5 and 8 * 60 <= tod < 18 * 60:
            total += 1
        prefix[m + 1] = total
    return prefix


def required(ticket: Ticket) -> dict[str, int]:
    return {CATEGORIES[ticket.category]: 3 if ticket.priority == "critical" else 2}


def tech_input(tech: Tech, minute: int, *, for_client: int | None = None) -> TechInput:
    open_ = tech.open_tickets
    return TechInput(user_id=tech.id, skills=tech.skills, max_open=CAPACITY,
                     open_count=len(open_),
                     weighted_load=sum(PRIORITY_LOAD[t.priority] for t in open_),
                     familiarity=tech.familiarity, working_now=tech.on_shift(minute),
                     last_assigned_at=None)


def simulate(strategy: str, techs_spec: list[dict], tickets_spec: list[Ticket], days: int,
             prefix: list[int], weights: Weights | None = None) -> dict:
    techs = [Tech(t["id"], dict(t["skills"]), t["shift"]) for t in techs_spec]
    tickets = [Ticket(t.id, t.arrival, t.priority, t.category, t.client, t.effort)
               for t in tickets_spec]
    pending: list[Ticket] = []
    rr = 0
    arrivals = iter(tickets)
    next_ticket = next(arrivals, None)
    horizon = days * DAY

    def give(ticket: Ticket, tech: Tech, minute: int) -> None:
        level = tech.skills.get(CATEGORIES[ticket.category], 0)
        factor = SPEED[min(5, level)] * (0.85 if tech.familiarity.get(ticket.client) else 1.0)
        ticket.assignee, ticket.assigned_at = tech.id, minute
        ticket.remaining = ticket.effort * factor
        tech.queue.append(ticket)
        tech.last_assigned = minute

    for minute in range(horizon):
        while next_ticket is not None and next_ticket.arrival == minute:
            pending.append(next_ticket)
            next_ticket = next(arrivals, None)
        on_shift = [t for t in techs if t.on_shift(minute)]
        if pending and on_shift:
            if strategy == "round_robin":
                for ticket in pending:
                    tech = on_shift[rr % len(on_shift)]
                    rr += 1
                    give(ticket, tech, minute)
                pending = []
            elif strategy == "least_loaded":
                for ticket in pending:
                    tech = min(on_shift, key=lambda t: (len(t.open_tickets), t.last_assigned))
                    give(ticket, tech, minute)
                pending = []
            elif strategy.startswith("smart") and (minute % 15 == 0 or len(pending) == 1):
                inputs = [tech_input(t, minute) for t in techs]
                asks = [TicketInput(t.id, t.client, t.priority, required(t)) for t in pending]
                if len(asks) == 1:
                    best = rank(asks[0], inputs, weights).best
                    chosen = {asks[0].ticket_id: best.user_id} if best else {}
                else:
                    chosen = assign_batch(asks, inputs, weights).assignments
                by_id = {t.id: t for t in pending}
                for ticket_id, user_id in chosen.items():
                    give(by_id[ticket_id], techs[user_id], minute)
                pending = [t for t in pending if t.assignee is None]
        for tech in techs:
            if not tech.on_shift(minute):
                continue
            tech.shift_minutes += 1
            if tech.current is None and tech.queue:
                tech.queue.sort(key=lambda t: (PRIORITY_RANK[t.priority], t.arrival))
                tech.current = tech.queue.pop(0)
                if tech.current.first_response is None:
                    tech.current.first_response = minute
            if tech.current is not None:
                tech.busy_minutes += 1
                tech.current.remaining -= 1
                if tech.current.remaining <= 0:
                    done = tech.current
                    done.resolved = minute + 1
                    tech.resolved += 1
                    tech.familiarity[done.client] = tech.familiarity.get(done.client, 0) + 1
                    tech.current = None
    return measure(strategy, techs, tickets, prefix, horizon)


def measure(strategy: str, techs: list[Tech], tickets: list[Ticket], prefix: list[int],
            horizon: int) -> dict:
    def biz(a: int, b: int) -> int:
        return prefix[min(b, horizon)] - prefix[min(a, horizon)]

    fr_met = res_met = 0
    resolve_times = []
    for t in tickets:
        fr_target, res_target = TARGETS[t.priority]
        if t.first_response is not None and biz(t.arrival, t.first_response) <= fr_target:
            fr_met += 1
        if t.resolved is not None:
            elapsed = biz(t.arrival, t.resolved)
            resolve_times.append(elapsed)
            if elapsed <= res_target:
                res_met += 1
    n = len(tickets)
    busy = [t.busy_minutes for t in techs]
    util = sum(busy) / max(1, sum(t.shift_minutes for t in techs))
    mean_busy = statistics.fmean(busy)
    return {
        "strategy": strategy,
        "tickets": n,
        "resolved": len(resolve_times),
        "first_response_compliance": round(100 * fr_met / n, 1),
        "resolution_compliance": round(100 * res_met / n, 1),
        "mean_time_to_resolve_business_hours": round(statistics.fmean(resolve_times) / 60, 2),
        "utilisation": round(100 * util, 1),
        "load_spread_cv": round(statistics.pstdev(busy) / mean_busy, 3) if mean_busy else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--techs", type=int, default=12, help="technicians (8-20)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 8 <= args.techs <= 20:
        parser.error("--techs must be between 8 and 20")
    started = time.perf_counter()
    techs, tickets = build_world(args.techs, args.days, args.seed)
    prefix = business_minutes_prefix(args.days)
    rows = [simulate(s, techs, tickets, args.days, prefix)
            for s in ("round_robin", "least_loaded", "smart")]
    rows.append(simulate("smart_balanced", techs, tickets, args.days, prefix,
                         Weights.from_overrides(BALANCED)))
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps({"techs": args.techs, "days": args.days, "seed": args.seed,
                          "seconds": round(elapsed, 2), "results": rows}, indent=2))
        return 0
    print(f"Routing simulation: {args.techs} technicians, {args.days} days, "
          f"{len(tickets)} tickets, seed {args.seed}")
    header = ("strategy", "FR SLA %", "resolution SLA %", "mean TTR (biz h)", "utilisation %",
              "load spread (CV)")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print(f"| {r['strategy']} | {r['first_response_compliance']} | "
              f"{r['resolution_compliance']} | {r['mean_time_to_resolve_business_hours']} | "
              f"{r['utilisation']} | {r['load_spread_cv']} |")
    print(f"({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
