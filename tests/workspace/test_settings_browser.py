"""Settings in a real browser: a manager opens Settings → Calendars → Business hours, widens
Monday's hours, saves, and the tester shows the new due time of a ticket arriving at a fixed
moment; then edits a target of the Standard SLA policy (Playwright + Debian's Chromium,
headless). axe on every page; the screenshots land in docs/screenshots/."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_axe_violations(page) -> None:
    found = axe_violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_manager_changes_mondays_hours_and_the_tester_follows(
        personas, page, screenshot, csp_violations):
    sign_in_page(page, "manager@alpha.test")
    with page.expect_navigation():
        page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
    no_axe_violations(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Business-hours calendars").click()
    expect(page.locator('[data-calendar="Business hours"] [data-hours]')) \
        .to_have_text("Mon–Fri 09:00–17:00")
    no_axe_violations(page)
    screenshot(page, "office-settings-calendars")
    with page.expect_navigation():
        page.get_by_role("link", name="Business hours").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Business hours")

    # Before: a medium ticket arriving Monday 2 February 2026 16:00 has 1h left that day.
    page.get_by_label("Ticket arrives at").fill("2026-02-02T16:00")
    page.get_by_label("Priority").select_option(label="Medium")
    with page.expect_navigation():
        page.get_by_role("button", name="Show the due times").click()
    expect(page.locator('[data-due="first_response"]')).to_have_text("Tue 3 Feb 2026, 12:00 EST")
    no_axe_violations(page)

    with page.expect_navigation():
        page.get_by_role("link", name="Edit the calendar").click()
    page.get_by_label("Monday window 1 start", exact=True).fill("07:00")
    page.get_by_label("Monday window 1 end", exact=True).fill("19:00")
    page.get_by_label("Other closed dates").fill("2026-12-24")
    no_axe_violations(page)
    screenshot(page, "office-settings-calendar-edit")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the calendar").click()
    expect(page.get_by_role("status")).to_contain_text("Calendar “Business hours” saved")
    expect(page.locator('[data-day="Monday"] td')).to_have_text("07:00–19:00")

    page.get_by_label("Ticket arrives at").fill("2026-02-02T16:00")
    page.get_by_label("Priority").select_option(label="Medium")
    with page.expect_navigation():
        page.get_by_role("button", name="Show the due times").click()
    # After: Monday 16:00–19:00 counts, so the fourth hour ends Tuesday 10:00.
    expect(page.locator('[data-due="first_response"]')).to_have_text("Tue 3 Feb 2026, 10:00 EST")
    expect(page.locator('[data-due="resolution"]')).to_have_text("Thu 5 Feb 2026, 14:00 EST")
    no_axe_violations(page)
    screenshot(page, "office-settings-calendar")

    # A window that ends before it starts is refused in place; nothing is saved.
    with page.expect_navigation():
        page.get_by_role("link", name="Edit the calendar").click()
    page.get_by_label("Tuesday window 1 end", exact=True).fill("08:00")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the calendar").click()
    expect(page.get_by_text("Tuesday, window 1: Must end after it starts.")).to_be_visible()
    no_axe_violations(page)

    # The Standard policy: a tighter critical first response.
    with page.expect_navigation():
        page.get_by_role("link", name="Settings").click()
    with page.expect_navigation():
        page.get_by_role("link", name="SLA policies").click()
    no_axe_violations(page)
    screenshot(page, "office-settings-policies")
    with page.expect_navigation():
        page.get_by_role("link", name="Standard").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Edit the policy").click()
    page.get_by_label("Critical first response", exact=True).fill("30m")
    no_axe_violations(page)
    screenshot(page, "office-settings-policy-edit")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_role("status")).to_contain_text("SLA policy “Standard” saved")
    expect(page.locator('[data-priority="Critical"] td').first).to_have_text("30m")
    no_axe_violations(page)
    screenshot(page, "office-settings-policy")
    assert csp_violations == []
