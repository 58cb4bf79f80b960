"""Time on tickets in the workspace: the ticket's Time panel, editing entries and My time
(Django test client)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.timesheets import actions
from nestogy.timesheets.models import RunningTimer, TimeEntry
from tests.workspace.helpers import signed_in, ticket

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
# Friday 6 March 2026, 13:00 in New York (Alpha IT's time zone)
NOW = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)


@pytest.fixture
def desk(personas):
    p = personas
    p.ticket = ticket(p.company_a, p.client_a, "Printer offline", assignee=p.tech_a.user)
    with scope(company=p.company_a.pk):
        p.remote = actions.create_work_type(p.company_a, {"name": "Remote support"})
        p.warranty = actions.create_work_type(p.company_a, {"name": "Warranty",
                                                            "billable": False})
    return p


def entries(company):
    with scope(company=company.pk):
        return list(TimeEntry.objects.order_by("id"))


def add(p, user, started, duration, **extra):
    with scope(company=p.company_a.pk):
        return actions.add_entry(p.company_a, user, {"ticket": extra.pop("on", p.ticket),
                                                     "started_at": started,
                                                     "duration": duration, **extra})


@pytest.mark.parametrize("role", ROLES)
def test_every_time_view_asks_the_role_matrix(desk, role):
    p = desk
    persona = getattr(p, role)
    own = add(p, persona.user, NOW - timedelta(hours=3), "30m") if allowed(
        persona.role, "time.own") else add(p, p.tech_a.user, NOW - timedelta(hours=3), "30m")
    client = signed_in(persona.email)
    base = f"/app/tickets/{p.ticket.public_id}"
    cases = [
        ("get", "/app/time/", {}),
        ("get", f"/app/time/entries/{own.public_id}/", {}),
        ("post", f"/app/time/entries/{own.public_id}/", {
            "date": "2026-03-06", "start": "09:00", "duration": "45m", "work_type": "",
            "note": "edited"}),
        ("post", f"{base}/time/start", {"work_type": p.remote.public_id, "billable": "on"}),
        ("post", "/app/time/timer/stop", {"stop-work_type": "", "stop-note": ""}),
        ("post", f"{base}/time/start", {"work_type": ""}),
        ("post", "/app/time/timer/discard", {}),
        ("post", f"{base}/time/add", {"date": "2026-03-06", "start": "08:00",
                                      "duration": "15m", "work_type": ""}),
        ("post", f"/app/time/entries/{own.public_id}/delete", {}),
    ]
    with time_machine.travel(NOW, tick=False):
        for method, url, data in cases:
            response = getattr(client, method)(url, data)
            if allowed(persona.role, "time.own"):
                assert response.status_code in (200, 302), (role, url, response.status_code)
            else:
                assert response.status_code == 403, (role, url, response.status_code)
                assert "does not allow this page" in response.content.decode()
        page = client.get("/app/time/")
    mine = [e for e in entries(p.company_a) if e.user_id == persona.user.pk]
    if allowed(persona.role, "time.own"):
        # the timer's entry and the manual one remain; the edited one was deleted
        assert len(mine) == 2 and {e.source for e in mine} == {"timer", "manual"}
        assert 'href="/app/time/"' in page.content.decode()
    else:
        assert mine == [] and len(entries(p.company_a)) == 1
        queue = signed_in(persona.email).get("/app/time/")
        assert queue.status_code == 403


def test_billing_sees_no_time_link_and_technicians_do(desk):
    assert 'href="/app/time/"' not in signed_in("billing@alpha.test").get(
        "/app/time/").content.decode()
    assert ">My time<" in signed_in("tech1@alpha.test").get("/app/").content.decode()


def test_timer_start_stop_from_the_ticket_page(desk):
    p = desk
    client = signed_in("tech1@alpha.test")
    base = f"/app/tickets/{p.ticket.public_id}"
    page = client.get(base + "/").content.decode()
    assert "Start timer" in page and "No time logged yet." in page
    with time_machine.travel(NOW, tick=False):
        response = client.post(base + "/time/start", {"work_type": p.warranty.public_id})
        assert response.status_code == 302 and response["Location"] == base + "/#time"
        page = client.get(base + "/").content.decode()
    assert f"Timer started on #{p.ticket.number}." in page
    assert "Stop timer and save" in page and 'data-elapsed="0"' in page
    with time_machine.travel(NOW + timedelta(minutes=12, seconds=30), tick=False):
        page = client.get(base + "/").content.decode()
        assert 'data-elapsed="750"' in page and "0:12:30" in page  # also in the top bar
        response = client.post("/app/time/timer/stop", {
            "stop-work_type": p.warranty.public_id, "stop-note": "Cleared the queue",
            "next": base + "/#time"})
    assert response["Location"] == base + "/#time"
    page = client.get(base + "/").content.decode()
    assert f"Timer stopped: 12m recorded on #{p.ticket.number}." in page
    assert "Cleared the queue" in page and "Total 12m" in page
    assert "billable 0m" in page  # warranty work is not billable
    [entry] = entries(p.company_a)
    assert (entry.duration_seconds, entry.billable, entry.user_id) == (750, False,
                                                                       p.tech_a.user.pk)


def test_starting_a_second_timer_says_the_first_was_recorded(desk):
    p = desk
    other = ticket(p.company_a, p.client_a2, "VPN slow")
    client = signed_in("tech1@alpha.test")
    with time_machine.travel(NOW, tick=False):
        client.post(f"/app/tickets/{p.ticket.public_id}/time/start", {"billable": "on"})
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        page = client.get(f"/app/tickets/{other.public_id}/").content.decode()
        assert "Your timer is running on" in page and "Starting a timer here stops" in page
        response = client.post(f"/app/tickets/{other.public_id}/time/start",
                               {"billable": "on"}, follow=True)
    body = response.content.decode()
    assert (f"Timer started on #{other.number}. Your previous timer was stopped: 20m "
            f"recorded on #{p.ticket.number}.") in body
    with scope(company=p.company_a.pk):
        assert RunningTimer.objects.get().ticket_id == other.pk
        assert TimeEntry.objects.get().duration_seconds == 1200


def test_manual_entry_in_the_companys_time_zone(desk):
    p = desk
    client = signed_in("tech1@alpha.test")
    with time_machine.travel(NOW, tick=False):
        page = client.get(f"/app/tickets/{p.ticket.public_id}/").content.decode()
        assert 'value="2026-03-06"' in page and 'value="13:00"' in page  # New York now
        assert "Date and start time in America/New_York." in page
        response = client.post(f"/app/tickets/{p.ticket.public_id}/time/add", {
            "date": "2026-03-05", "start": "23:30", "duration": "1.5h",
            "work_type": p.remote.public_id, "billable": "on", "note": "Late patching"})
    assert response.status_code == 302
    [entry] = entries(p.company_a)
    assert entry.started_at == datetime(2026, 3, 6, 4, 30, tzinfo=UTC)
    assert (entry.duration_seconds, entry.billable, entry.note) == (5400, True,
                                                                    "Late patching")
    page = client.get(f"/app/tickets/{p.ticket.public_id}/").content.decode()
    assert "1h 30m added to #" in page and "Thu 5 Mar, 23:30" in page


@pytest.mark.parametrize(("data", "messages"), [
    ({"duration": "a while"}, ["Duration: is not a duration; write it like 1h 30m"]),
    ({"duration": "30h"}, ["Duration: must be at most 24 hours"]),
    ({"duration": ""}, ["Duration: This field is required."]),
    ({"date": "2026-13-40", "start": "25:00"}, ["Date: Enter a valid date.",
                                                "Start time: Enter a valid time."]),
    ({"date": "2026-03-07"}, ["Start time: must not be in the future"]),
    ({"date": "0001-01-01"}, ["Date: must be between 2000 and 2099."]),
    ({"date": "2026-03-08", "start": "02:30"},  # New York springs forward at 02:00
     ["Start time: does not exist on that day in America/New_York"]),
    ({"work_type": "wtyp_nope"}, ["Work type: Select a valid choice."]),
    ({"note": "x" * 4001}, ["Note: Ensure this value has at most 4000 characters"]),
])
def test_bad_manual_entry_names_the_field_and_writes_nothing(desk, data, messages):
    p = desk
    client = signed_in("tech1@alpha.test")
    good = {"date": "2026-03-06", "start": "09:00", "duration": "30m",
            "work_type": p.remote.public_id, "billable": "on", "note": "x"}
    before = AuditEntry.objects.with_scopes_disabled().count()
    with time_machine.travel(NOW + timedelta(days=3), tick=False) if data.get(
            "date") == "2026-03-08" else time_machine.travel(NOW, tick=False):
        response = client.post(f"/app/tickets/{p.ticket.public_id}/time/add", {**good, **data})
    assert response.status_code == 400
    body = response.content.decode()
    for message in messages:
        assert message in body
    assert "<details class=\"log-time\" open>" in body  # the form is shown with its errors
    assert entries(p.company_a) == []
    assert AuditEntry.objects.with_scopes_disabled().count() == before


def test_bad_timer_input_names_the_field_and_starts_nothing(desk):
    p = desk
    client = signed_in("tech1@alpha.test")
    response = client.post(f"/app/tickets/{p.ticket.public_id}/time/start",
                           {"work_type": "wtyp_nope", "note": "n"})
    assert response.status_code == 400
    assert "Work type: Select a valid choice." in response.content.decode()
    with scope(company=p.company_a.pk):
        assert not RunningTimer.objects.exists()
    stop = client.post("/app/time/timer/stop", {}, follow=True)
    assert "Timer: no timer is running." in stop.content.decode()


def test_editing_and_deleting_own_draft_entries(desk):
    p = desk
    client = signed_in("tech1@alpha.test")
    with time_machine.travel(NOW, tick=False):
        entry = add(p, p.tech_a.user, datetime(2026, 3, 6, 14, 0, tzinfo=UTC), "30m")
        theirs = add(p, p.tech2_a.user, datetime(2026, 3, 6, 15, 0, tzinfo=UTC), "1h")
        url = f"/app/time/entries/{entry.public_id}/"
        form = client.get(url).content.decode()
        assert 'value="2026-03-06"' in form and 'value="09:00"' in form
        assert 'value="30m"' in form
        bad = client.post(url, {"date": "2026-03-06", "start": "09:00", "duration": "0m",
                                "work_type": ""})
        assert bad.status_code == 400
        assert "Duration: must be longer than zero" in bad.content.decode()
        saved = client.post(url, {"date": "2026-03-06", "start": "08:15", "duration": "2h",
                                  "work_type": p.remote.public_id, "note": "Rebuilt",
                                  "next": "/app/time/"})
        assert saved.status_code == 302 and saved["Location"] == "/app/time/"
        # someone else's entry answers 404, to view, change and delete
        assert client.get(f"/app/time/entries/{theirs.public_id}/").status_code == 404
        assert client.post(f"/app/time/entries/{theirs.public_id}/delete").status_code == 404
    with scope(company=p.company_a.pk):
        entry.refresh_from_db()
        assert entry.started_at == datetime(2026, 3, 6, 13, 15, tzinfo=UTC)
        assert (entry.duration_seconds, entry.note, entry.billable) == (7200, "Rebuilt",
                                                                        False)
        TimeEntry.objects.filter(pk=entry.pk).update(status="submitted")
    locked = client.post(url, {"date": "2026-03-06", "start": "08:15", "duration": "3h",
                               "work_type": ""})
    assert locked.status_code == 400
    assert "only draft entries can be changed" in locked.content.decode()
    refused = client.post(url + "delete", {"next": "/app/time/"}, follow=True)
    assert "only draft entries can be changed" in refused.content.decode()
    with scope(company=p.company_a.pk):
        TimeEntry.objects.filter(pk=entry.pk).update(status="draft")
    client.post(url + "delete", {"next": "/app/time/"})
    assert [e.pk for e in entries(p.company_a)] == [theirs.pk]


@pytest.mark.parametrize("role", ["owner_a", "tech_a"])
def test_another_companys_ticket_and_entries_are_404(desk, role):
    p = desk
    theirs = ticket(p.company_b, p.client_b, "Bravo secret")
    with scope(company=p.company_b.pk):
        entry = actions.add_entry(p.company_b, p.tech_b.user, {
            "ticket": theirs, "started_at": NOW - timedelta(hours=2), "duration": "1h",
            "note": "Bravo note"})
    client = signed_in(getattr(p, role).email)
    base = f"/app/tickets/{theirs.public_id}"
    assert client.post(base + "/time/start", {}).status_code == 404
    assert client.post(base + "/time/add", {"date": "2026-03-06", "start": "09:00",
                                            "duration": "1h"}).status_code == 404
    assert client.get(f"/app/time/entries/{entry.public_id}/").status_code == 404
    assert client.post(f"/app/time/entries/{entry.public_id}/",
                       {"duration": "2h"}).status_code == 404
    assert client.post(f"/app/time/entries/{entry.public_id}/delete").status_code == 404
    assert client.get(f"/app/time/?user={p.tech_b.user.public_id}").status_code == 400
    with scopes_disabled():
        assert TimeEntry.objects.get(pk=entry.pk).duration_seconds == 3600
        assert not RunningTimer.objects.exists()
        assert TimeEntry.objects.count() == 1


def test_time_posts_need_the_csrf_token(desk):
    p = desk
    client = signed_in("tech1@alpha.test", csrf=True)
    response = client.post(f"/app/tickets/{p.ticket.public_id}/time/start", {})
    assert response.status_code == 403
    with scope(company=p.company_a.pk):
        assert not RunningTimer.objects.exists()


def test_every_time_field_is_escaped(desk):
    p = desk
    with scope(company=p.company_a.pk):
        actions.update_work_type(p.remote, {"name": XSS[:100]})
    add(p, p.tech_a.user, NOW - timedelta(hours=1), "30m", note=XSS, work_type=p.remote)
    evil = ticket(p.company_a, p.client_a, XSS)
    client = signed_in("tech1@alpha.test")
    with time_machine.travel(NOW, tick=False):
        client.post(f"/app/tickets/{evil.public_id}/time/start", {"note": XSS})
        entry = entries(p.company_a)[0]
        pages = [f"/app/tickets/{p.ticket.public_id}/", "/app/time/",
                 f"/app/time/entries/{entry.public_id}/", f"/app/tickets/{evil.public_id}/"]
        for url in pages:
            body = client.get(url).content.decode()
            assert "<script>alert" not in body and "<img src=x" not in body, url
            assert "&lt;script&gt;alert" in body, url
        body = signed_in("manager@alpha.test").get(
            f"/app/time/?user={p.tech_a.user.public_id}").content.decode()
        assert "<script>alert" not in body and "&lt;script&gt;alert" in body


def test_my_time_week_and_day_in_the_companys_time_zone(desk):
    """Alpha IT is in New York: an entry at 23:30 local on Sunday (04:30 UTC Monday) is
    Sunday's, in the previous week; one at 00:10 local on Monday is Monday's."""
    p = desk
    tech = p.tech_a.user
    with time_machine.travel(NOW, tick=False):
        add(p, tech, datetime(2026, 3, 2, 4, 30, tzinfo=UTC), "1h", note="Sunday night")
        add(p, tech, datetime(2026, 3, 2, 5, 10, tzinfo=UTC), "20m", billable=False,
            note="Monday early")
        add(p, tech, datetime(2026, 3, 6, 4, 45, tzinfo=UTC), "45m", note="Thursday late")
        add(p, tech, datetime(2026, 3, 6, 15, 0, tzinfo=UTC), "1h 30m", note="Friday")
        add(p, p.tech2_a.user, datetime(2026, 3, 6, 15, 0, tzinfo=UTC), "4h",
            note="Not mine")
        client = signed_in("tech1@alpha.test")
        body = client.get("/app/time/").content.decode()
    assert "Week of Mon 2 Mar – Sun 8 Mar 2026" in body
    assert "Sunday night" not in body and "Not mine" not in body
    assert 'data-total="all">2h 35m<' in body
    assert 'data-total="billable">2h 15m<' in body
    assert 'data-total="non_billable">20m<' in body
    monday = body.split('data-day="2026-03-02"')[1].split("</section>")[0]
    assert "Monday early" in monday and "data-day-total>20m<" in monday
    thursday = body.split('data-day="2026-03-05"')[1].split("</section>")[0]
    assert "Thursday late" in thursday and "23:45" in thursday
    friday = body.split('data-day="2026-03-06"')[1].split("</section>")[0]
    assert "Today" in friday and "data-day-total>1h 30m<" in friday
    assert f'href="/app/tickets/{p.ticket.public_id}/"' in friday
    with time_machine.travel(NOW, tick=False):
        previous = client.get("/app/time/?period=week&date=2026-02-23").content.decode()
        day = client.get("/app/time/?period=day&date=2026-03-01").content.decode()
    assert "Sunday night" in previous and 'data-total="all">1h<' in previous
    assert "Sunday 1 March 2026" in day and "Sunday night" in day
    assert "Monday early" not in day
    assert 'href="/app/time/?period=day&amp;date=2026-03-02"' in day  # next day


def test_my_time_shows_the_running_timer_with_a_stop_button(desk):
    p = desk
    client = signed_in("tech1@alpha.test")
    with time_machine.travel(NOW, tick=False):
        client.post(f"/app/tickets/{p.ticket.public_id}/time/start",
                    {"work_type": p.remote.public_id, "billable": "on", "note": "On it"})
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        body = client.get("/app/time/").content.decode()
        assert "Timer running" in body and "0:05:00" in body
        assert f"#{p.ticket.number} Printer offline" in body
        response = client.post("/app/time/timer/stop", {
            "stop-work_type": p.remote.public_id, "stop-billable": "on",
            "stop-note": "On it", "next": "/app/time/"}, follow=True)
    body = response.content.decode()
    assert "Timer stopped: 5m recorded" in body and "On it" in body
    assert 'data-total="billable">5m<' in body


def test_bad_my_time_parameters_and_who_may_see_others(desk):
    p = desk
    add(p, p.tech_a.user, NOW - timedelta(hours=2), "1h", note="Tech1 work")
    tech = signed_in("tech2@alpha.test")
    bad = tech.get("/app/time/?period=month&date=yesterday")
    assert bad.status_code == 400
    assert "Show: Select a valid choice." in bad.content.decode()
    assert "Date: Enter a valid date." in bad.content.decode()
    far = tech.get("/app/time/?date=0001-01-01")
    assert far.status_code == 400 and "Date: must be between 2000 and 2099." in \
        far.content.decode()
    # a technician cannot look at a colleague's time (time.view_all)
    other = tech.get(f"/app/time/?user={p.tech_a.user.public_id}")
    assert other.status_code == 400 and "Tech1 work" not in other.content.decode()
    manager = signed_in("manager@alpha.test")
    with time_machine.travel(NOW, tick=False):
        body = manager.get(f"/app/time/?user={p.tech_a.user.public_id}").content.decode()
    assert "Time of Tech1" in body and "Tech1 work" in body
    assert "/app/time/entries/" not in body  # read-only for someone else's time


def test_my_time_and_the_time_panel_take_the_same_queries_for_few_or_many_entries(desk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    p = desk
    tech = p.tech_a.user
    other = ticket(p.company_a, p.client_a2, "VPN drops", assignee=tech)

    def count(client, url):
        client.get(url)  # warm caches (session, company)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    with time_machine.travel(NOW, tick=False):
        add(p, tech, NOW - timedelta(hours=3), "1h", work_type=p.remote)
        client = signed_in("tech1@alpha.test")
        few = (count(client, "/app/time/"), count(client, f"/app/tickets/{p.ticket.public_id}/"))
        for i in range(12):
            add(p, tech, NOW - timedelta(days=i % 4, hours=4 + i % 3), "15m",
                on=other if i % 2 else p.ticket,
                work_type=p.warranty if i % 3 else p.remote, note=f"Step {i}")
        many = (count(client, "/app/time/"),
                count(client, f"/app/tickets/{p.ticket.public_id}/"))
    assert many == few
