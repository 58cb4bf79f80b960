"""SLA clocks as a pure function of history: pauses, reopen, priority change, breach edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nestogy.sla.calendar import Calendar
from nestogy.sla.clock import (
    PolicyRules,
    PriorityChange,
    ReplyEvent,
    StatusChange,
    Targets,
    compute_sla,
)

H = 3600
CAL = Calendar.from_spec(hours={d: [["09:00", "17:00"]]
                                for d in ("mon", "tue", "wed", "thu", "fri")})
RULES = PolicyRules(targets={
    "critical": Targets(1 * H, 4 * H),
    "high": Targets(2 * H, 8 * H),
    "medium": Targets(4 * H, 16 * H),
    "low": Targets(8 * H, 40 * H),
})
MON = datetime(2025, 3, 3, 9, tzinfo=UTC)  # Monday 09:00 UTC


def at(hours: float = 0, days: int = 0) -> datetime:
    return MON + timedelta(days=days, hours=hours)


def sla(events=(), now=None, priority="high", **kw):
    return compute_sla(RULES, CAL, opened_at=MON, priority=priority, events=events,
                       now=now or at(1), **kw)


def test_fresh_ticket_runs_with_due_times_from_targets():
    r = sla(now=at(0.5))
    assert r.first_response.due_at == at(2)
    assert r.resolution.due_at == at(8)  # 8h ends exactly at the window end
    assert r.first_response.state == "running" and r.state == "running"
    assert r.first_response.business_seconds == 1800
    # Next change: first response warning at 80% of 2h = 96 minutes.
    assert r.next_check_at == at(1.6)


def test_first_response_met_only_by_public_staff_reply():
    events = [ReplyEvent(at(0.25), public=False, by_staff=True),
              ReplyEvent(at(0.5), public=True, by_staff=False),
              ReplyEvent(at(0.75), public=True, by_staff=True)]
    r = sla(events, now=at(3))
    assert r.first_response.met_at == at(0.75)
    assert r.first_response.state == "met" and r.first_response.business_seconds == 2700
    assert not r.first_response.breached


def test_breach_exactly_at_due_second_is_not_a_breach_one_second_after_is():
    due = at(2)
    on_time = sla([ReplyEvent(due, True, True)], now=at(3))
    assert on_time.first_response.state == "met" and not on_time.first_response.breached
    late = sla([ReplyEvent(due + timedelta(seconds=1), True, True)], now=at(3))
    assert late.first_response.state == "met_late" and late.first_response.breached
    assert late.first_response.breached_by == 1
    assert not sla(now=due).first_response.breached
    unmet = sla(now=due + timedelta(seconds=1))
    assert unmet.first_response.breached and unmet.first_response.breached_by == 1
    assert unmet.first_response.state == "breached" and unmet.state == "breached"


def test_pause_counts_in_business_seconds_and_moves_due_times():
    # Waiting on client from 10:00 Monday to 11:00 Tuesday: 7h + 2h = 9 business hours.
    events = [StatusChange(at(1), "waiting_on_client"), StatusChange(at(26), "open")]
    r = sla(events, now=at(27))
    assert r.resolution.paused_business_seconds == 9 * H
    assert r.resolution.due_at == CAL.add_business_time(MON, 17 * H)  # Wed 10:00
    assert r.resolution.due_at == at(49)
    assert r.first_response.due_at == CAL.add_business_time(MON, 11 * H)
    assert r.resolution.business_seconds == 9 * H + 2 * H - 9 * H  # 2h of running time


def test_paused_clock_is_frozen_and_has_no_next_check():
    r = sla([StatusChange(at(1), "on_hold")], now=at(5))
    assert r.resolution.state == "paused" and r.first_response.state == "paused"
    assert r.paused_since == at(1)
    assert r.next_check_at is None
    assert r.first_response.business_seconds == H


def test_pause_statuses_are_per_policy():
    rules = PolicyRules(targets=RULES.targets, pause_statuses=frozenset({"on_hold"}))
    r = compute_sla(rules, CAL, opened_at=MON, priority="high",
                    events=[StatusChange(at(1), "waiting_on_client")], now=at(5))
    assert r.resolution.state == "running" and r.first_response.state == "breached"


def test_reopen_unmeets_resolution_and_resolved_time_counts_as_paused():
    events = [ReplyEvent(at(0.5), True, True), StatusChange(at(2), "resolved"),
              StatusChange(at(days=1, hours=2), "open")]  # Tue 11:00 reopen
    r = sla(events, now=at(days=1, hours=3))
    assert r.resolution.met_at is None and r.resolution.state in {"running", "warning"}
    # Resolved 11:00 Mon → 11:00 Tue is 8 business hours, added to the budget.
    assert r.resolution.paused_business_seconds == 8 * H
    assert r.resolution.due_at == CAL.add_business_time(MON, 16 * H)
    resolved_again = sla([*events, StatusChange(at(days=1, hours=4), "resolved"),
                          StatusChange(at(days=1, hours=5), "closed")],
                         now=at(days=2))
    assert resolved_again.resolution.met_at == at(days=1, hours=4)
    assert resolved_again.resolution.state == "met"
    assert resolved_again.resolution.business_seconds == 2 * H + 2 * H
    assert resolved_again.state == "met"


def test_closed_without_resolved_meets_resolution():
    r = sla([ReplyEvent(at(0.1), True, True), StatusChange(at(1), "closed")], now=at(3))
    assert r.resolution.met_at == at(1) and r.resolution.state == "met"


def test_priority_change_recomputes_from_opened_at_keeping_pause():
    events = [StatusChange(at(1), "on_hold"), StatusChange(at(2), "open"),
              PriorityChange(at(3), "critical")]
    r = sla(events, now=at(3.5))
    assert r.priority == "critical"
    assert r.resolution.due_at == CAL.add_business_time(MON, 4 * H + H)
    # First response (1h + 1h pause) was due at 11:00 and is now breached.
    assert r.first_response.due_at == at(2) and r.first_response.breached
    assert r.first_response.breached_by == int(1.5 * H)


def test_met_clock_keeps_met_time_and_judgement_after_priority_change():
    events = [ReplyEvent(at(1.5), True, True), PriorityChange(at(3), "critical")]
    r = sla(events, now=at(4))
    assert r.first_response.met_at == at(1.5) and r.first_response.state == "met"
    assert r.first_response.due_at == at(2)  # the high target it was met under


def test_warning_state_and_ladder_levels():
    r = sla(now=at(1.7))
    assert r.first_response.state == "warning" and r.state == "warning"
    assert r.due_levels == (("first_response", 1),)
    assert r.next_check_at == at(1.7)  # level 1 reached and not fired: check now
    fired = sla(now=at(1.7), fired=[("first_response", 1)])
    assert fired.next_check_at == at(2) + timedelta(seconds=1)  # the breach
    late = sla(now=at(3.1), fired=[("first_response", 1)])
    assert late.first_response.levels_reached == (1, 2, 3)
    assert set(late.due_levels) == {("first_response", 2), ("first_response", 3)}


def test_breach_after_hours_is_strictly_after_due():
    # Critical 1h opened Monday 16:30: due Tuesday 09:30.
    opened = at(7.5)
    r = compute_sla(RULES, CAL, opened_at=opened, priority="critical", now=at(days=1, hours=0.5))
    assert r.first_response.due_at == at(days=1, hours=0.5)
    assert not r.first_response.breached


def test_history_order_does_not_matter():
    events = [StatusChange(at(2), "resolved"), ReplyEvent(at(1), True, True),
              StatusChange(at(1.5), "in_progress")]
    a = sla(events, now=at(5))
    b = sla(list(reversed(events)), now=at(5))
    assert a == b


# -- properties over random histories ------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from nestogy.sla.clock import STATUSES  # noqa: E402

offsets = st.integers(min_value=0, max_value=10 * 24 * 3600)
history_events = st.lists(st.one_of(
    st.builds(lambda o, s: StatusChange(MON + timedelta(seconds=o), s), offsets,
              st.sampled_from(STATUSES)),
    st.builds(lambda o, p: PriorityChange(MON + timedelta(seconds=o), p), offsets,
              st.sampled_from(("low", "medium", "high", "critical"))),
    st.builds(lambda o, pub, staff: ReplyEvent(MON + timedelta(seconds=o), pub, staff),
              offsets, st.booleans(), st.booleans()),
), max_size=12)


@settings(max_examples=200, deadline=None)
@given(history_events, offsets, st.sampled_from(("low", "medium", "high", "critical")))
def test_property_clock_invariants(events, now_offset, priority):
    now = MON + timedelta(seconds=now_offset)
    r = compute_sla(RULES, CAL, opened_at=MON, priority=priority, events=events, now=now)
    for c in (r.first_response, r.resolution):
        if c.met_at is not None:
            assert c.business_seconds + c.paused_business_seconds == \
                CAL.business_seconds_between(MON, c.met_at)
            assert c.breached == (c.met_at > c.due_at)
            assert c.state == ("met_late" if c.breached else "met")
        else:
            assert c.breached == (now > c.due_at)
            assert c.state in {"running", "paused", "warning", "breached"}
        assert c.due_at == CAL.add_business_time(MON, c.target_seconds
                                                 + c.paused_business_seconds)
        assert (c.breached_by > 0) <= c.breached
    # A reached level that has not fired keeps the ticket due now.
    assert not r.due_levels or r.next_check_at == now
    # Firing every due level leaves nothing due.
    again = compute_sla(RULES, CAL, opened_at=MON, priority=priority, events=events, now=now,
                        fired=r.due_levels)
    assert again.due_levels == ()
    assert again.next_check_at is None or again.next_check_at > now
