"""Time on tickets in a real browser: the timer ticks, stops into an entry, and the entry
shows on the ticket and under My time."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from nestogy.core.timeutil import today_in
from nestogy.timesheets import actions
from tests.conftest import PASSWORD
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import opened_ago, ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _earlier_this_week(p, printer, vpn, remote, onsite):
    """A few entries of the technician's week so far (and last week), for My time."""
    tz = p.company_a.timezone
    zone = ZoneInfo(tz)
    today = today_in(tz)
    plan = [(0, time(9, 0), "1h 30m", printer, remote, True, "Replaced the fuser unit"),
            (0, time(11, 0), "45m", vpn, remote, True, "Reset the VPN profile"),
            (1, time(8, 30), "2h", vpn, onsite, True, "On site: new firewall rules"),
            (1, time(14, 0), "30m", printer, remote, False, "Warranty rework"),
            (2, time(10, 15), "1h", vpn, remote, True, "Called the user back")]
    with scope(company=p.company_a.pk):
        for back, at, duration, on, kind, billable, note in plan:
            day = today - timedelta(days=back + 1)
            started = datetime.combine(day, at, zone)
            if started < on.opened_at:
                continue
            actions.add_entry(p.company_a, p.tech_a.user, {
                "ticket": on, "started_at": started, "duration": duration,
                "work_type": kind, "billable": billable, "note": note})


def test_technician_times_a_ticket_and_finds_it_in_my_time(personas, page, screenshot,
                                                           csp_violations):
    p = personas
    printer = opened_ago(p.company_a, p.client_a, 80, subject="Printer offline at reception",
                         contact=p.contact_a, assignee=p.tech_a.user)
    vpn = opened_ago(p.company_a, p.client_a2, 90, subject="VPN drops every hour",
                     priority="high", assignee=p.tech_a.user)
    theirs = ticket(p.company_b, p.client_b, "Bravo ticket")
    with scope(company=p.company_a.pk):
        remote = actions.create_work_type(p.company_a, {"name": "Remote support"})
        onsite = actions.create_work_type(p.company_a, {"name": "On-site"})
        actions.create_work_type(p.company_a, {"name": "Warranty", "billable": False})
    _earlier_this_week(p, printer, vpn, remote, onsite)

    page.goto("/app/login/")
    page.get_by_label("Email").fill("tech1@alpha.test")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Printer offline at reception")).click()

    panel = page.get_by_role("region", name="Time", exact=True)
    expect(panel).to_contain_text("Logged on this ticket")

    # a manual entry with a typed duration, in the company's time zone
    panel.get_by_text("Log time manually").click()
    form = panel.get_by_role("form", name="Log time")
    local_now = datetime.now(ZoneInfo(p.company_a.timezone))
    midnight = datetime.combine(local_now.date(), time(0, 0), local_now.tzinfo)
    start = max(local_now - timedelta(hours=2), midnight)  # earlier today, never ahead
    form.get_by_label("Date").fill(local_now.date().isoformat())
    form.get_by_label("Start time").fill(start.strftime("%H:%M"))
    form.get_by_label("Duration").fill("1h 15m")
    form.get_by_label("Work type").select_option(label="On-site")
    form.get_by_label("Note").fill("Checked the toner supply")
    with page.expect_navigation():
        form.get_by_role("button", name="Add time").click()
    expect(page.get_by_role("status")).to_contain_text("1h 15m added to #1.")

    # choosing a non-billable work type clears the Billable box (time.js)
    panel.get_by_label("Work type").first.select_option(label="Warranty")
    expect(panel.get_by_label("Billable").first).not_to_be_checked()
    panel.get_by_label("Work type").first.select_option(label="Remote support")
    expect(panel.get_by_label("Billable").first).to_be_checked()
    with page.expect_navigation():
        panel.get_by_role("button", name="Start timer").click()
    expect(page.get_by_role("status")).to_contain_text("Timer started on #1.")
    face = panel.locator(".timer-face [data-elapsed]")
    expect(face).to_have_text(re.compile(r"^0:00:0\d$"))
    first = face.inner_text()
    page.wait_for_timeout(2200)
    assert face.inner_text() != first  # the timer ticks while the page is open
    expect(page.locator(".nav-timer")).to_be_visible()  # and in the top bar
    panel.get_by_label("Note").first.fill("Cleared the jam, printed a test page")
    assert axe_violations(page) == []
    page.locator("#time").screenshot(path=str(_shot_path("workspace-ticket-time")))
    with page.expect_navigation():
        panel.get_by_role("button", name="Stop timer and save").click()
    expect(page.get_by_role("status")).to_contain_text("Timer stopped:")
    expect(page.get_by_role("status")).to_contain_text("recorded on #1.")
    entries = panel.locator(".time-entry")
    expect(entries.last).to_contain_text("Cleared the jam, printed a test page")
    expect(entries.last).to_contain_text("Billable")
    expect(panel.locator(".time-totals")).to_contain_text("Total")
    expect(page.locator(".nav-timer")).to_have_count(0)
    assert axe_violations(page) == []

    with page.expect_navigation():
        page.get_by_role("navigation", name="Workspace").get_by_role(
            "link", name="My time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My time")
    today = page.locator(".time-day.today")
    expect(today).to_contain_text("Cleared the jam, printed a test page")
    expect(today).to_contain_text("Checked the toner supply")
    expect(today.get_by_role("link", name=re.compile("Printer offline at reception")).first
           ).to_be_visible()
    expect(page.locator('[data-total="all"]')).not_to_have_text("0m")
    assert axe_violations(page) == []
    screenshot(page, "workspace-time")

    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Previous week")).click()
    expect(page.locator(".period-title")).to_contain_text("Week of")

    response = page.goto(f"/app/tickets/{theirs.public_id}/")
    assert response.status == 404
    assert csp_violations == []


def _shot_path(name: str):
    from tests.browser import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
