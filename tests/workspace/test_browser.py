"""The workspace in a real browser (Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from nestogy.notifications.models import Delivery
from tests.conftest import PASSWORD
from tests.portal.helpers import signed_in as contact_signed_in
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import opened_ago, ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_technician_works_the_most_urgent_ticket(personas, page, screenshot, csp_violations):
    p = personas
    urgent = opened_ago(p.company_a, p.client_a, 0.5, subject="Email down for the whole office",
                        priority="critical", contact=p.contact_a, assignee=p.tech_a.user)
    ticket(p.company_a, p.client_a2, "New monitor for reception", priority="low",
           assignee=p.tech_a.user)
    opened_ago(p.company_a, p.client_a2, 30, subject="VPN slow from home", priority="high",
               assignee=p.tech_a.user)
    theirs = ticket(p.company_b, p.client_b, "Bravo ticket")

    page.goto("/app/")
    expect(page).to_have_url(re.compile(r"/app/login/\?next=/app/$"))
    assert axe_violations(page) == []
    screenshot(page, "workspace-sign-in")
    page.get_by_label("Email").fill("tech1@alpha.test")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    rows = page.locator("[data-row]")
    expect(rows).to_have_count(3)
    # breached first, then the earliest deadline
    expect(rows.nth(0)).to_contain_text("VPN slow from home")
    expect(rows.nth(0)).to_contain_text("overdue")
    expect(rows.nth(1)).to_contain_text("Email down for the whole office")
    countdown = rows.nth(1).locator(".countdown")
    first = countdown.inner_text()
    page.wait_for_timeout(1500)
    assert countdown.inner_text() != first  # the countdown ticks while the page is open
    assert axe_violations(page) == []
    screenshot(page, "workspace-queue")

    page.keyboard.press("j")
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Email down for the whole office")
    page.get_by_label("Message").fill("We are restarting the mail server now.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send reply to client").click()
    expect(page.get_by_role("status")).to_contain_text("Reply sent to the client.")
    expect(page.get_by_role("region", name="First response clock")).to_contain_text("Met")
    with scopes_disabled():  # the contact is mailed (the outbox's delivery to them)
        assert [d.target for d in Delivery.objects.filter(event_type="ticket.replied")] == [
            "dana@acme.test"]
    page.get_by_label("Message").fill("Mail server RAID rebuilt, watch tomorrow.")
    with page.expect_navigation():
        page.get_by_role("button", name="Add internal note").click()
    expect(page.locator(".kind-note")).to_contain_text("Mail server RAID rebuilt")
    portal = contact_signed_in("dana@acme.test").get(f"/portal/tickets/{urgent.public_id}/")
    assert "restarting the mail server" in portal.content.decode()
    assert "RAID rebuilt" not in portal.content.decode()  # the note stays inside

    time_panel = page.get_by_role("region", name="Time", exact=True)
    with page.expect_navigation():
        time_panel.get_by_role("button", name="Start timer").click()
    expect(page.get_by_role("status")).to_contain_text("Timer started on")
    page.wait_for_timeout(1100)
    time_panel.get_by_label("Note").first.fill("Restarted the mail server")
    with page.expect_navigation():
        time_panel.get_by_role("button", name="Stop timer and save").click()
    expect(page.get_by_role("status")).to_contain_text("Timer stopped:")
    expect(time_panel.locator(".time-entry")).to_contain_text("Restarted the mail server")
    page.get_by_label("Status").select_option("resolved")
    with page.expect_navigation():
        page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".ticket-head .meta")).to_contain_text("Resolved")
    assert axe_violations(page) == []
    screenshot(page, "workspace-ticket")

    response = page.goto(f"/app/tickets/{theirs.public_id}/")
    assert response.status == 404
    assert urgent.public_id
    assert csp_violations == []
