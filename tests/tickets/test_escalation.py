"""The breach checker: ladder levels once each, dry run, concurrency, query budget, CLI, API."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django_scopes import scope, scopes_disabled

from nestogy.audit.models import AuditEntry
from nestogy.core import events as core_events
from nestogy.tickets import escalation
from nestogy.tickets.actions import create_ticket
from nestogy.tickets.models import Escalation, PriorityChange, Ticket

MON_9 = datetime(2025, 3, 3, 14, tzinfo=UTC)  # Monday 09:00 EST (company A)
H = timedelta(hours=1)


@contextmanager
def captured_events():
    seen: list[core_events.Event] = []
    core_events.subscribe(seen.append)
    try:
        yield seen
    finally:
        core_events._subscribers.remove(seen.append)


def open_tickets(p, n=1, priority="high", assignee=None):
    with time_machine.travel(MON_9, tick=False), scope(company=p.company_a.pk):
        return [create_ticket(p.company_a, {"client": p.client_a, "subject": f"T{i}",
                                            "priority": priority, "assignee": assignee})
                for i in range(n)]


def check(p, at, **kw):
    with time_machine.travel(at, tick=False):
        return escalation.check_company(p.company_a, **kw)


def test_warning_breach_and_escalation_fire_once_each(personas):
    p = personas
    (ticket,) = open_tickets(p, assignee=p.tech_a.user)
    with scope(company=p.company_a.pk):
        ticket.refresh_from_db()
        # High: first response 2h → warning at 96 min, due 11:00, 150% at 12:00.
        assert ticket.next_check_at == MON_9 + timedelta(minutes=96)
    assert check(p, MON_9 + timedelta(minutes=95)).checked == 0  # nothing due yet
    with captured_events() as seen:
        report = check(p, MON_9 + timedelta(minutes=100))
    assert (report.warnings, report.breaches, report.escalations) == (1, 0, 0)
    warning = [e for e in seen if e.type == "sla.warning"]
    assert len(warning) == 1 and warning[0].data["clock"] == "first_response"
    recipients = core_events.REGISTRY["sla.warning"].recipients(warning[0])
    assert [r.user_id for r in recipients] == [p.tech_a.user.pk]
    context = core_events.REGISTRY["sla.warning"].context(warning[0])
    assert context["ticket"]["subject"] == "T0"
    with scope(company=p.company_a.pk):
        ticket.refresh_from_db()
        assert ticket.sla_state == "warning"
        assert ticket.next_check_at == MON_9 + 2 * H + timedelta(seconds=1)
    # Again at the same moment: nothing new.
    assert check(p, MON_9 + timedelta(minutes=100)).findings == []
    # Exactly at the due second: not a breach. One second later: a breach.
    assert check(p, MON_9 + 2 * H).breaches == 0
    with captured_events() as seen:
        report = check(p, MON_9 + 2 * H + timedelta(seconds=1))
    assert report.breaches == 1
    breached = [e for e in seen if e.type == "sla.breached"]
    assert [r.user_id for r in core_events.REGISTRY["sla.breached"].recipients(breached[0])] \
        == [p.manager_a.user.pk]
    with captured_events() as seen:
        report = check(p, MON_9 + 3 * H)
    assert report.escalations == 1 and report.findings[0].actions["raised_priority"] == \
        "critical"
    escalated = [e for e in seen if e.type == "ticket.escalated"]
    owners_admins = {r.user_id for r in
                     core_events.REGISTRY["ticket.escalated"].recipients(escalated[0])}
    assert owners_admins == {p.owner_a.user.pk, p.admin_a.user.pk}
    with scope(company=p.company_a.pk):
        ticket.refresh_from_db()
        assert ticket.priority == "critical" and ticket.sla_state == "breached"
        assert PriorityChange.objects.filter(ticket=ticket, to_priority="critical").count() == 1
        fired = list(Escalation.objects.filter(ticket=ticket)
                     .values_list("clock", "level", "percent"))
        assert fired == [("first_response", 1, 80), ("first_response", 2, 100),
                         ("first_response", 3, 150)]
        # One audit entry per run that fired something, with its counts; the levels
        # themselves are the Escalation rows of that run.
        entries = AuditEntry.objects.filter(action="sla.levels_fired").order_by("id")
        assert [(e.data["warnings"], e.data["breaches"], e.data["escalations"])
                for e in entries] == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
        assert entries[2].data["run_id"] == Escalation.objects.get(level=3).run_id
    # Many more runs later: the resolution clock's levels fire, nothing fires twice.
    for hours in (4, 5, 8, 30, 60):
        check(p, MON_9 + hours * H)
    with scope(company=p.company_a.pk):
        rows = list(Escalation.objects.filter(ticket=ticket).values_list("clock", "level"))
        assert len(rows) == len(set(rows)) == 6
        ticket.refresh_from_db()
        assert ticket.priority == "critical"  # never above critical


def test_unassigned_warning_goes_to_dispatchers(personas):
    p = personas
    open_tickets(p)
    with captured_events() as seen:
        check(p, MON_9 + timedelta(minutes=100))
    recipients = core_events.REGISTRY["sla.warning"].recipients(seen[0])
    assert {r.user_id for r in recipients} == {p.owner_a.user.pk, p.admin_a.user.pk,
                                               p.manager_a.user.pk}


def test_dry_run_reports_and_writes_nothing(personas):
    p = personas
    open_tickets(p, n=3)
    with scopes_disabled():
        before = (list(Ticket.objects.values_list("id", "next_check_at", "sla_state",
                                                   "priority")), AuditEntry.objects.count())
    with captured_events() as seen:
        report = check(p, MON_9 + 4 * H, dry_run=True)
    # First response: levels 1-3; level 3 raises high → critical, which brings the
    # resolution clock (now 4h, 3h elapsed) past its warning in the same run.
    assert (report.warnings, report.breaches, report.escalations) == (6, 3, 3)
    assert seen == []
    with scopes_disabled():
        after = (list(Ticket.objects.values_list("id", "next_check_at", "sla_state",
                                                  "priority")), AuditEntry.objects.count())
        assert Escalation.objects.count() == 0
    assert after == before
    real = check(p, MON_9 + 4 * H)
    assert real.as_dict()["findings"] == report.as_dict()["findings"]


def test_stale_concurrent_run_does_not_fire_twice(personas):
    """Two workers that loaded the same due tickets without the claim's row locks (which
    keep real runs apart, see the next test): the unique constraint on the fired levels is
    the last guard; the stale batch fails whole and notifies nobody a second time."""
    from django.db import IntegrityError

    p = personas
    open_tickets(p, n=2)
    at = MON_9 + timedelta(minutes=100)
    with scope(company=p.company_a.pk), time_machine.travel(at, tick=False):
        stale_a = list(Ticket.objects.select_related("policy__calendar").order_by("pk"))
        stale_b = list(Ticket.objects.select_related("policy__calendar").order_by("pk"))
        first, second = escalation.Report(False), escalation.Report(False)
        with captured_events() as seen:
            escalation._process_batch(p.company_a, stale_a, at, first, dry_run=False)
            with pytest.raises(IntegrityError), transaction.atomic():
                escalation._process_batch(p.company_a, stale_b, at, second, dry_run=False)
        assert first.warnings == 2 and second.warnings == 0
        assert len(seen) == 2
        assert Escalation.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_two_processes_at_once_fire_each_level_once(personas, transactional_db):
    p = personas
    open_tickets(p, n=40)
    at = MON_9 + 4 * H
    reports, errors = [], []

    def run():
        try:
            reports.append(escalation.check_company(p.company_a, now=at, batch_size=7))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with scopes_disabled():
        assert Escalation.objects.count() == 40 * 4  # first response 1-3, resolution 1
    assert sum(r.warnings + r.breaches + r.escalations for r in reports) == 40 * 4


def test_query_count_does_not_grow_with_due_tickets(personas, django_assert_num_queries):
    p = personas
    open_tickets(p, n=3)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        check(p, MON_9 + 4 * H)
    open_tickets(p, n=30)
    with CaptureQueriesContext(connection) as large:
        report = check(p, MON_9 + 4 * H)
    assert report.checked == 30
    assert len(large) <= len(small), (len(small), len(large))
    # The checker's own work plus the notification fan-out of the whole batch (stored events,
    # members, addresses, company, webhooks, deliveries): a constant, whatever the count.
    assert len(large) <= 30


def test_query_count_is_the_same_for_10_and_200_due_tickets(personas):
    from django.core.cache import cache
    from django.test.utils import CaptureQueriesContext

    p = personas
    open_tickets(p, n=10)
    cache.clear()
    with CaptureQueriesContext(connection) as ten:
        assert check(p, MON_9 + 4 * H).checked == 10
    open_tickets(p, n=200)
    cache.clear()
    with CaptureQueriesContext(connection) as two_hundred:
        report = check(p, MON_9 + 4 * H)
    assert report.checked == 200 and report.breaches == 200
    assert len(two_hundred) == len(ten), (len(ten), len(two_hundred))


def test_a_breach_is_announced_within_one_scheduler_tick(personas):
    """The scheduler runs the check every minute: a breach (strictly after the due second)
    is announced by the first run after it, at most 60 s late."""
    from nestogy.tickets.tasks import check_sla

    p = personas
    (ticket,) = open_tickets(p, assignee=p.tech_a.user)
    with scope(company=p.company_a.pk):
        due = Ticket.objects.get(pk=ticket.pk).first_response_due_at
    announced = None
    tick = due.replace(second=0) - timedelta(minutes=2)
    with captured_events() as seen:
        while announced is None and tick < due + timedelta(minutes=5):
            with time_machine.travel(tick, tick=False):
                check_sla.call(p.company_a.pk)
            if any(e.type == "sla.breached" for e in seen):
                announced = tick
            tick += timedelta(minutes=1)
    assert announced is not None and timedelta(0) < announced - due <= timedelta(seconds=60)


def test_rerun_after_a_crash_fires_nothing_twice_and_loses_nothing(personas, monkeypatch):
    p = personas
    open_tickets(p, n=5)
    at = MON_9 + 4 * H
    real_emit = escalation.emit_many
    calls = []

    def crash_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker died")
        return real_emit(*args, **kwargs)

    monkeypatch.setattr(escalation, "emit_many", crash_on_second_batch)
    with pytest.raises(RuntimeError), captured_events() as first_run:
        check(p, at, batch_size=2)  # the first batch (2 tickets) commits, the second dies
    monkeypatch.setattr(escalation, "emit_many", real_emit)
    with captured_events() as second_run:
        report = check(p, at)
    assert report.checked == 3
    fired = [(e.data["ticket_id"], e.data["clock"], e.data["level"])
             for e in first_run[:8] + second_run]
    assert len(fired) == len(set(fired)) == 5 * 4  # each level once, none lost
    with scopes_disabled():
        assert Escalation.objects.count() == 5 * 4
        # The crashed batch's audit entry rolled back with it: one per committed batch.
        audited = AuditEntry.objects.filter(action="sla.levels_fired")
        assert sum(e.data["tickets"] for e in audited) == 5
        assert sum(e.data["warnings"] + e.data["breaches"] + e.data["escalations"]
                   for e in audited) == 5 * 4
        assert PriorityChange.objects.filter(to_priority="critical").count() == 5


def test_command_and_api(personas):
    p = personas
    open_tickets(p, n=2)
    out = StringIO()
    with time_machine.travel(MON_9 + 4 * H, tick=False):
        call_command("check_sla_breaches", "--dry-run", "--json", stdout=out)
        data = json.loads(out.getvalue())
        assert data["dry_run"] is True and data["breaches"] == 2
        api = p.manager_a.api.post("/tickets/escalations/check", {"dry_run": True})
        assert api.status_code == 200 and api.data["breaches"] == 2
        out = StringIO()
        call_command("check_sla_breaches", stdout=out)
        assert "Fired: 4 warnings, 2 breaches, 2 escalations" in out.getvalue()
        again = p.manager_a.api.post("/tickets/escalations/check", {"dry_run": False})
        assert again.data["findings"] == []
    open_tickets(p, n=1)
    with time_machine.travel(MON_9 + 4 * H, tick=False):
        by_api = p.manager_a.api.post("/tickets/escalations/check", {"dry_run": False})
    assert by_api.data["breaches"] == 1
    with scopes_disabled():
        assert set(Escalation.objects.values_list("fired_by", flat=True)) == {
            "system", "manager@alpha.test"}
        by_manager = AuditEntry.objects.get(action="sla.levels_fired", actor=p.manager_a.user)
        assert by_manager.data["tickets"] == 1 and by_manager.data["breaches"] == 1
    assert p.tech_a.api.post("/tickets/escalations/check", {}).status_code == 403


def test_scheduled_task_is_registered():
    from nestogy.ops.schedule import ENTRIES
    from nestogy.tickets.tasks import check_sla_breaches

    # Every minute, so a threshold is announced within one scheduler tick.
    assert any(e.task is check_sla_breaches and e.cron == "* * * * *" for e in ENTRIES)


SNAPSHOT = ("priority", "sla_state", "first_response_state", "resolution_state",
            "first_response_due_at", "resolution_due_at", "first_response_breached",
            "first_response_breached_by", "resolution_breached", "resolution_breached_by",
            "paused_since", "next_check_at")


def _snapshot():
    with scopes_disabled():
        rows = list(Ticket.objects.order_by("pk").values_list("pk", *SNAPSHOT, "sla_plan"))
        fired = sorted(Escalation.objects.values_list("ticket_id", "clock", "level",
                                                      "percent", "fired_at", "actions"),
                       key=repr)
        raised = sorted(PriorityChange.objects.values_list("ticket_id", "from_priority",
                                                           "to_priority", "at"), key=repr)
    # A plan may hold priorities no raise can reach any more; the one in force must match.
    tickets = [(*row[:-1], row[-1] and row[-1]["p"].get(row[1])) for row in rows]
    return tickets, fired, raised


def test_advancing_plans_gives_what_replaying_history_gives(personas, monkeypatch):
    """The checker compares each ticket's stored thresholds with the time instead of
    replaying its history. At every run of a four-day series, over tickets of every
    priority with replies, pauses, priority changes and resolutions in between, the plans
    give the same findings, stored clocks, fired levels (with their actions) and priority
    raises as replaying the history (the path for tickets without a plan)."""
    import random

    from nestogy.tickets.actions import add_reply, change_priority, change_status

    p = personas
    rng = random.Random(11)
    priorities = ["low", "medium", "high", "critical"]
    with scope(company=p.company_a.pk):
        tickets = []
        for i in range(16):
            with time_machine.travel(MON_9 + timedelta(minutes=rng.randint(0, 25)),
                                     tick=False):
                tickets.append(create_ticket(p.company_a, {
                    "client": p.client_a, "subject": f"Mixed {i}",
                    "priority": priorities[i % 4],
                    "assignee": p.tech_a.user if i % 3 else None}))
    moments = sorted(MON_9 + timedelta(minutes=rng.randint(30, 4 * 24 * 60))
                     for _ in range(70))
    actions = {rng.randrange(len(moments)): rng.choice(
        ["reply", "note", "wait", "resume", "priority", "resolve", "reopen"])
        for _ in range(25)}
    compared = fired_total = raised_total = 0
    replayed_tickets = []
    real_replay = escalation._replay
    monkeypatch.setattr(escalation, "_replay", lambda tickets, *args: (
        replayed_tickets.extend(tickets), real_replay(tickets, *args)))
    for index, at in enumerate(moments):
        if index in actions:  # half a minute before the run
            with scope(company=p.company_a.pk), \
                    time_machine.travel(at - timedelta(seconds=30), tick=False):
                ticket = Ticket.objects.get(pk=rng.choice(tickets).pk)
                kind = actions[index]
                if kind in ("reply", "note"):
                    add_reply(ticket, "On it", public=kind == "reply", actor=p.tech_a.user)
                elif kind == "priority":
                    change_priority(ticket, rng.choice(priorities), actor=p.tech_a.user)
                elif ticket.status not in ("resolved", "closed"):
                    status = {"wait": "waiting_on_client", "resume": "in_progress",
                              "resolve": "resolved", "reopen": "open"}[kind]
                    if status != ticket.status:
                        change_status(ticket, status, actor=p.tech_a.user)
        with transaction.atomic():
            point = transaction.savepoint_create()
            with scopes_disabled():
                Ticket.objects.update(sla_plan=None)
            replayed = check(p, at)
            expected = _snapshot()
            transaction.savepoint_rollback(point)
        replayed_tickets.clear()
        advanced = check(p, at)
        plans_used = advanced.checked - len(replayed_tickets)
        assert advanced.as_dict() == replayed.as_dict(), at
        actual = _snapshot()
        # Tickets the run did not check kept no plan in the replayed copy: skip their plan.
        expected_tickets = [row if row[-1] is not None else row[:-1]
                            for row in expected[0]]
        actual_tickets = [row if exp[-1] is not None else row[:-1]
                          for row, exp in zip(actual[0], expected[0], strict=True)]
        assert actual_tickets == expected_tickets, at
        assert actual[1:] == expected[1:], at
        compared += plans_used
        fired_total += len(advanced.findings)
        raised_total += sum(1 for f in advanced.findings if "raised_priority" in f.actions)
    # The series exercised the plans (tickets advanced without their history), not only
    # quiet moments.
    assert compared > 20 and fired_total > 50 and raised_total > 5, \
        (compared, fired_total, raised_total)
