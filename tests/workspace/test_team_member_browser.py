"""A team member's page and the work types in a real browser: an owner opens a technician
from the Team page, sets two skills and a capacity, assigns a working calendar and records
an out-of-office period; then adds a work type in the settings and deactivates another
(Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from nestogy.accounts.models import TechnicianProfile
from nestogy.routing.models import OutOfOffice, TechnicianCalendar
from nestogy.sla.actions import create_calendar
from nestogy.timesheets.actions import create_work_type
from nestogy.timesheets.models import WorkType
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_keeps_a_technicians_profile_and_the_work_types(personas, page, screenshot,
                                                              csp_violations):
    p = personas
    with scope(company=p.company_a.pk):
        office = create_calendar(p.company_a, {
            "name": "Office hours", "timezone": "America/New_York",
            "hours": {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu",
                                                            "fri")}})
        for name in ("Remote support", "On-site"):
            create_work_type(p.company_a, {"name": name})
    today = datetime.now(ZoneInfo("America/New_York")).date()

    sign_in_page(page, "owner@alpha.test")
    with page.expect_navigation():
        page.get_by_role("link", name="Team").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Tech1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tech1")

    page.get_by_label("Skill, line 1").fill("networking")
    page.get_by_label("Level, line 1").fill("5")
    page.get_by_label("Skill, line 2").fill("m365")
    page.get_by_label("Level, line 2").fill("4")
    page.get_by_label("Maximum open tickets").fill("12")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the profile").click()
    expect(page.get_by_role("status")).to_contain_text("The technician profile of Tech1 is "
                                                       "saved.")
    expect(page.get_by_label("Skill, line 1")).to_have_value("m365")
    expect(page.get_by_label("Level, line 2")).to_have_value("5")

    page.get_by_role("combobox", name="Working calendar").select_option(label="Office hours")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the calendar").click()
    expect(page.get_by_role("status")).to_contain_text("Tech1 works to Office hours.")

    page.get_by_label("First day").fill(today.isoformat())
    page.get_by_label("Last day").fill((today + timedelta(days=4)).isoformat())
    page.get_by_label("Note").fill("Summer holiday")
    with page.expect_navigation():
        page.get_by_role("button", name="Add the period").click()
    expect(page.get_by_role("status")).to_contain_text("Tech1 is out of office from")
    end = today + timedelta(days=5)
    expect(page.locator("[data-away]")).to_contain_text(
        f"Out of office until {end:%a} {end.day} {end:%b %Y} 00:00")
    expect(page.locator("[data-absences]")).to_contain_text("Summer holiday")
    assert axe_violations(page) == [], json.dumps(axe_violations(page), indent=1)
    screenshot(page, "office-team-member")

    with scopes_disabled():
        profile = TechnicianProfile.objects.get(membership=p.tech_a.membership)
        assert profile.skills == {"networking": 5, "m365": 4}
        assert profile.max_open_tickets == 12
        assert TechnicianCalendar.objects.get(user=p.tech_a.user).calendar == office
        assert OutOfOffice.objects.get(user=p.tech_a.user).note == "Summer holiday"

    with page.expect_navigation():
        page.get_by_role("link", name="Settings").first.click()
    with page.expect_navigation():
        page.get_by_role("link", name="Work types").click()
    page.get_by_label("Name", exact=True).fill("Project work")
    with page.expect_navigation():
        page.get_by_role("button", name="Add the work type").click()
    expect(page.get_by_role("status")).to_contain_text("Work type Project work added.")
    with page.expect_navigation():
        page.get_by_role("button", name="Deactivate On-site").click()
    expect(page.get_by_role("status")).to_contain_text("On-site is no longer offered for new "
                                                       "time")
    expect(page.locator('[data-work-type="On-site"] [data-state]')).to_have_text("Inactive")
    expect(page.locator('[data-work-type="Project work"] [data-state]')).to_have_text("Active")
    assert axe_violations(page) == [], json.dumps(axe_violations(page), indent=1)
    screenshot(page, "office-work-types")
    with scopes_disabled():
        assert dict(WorkType.objects.filter(company=p.company_a)
                    .values_list("name", "is_active")) == {
            "Remote support": True, "On-site": False, "Project work": True}
    assert csp_violations == []
