"""The routing engine on its own: exclusions, scoring, ties and batch optimisation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nestogy.routing.engine import (
    TechInput,
    TicketInput,
    Weights,
    assign_batch,
    greedy,
    rank,
)

NET = TicketInput("t1", client_id="c1", priority="high", required_skills={"networking": 3})


def tech(user_id, **kw):
    return TechInput(user_id=user_id, **{"skills": {"networking": 4}, "max_open": 5, **kw})


@pytest.mark.parametrize(("kwargs", "reason", "detail"), [
    ({"out_of_office": True}, "out_of_office", "out of office"),
    ({"working_now": False}, "off_hours", "outside working hours"),
    ({"open_count": 5}, "at_capacity", "at capacity (5 of 5 open tickets with a running clock)"),
    ({"skills": {"networking": 2}}, "missing_skill",
     "missing required skill networking (needs 3, has 2)"),
    ({"skills": {"windows": 5}}, "missing_skill",
     "missing required skill networking (needs 3, has 0)"),
    ({"active": False}, "inactive", "not an active technician"),
])
def test_each_exclusion_names_its_reason(kwargs, reason, detail):
    ranking = rank(NET, [tech("ok"), tech("x", **kwargs)])
    assert [c.user_id for c in ranking.candidates] == ["ok"]
    [excluded] = ranking.excluded
    assert (excluded.user_id, excluded.reason, excluded.detail) == ("x", reason, detail)


def test_breakdown_adds_up_to_the_score_and_terms_move_the_right_way():
    familiar = tech("familiar", familiarity={"c1": 6})
    loaded = tech("loaded", open_count=3, weighted_load=6.0)
    expert = tech("expert", skills={"networking": 5})
    ranking = rank(NET, [familiar, loaded, expert, tech("plain")])
    for candidate in ranking.candidates:
        assert sum(candidate.breakdown.values()) == candidate.score
        assert set(candidate.breakdown) == {"skill_fit", "familiarity", "load", "headroom"}
    by_id = {c.user_id: c for c in ranking.candidates}
    assert by_id["familiar"].score > by_id["plain"].score
    assert by_id["expert"].score > by_id["plain"].score
    assert by_id["loaded"].score < by_id["plain"].score
    assert by_id["loaded"].breakdown["load"] < 0


def test_ties_go_to_the_least_recently_assigned():
    early = datetime(2026, 1, 1, 9, tzinfo=UTC)
    late = datetime(2026, 1, 2, 9, tzinfo=UTC)
    techs = [tech("b", last_assigned_at=late), tech("a", last_assigned_at=early),
             tech("never", last_assigned_at=None)]
    ranking = rank(NET, techs)
    assert len({c.score for c in ranking.candidates}) == 1
    assert [c.user_id for c in ranking.candidates] == ["never", "a", "b"]


def test_nobody_qualifies_gives_no_candidates_and_every_reason():
    ranking = rank(NET, [tech("ooo", out_of_office=True), tech("full", open_count=5)])
    assert ranking.best is None
    assert {e.reason for e in ranking.excluded} == {"out_of_office", "at_capacity"}


def test_weights_override_and_validation():
    weights = Weights.from_overrides({"familiarity": 100})
    assert weights.familiarity == 100 and weights.skill == Weights().skill
    with pytest.raises(ValueError, match="unknown routing weight"):
        Weights.from_overrides({"charisma": 1})
    with pytest.raises(ValueError, match="must be a number from 0 to 1000"):
        Weights.from_overrides({"load": -1})
    familiar = tech("familiar", familiarity={"c1": 3})
    expert = tech("expert", skills={"networking": 5})
    assert rank(NET, [familiar, expert]).best.user_id == "expert"
    assert rank(NET, [familiar, expert], weights).best.user_id == "familiar"


def test_batch_beats_greedy_when_arrival_order_wastes_the_only_specialist():
    # The generalist ticket arrives first and greedy gives it the specialist (best score);
    # the firewall ticket that only the specialist can take is then left unassigned.
    specialist = TechInput("spec", skills={"firewall": 5, "windows": 5}, max_open=1)
    generalist = TechInput("gen", skills={"windows": 2}, max_open=1)
    tickets = [TicketInput("easy", priority="medium", required_skills={"windows": 1}),
               TicketInput("fw", priority="medium", required_skills={"firewall": 4})]
    g_assign, g_unassigned, _ = greedy(tickets, [specialist, generalist])
    assert g_assign == {"easy": "spec"} and g_unassigned == ["fw"]
    result = assign_batch(tickets, [specialist, generalist])
    assert result.assignments == {"easy": "gen", "fw": "spec"}
    assert result.unassigned == []
    assert result.total_score > result.greedy_total_score
    assert result.improvement > 0


def test_batch_gives_scarce_capacity_to_the_most_urgent():
    only = TechInput("only", skills={"windows": 3}, max_open=1)
    tickets = [TicketInput("low", priority="low"), TicketInput("crit", priority="critical")]
    result = assign_batch(tickets, [only])
    assert result.assignments == {"crit": "only"}
    assert result.unassigned == ["low"]


def test_batch_respects_capacity_and_spreads_load():
    techs = [TechInput(f"u{i}", skills={"windows": 3}, max_open=4, open_count=i) for i in range(4)]
    tickets = [TicketInput(f"t{n}", priority="medium") for n in range(8)]
    result = assign_batch(tickets, techs)
    counts = {}
    for user in result.assignments.values():
        counts[user] = counts.get(user, 0) + 1
    for t in techs:
        assert counts.get(t.user_id, 0) <= t.free_slots
    assert len(result.assignments) == min(8, sum(t.free_slots for t in techs))
    # the idle technician takes the most new work
    assert counts["u0"] == max(counts.values())


def test_empty_inputs():
    result = assign_batch([], [tech("a")])
    assert result.assignments == {} and result.total_score == Decimal("0.0000")
    result = assign_batch([NET], [])
    assert result.unassigned == ["t1"]


@settings(max_examples=60, deadline=None)
@given(
    caps=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 5)), min_size=1, max_size=5),
    prios=st.lists(st.sampled_from(["low", "medium", "high", "critical"]), min_size=0,
                   max_size=9),
)
def test_batch_never_exceeds_capacity_and_never_does_worse_than_greedy(caps, prios):
    techs = [TechInput(f"u{i}", skills={"windows": lvl}, max_open=cap, open_count=0)
             for i, (cap, lvl) in enumerate(caps)]
    tickets = [TicketInput(f"t{n}", priority=p) for n, p in enumerate(prios)]
    result = assign_batch(tickets, techs)
    per_tech = {}
    for user in result.assignments.values():
        per_tech[user] = per_tech.get(user, 0) + 1
    assert all(per_tech.get(t.user_id, 0) <= t.max_open for t in techs)
    assert len(result.assignments) >= len(result.greedy_assignments)
    if len(result.assignments) == len(result.greedy_assignments):
        assert result.total_score >= result.greedy_total_score - Decimal("0.001")
