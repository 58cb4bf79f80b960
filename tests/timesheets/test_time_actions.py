"""Time entries and the timer: the actions and queries under the workspace's Time panel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django_scopes import scope

from nestogy.audit.models import AuditEntry
from nestogy.core.errors import Conflict, NotFound, ValidationError
from nestogy.tickets.actions import create_ticket
from nestogy.timesheets import actions, queries
from nestogy.timesheets.durations import format_duration, parse_duration
from nestogy.timesheets.models import EntryStatus, RunningTimer, TimeEntry, WorkType

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York


@pytest.mark.parametrize(("text", "seconds"), [
    ("1h 30m", 5400), ("90m", 5400), ("1.5h", 5400), ("1,5 h", 5400), ("1:30", 5400),
    ("90", 5400), ("45 min", 2700), ("2 hours", 7200), ("1h", 3600), ("0.1h", 360),
    ("1h 2m 3s", 3723), ("24h", 86400), ("1:00:05", 3605), ("  15M ", 900),
    ("1h30m", 5400), ("1 hour 30 minutes", 5400),
])
def test_durations_as_people_type_them(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("text", "message"), [
    ("", "is required"), ("abc", "is not a duration"), ("1x", "is not a duration"),
    ("1h 1h", "is not a duration"), ("0m", "longer than zero"), ("25h", "at most 24 hours"),
    ("-5m", "is not a duration"), ("1h and 5m", "is not a duration"), (None, "must be"),
])
def test_bad_durations_name_the_field(text, message):
    with pytest.raises(ValidationError) as caught:
        parse_duration(text, "duration")
    assert caught.value.field == "duration" and message in caught.value.message


def test_format_duration_reads_back():
    for seconds in (60, 5400, 3600, 45 * 60, 7 * 3600 + 5 * 60):
        assert parse_duration(format_duration(seconds)) == seconds
    assert format_duration(95) == "1m 35s" and format_duration(30) == "30s"


@pytest.fixture
def world(in_a):
    p = in_a
    p.ticket = create_ticket(p.company_a, {"client": p.client_a, "subject": "Printer"})
    p.other = create_ticket(p.company_a, {"client": p.client_a2, "subject": "VPN"})
    p.remote = actions.create_work_type(p.company_a, {"name": "Remote support"})
    p.internal = actions.create_work_type(p.company_a, {"name": "Warranty",
                                                        "billable": False})
    return p


def test_timer_records_the_elapsed_seconds_as_a_draft_entry(world):
    p = world
    tech = p.tech_a.user
    with time_machine.travel(T0, tick=False):
        started = actions.start_timer(p.company_a, tech, ticket=p.ticket,
                                      work_type=p.internal, actor=tech)
    assert started.stopped is None and started.timer.billable is False
    assert not TimeEntry.objects.exists()  # a running timer is not an entry yet
    with time_machine.travel(T0 + timedelta(minutes=42, seconds=17), tick=False):
        stop = actions.stop_timer(tech, actor=tech, note="Replaced the fuser")
    entry = stop.entry
    assert (entry.duration_seconds, entry.started_at, entry.client_id, entry.ticket_id) == (
        42 * 60 + 17, T0, p.client_a.pk, p.ticket.pk)
    assert (entry.status, entry.source, entry.billable, entry.work_type) == (
        EntryStatus.DRAFT, "timer", False, p.internal)
    assert entry.note == "Replaced the fuser" and not stop.capped
    assert stop.message == f"42m recorded on #{p.ticket.number}."
    assert not RunningTimer.objects.exists()
    actions_logged = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions_logged[-2:] == ["time.timer_started", "time.timer_stopped"]


def test_a_second_timer_stops_the_first_and_says_so(world):
    p = world
    tech = p.tech_a.user
    with time_machine.travel(T0, tick=False):
        actions.start_timer(p.company_a, tech, ticket=p.ticket, actor=tech)
    with time_machine.travel(T0 + timedelta(minutes=25), tick=False):
        second = actions.start_timer(p.company_a, tech, ticket=p.other, actor=tech)
    assert second.stopped is not None
    assert second.stopped.entry.ticket_id == p.ticket.pk
    assert second.stopped.entry.duration_seconds == 25 * 60
    assert "25m recorded on #" in second.stopped.message
    timer = RunningTimer.objects.get()
    assert timer.ticket_id == p.other.pk and timer.client_id == p.client_a2.pk
    # the other technician's timer is theirs
    actions.start_timer(p.company_a, p.tech2_a.user, ticket=p.ticket)
    assert RunningTimer.objects.count() == 2


def test_a_forgotten_timer_is_capped_at_24_hours_and_says_so(world):
    p = world
    tech = p.tech_a.user
    with time_machine.travel(T0, tick=False):
        actions.start_timer(p.company_a, tech, ticket=p.ticket)
    with time_machine.travel(T0 + timedelta(hours=30), tick=False):
        stop = actions.stop_timer(tech)
    assert stop.capped and stop.entry.duration_seconds == 86400
    assert "ran 30 hours and was capped at 24 hours" in stop.message


def test_stop_or_discard_without_a_timer_and_discard_writes_no_time(world):
    p = world
    tech = p.tech_a.user
    with pytest.raises(Conflict):
        actions.stop_timer(tech)
    with pytest.raises(Conflict):
        actions.discard_timer(tech)
    actions.start_timer(p.company_a, tech, ticket=p.ticket)
    actions.discard_timer(tech, actor=tech)
    assert not RunningTimer.objects.exists() and not TimeEntry.objects.exists()
    assert AuditEntry.objects.filter(action="time.timer_discarded").count() == 1


def test_manual_entry_takes_the_client_from_the_ticket_and_the_billable_default(world):
    p = world
    entry = actions.add_entry(p.company_a, p.tech_a.user, {
        "ticket": p.ticket, "started_at": T0, "duration": "1h 30m", "work_type": p.internal,
        "note": "Firmware"}, actor=p.tech_a.user)
    assert (entry.client, entry.duration_seconds, entry.billable, entry.source) == (
        p.client_a, 5400, False, "manual")
    client_work = actions.add_entry(p.company_a, p.tech_a.user, {
        "client": p.client_a2, "started_at": T0, "duration": 600,
        "work_type": p.remote.public_id})
    assert client_work.ticket is None and client_work.billable is True
    audit = AuditEntry.objects.get(action="time_entry.created", object_id=entry.public_id)
    assert audit.data["duration_seconds"] == 5400 and audit.data["billable"] is False


@pytest.mark.parametrize(("data", "field"), [
    ({"duration": "forever"}, "duration"),
    ({"duration": "0m"}, "duration"),
    ({"duration": "25h"}, "duration"),
    ({"duration": 0}, "duration"),
    ({"duration": 86401}, "duration"),
    ({"duration": 1.5}, "duration"),
    ({"started_at": "2026-03-02T09:00:00"}, "started_at"),  # no offset
    ({"started_at": datetime(2030, 1, 1, tzinfo=UTC)}, "started_at"),  # the future
    ({"work_type": "wtyp_unknown"}, "work_type_id"),
    ({"billable": "yes"}, "billable"),
    ({"note": "x" * 4001}, "note"),
    ({"ticket": None}, "client_id"),
    ({"colour": "red"}, "colour"),
])
def test_bad_input_names_the_field_and_writes_nothing(world, data, field):
    p = world
    good = {"ticket": p.ticket, "started_at": T0, "duration": "30m"}
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as caught:
        actions.add_entry(p.company_a, p.tech_a.user, {**good, **data})
    assert caught.value.field == field
    assert not TimeEntry.objects.exists() and AuditEntry.objects.count() == before


def test_client_must_be_the_tickets_and_inactive_types_are_refused(world):
    p = world
    with pytest.raises(ValidationError) as caught:
        actions.add_entry(p.company_a, p.tech_a.user, {"ticket": p.ticket,
                                                       "client": p.client_a2,
                                                       "started_at": T0, "duration": "5m"})
    assert caught.value.field == "client_id"
    actions.update_work_type(p.internal, {"is_active": False})
    with pytest.raises(ValidationError, match="no longer in use"):
        actions.start_timer(p.company_a, p.tech_a.user, ticket=p.ticket, work_type=p.internal)
    assert list(queries.work_types()) == [p.remote]


def test_work_type_names_are_unique_per_company(world, personas):
    p = world
    with pytest.raises(ValidationError) as caught:
        actions.create_work_type(p.company_a, {"name": "remote SUPPORT"})
    assert caught.value.field == "name"
    with scope(company=p.company_b.pk):
        actions.create_work_type(p.company_b, {"name": "Remote support"})  # another company
        assert WorkType.objects.count() == 1


def test_only_ones_own_draft_entries_change(world):
    p = world
    mine = actions.add_entry(p.company_a, p.tech_a.user, {
        "ticket": p.ticket, "started_at": T0, "duration": "30m"})
    updated = actions.update_entry(mine, {"duration": "45m", "note": "More work",
                                          "billable": False}, actor=p.tech_a.user)
    assert (updated.duration_seconds, updated.note, updated.billable) == (2700, "More work",
                                                                          False)
    log = AuditEntry.objects.get(action="time_entry.updated")
    assert log.data["duration_seconds"] == {"from": 1800, "to": 2700}
    with pytest.raises(NotFound):  # someone else's entry
        actions.update_entry(mine, {"note": "hijack"}, actor=p.tech2_a.user)
    with pytest.raises(NotFound):
        actions.delete_entry(mine, actor=p.manager_a.user)
    with pytest.raises(ValidationError) as caught:
        actions.update_entry(mine, {"ticket": p.other}, actor=p.tech_a.user)
    assert caught.value.field == "ticket"
    TimeEntry.objects.filter(pk=mine.pk).update(status=EntryStatus.APPROVED)
    with pytest.raises(Conflict, match="approved; only draft"):
        actions.update_entry(mine, {"note": "later"}, actor=p.tech_a.user)
    with pytest.raises(Conflict):
        actions.delete_entry(mine, actor=p.tech_a.user)
    TimeEntry.objects.filter(pk=mine.pk).update(status=EntryStatus.DRAFT)
    actions.delete_entry(mine, actor=p.tech_a.user)
    assert not TimeEntry.objects.exists()
    assert AuditEntry.objects.filter(action="time_entry.deleted").count() == 1


def test_another_companys_entries_are_not_found(world, personas):
    p = world
    with scope(company=p.company_b.pk):
        theirs_ticket = create_ticket(p.company_b, {"client": p.client_b, "subject": "B"})
        theirs = actions.add_entry(p.company_b, p.tech_b.user, {
            "ticket": theirs_ticket, "started_at": T0, "duration": "30m"})
    with pytest.raises(NotFound):
        queries.get_entry(theirs.public_id)
    assert queries.running_timer(p.tech_b.user) is None


def test_a_deleted_ticket_keeps_its_time_as_client_work(world):
    from nestogy.tickets.actions import delete_ticket

    p = world
    entry = actions.add_entry(p.company_a, p.tech_a.user, {
        "ticket": p.ticket, "started_at": T0, "duration": "30m"})
    delete_ticket(p.ticket)
    entry.refresh_from_db()
    assert entry.ticket_id is None and entry.client_id == p.client_a.pk


def test_days_and_weeks_are_the_companys_local_ones(world):
    """Alpha IT is in New York (UTC-5 in winter): 23:30 on Sunday 1 March local is 04:30
    UTC on Monday; it counts on Sunday, in the week before (weeks start on Monday)."""
    p = world
    tech = p.tech_a.user
    late_sunday = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)   # Sun 1 Mar 23:30 New York
    monday_early = datetime(2026, 3, 2, 5, 10, tzinfo=UTC)  # Mon 2 Mar 00:10 New York
    monday_night = datetime(2026, 3, 3, 4, 45, tzinfo=UTC)  # Mon 2 Mar 23:45 New York
    with time_machine.travel(datetime(2026, 3, 6, 18, 0, tzinfo=UTC), tick=False):
        for started, duration, billable in ((late_sunday, "1h", True),
                                            (monday_early, "20m", False),
                                            (monday_night, "30m", True)):
            actions.add_entry(p.company_a, tech, {"ticket": p.ticket, "started_at": started,
                                                  "duration": duration, "billable": billable})
        assert queries.week_start(p.company_a, date(2026, 3, 4)) == date(2026, 3, 2)
        week = queries.period(p.company_a, tech, date(2026, 3, 2), 7)
    monday = week.days[0]
    assert monday.day == date(2026, 3, 2) and len(monday.entries) == 2
    assert (monday.totals.seconds, monday.totals.billable_seconds) == (50 * 60, 30 * 60)
    assert (week.totals.seconds, week.totals.billable_seconds,
            week.totals.non_billable_seconds) == (50 * 60, 30 * 60, 20 * 60)
    previous = queries.period(p.company_a, tech, date(2026, 2, 23), 7)
    assert previous.days[-1].day == date(2026, 3, 1)
    assert previous.days[-1].totals.seconds == 3600 and previous.totals.seconds == 3600
    # a company whose weeks start on Sunday puts Sunday night in the same week as Monday
    p.company_a.set_setting("time.week_starts_on", "sunday")
    p.company_a.save()
    assert queries.week_start(p.company_a, date(2026, 3, 4)) == date(2026, 3, 1)
    sunday_week = queries.period(p.company_a, tech, date(2026, 3, 1), 7)
    assert sunday_week.totals.seconds == 3600 + 50 * 60


def test_work_types_in_the_admin_go_through_the_actions(personas):
    from django.test import Client as HttpClient

    from tests.conftest import PASSWORD
    from tests.support.admin_forms import operator

    p = personas
    http = operator()
    added = http.post("/admin/timesheets/worktype/add/", {
        "company": p.company_a.pk, "name": "On-site", "billable": "on", "is_active": "on"})
    assert added.status_code == 302
    again = http.post("/admin/timesheets/worktype/add/", {
        "company": p.company_a.pk, "name": "on-SITE", "is_active": "on"}, follow=True)
    assert "work_type_name_unique" in again.content.decode()  # refused, nothing written
    with scope(company=p.company_a.pk):
        [work_type] = WorkType.objects.all()
        assert (work_type.name, work_type.billable) == ("On-site", True)
        assert AuditEntry.objects.filter(action="work_type.created").count() == 1
    changed = http.post(f"/admin/timesheets/worktype/{work_type.pk}/change/",
                        {"company": p.company_a.pk, "name": "On site visit", "is_active": "on"})
    assert changed.status_code == 302
    with scope(company=p.company_a.pk):
        work_type.refresh_from_db()
        assert (work_type.name, work_type.billable) == ("On site visit", False)
    tech = HttpClient()
    assert tech.login(username="tech1@alpha.test", password=PASSWORD)
    assert tech.get("/admin/timesheets/worktype/").status_code == 302  # operators only
    assert tech.post("/admin/timesheets/worktype/add/", {"name": "X"}).status_code == 302
