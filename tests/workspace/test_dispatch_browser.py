"""The dispatch board and the ticket page's routing panel in a real browser (Playwright +
Debian's Chromium, headless)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from nestogy.accounts.actions import add_member
from nestogy.accounts.models import TechnicianProfile
from nestogy.core.timeutil import now as utc_now
from nestogy.routing.actions import (
    add_out_of_office,
    set_category_skills,
    set_technician_calendar,
)
from nestogy.sla.actions import create_calendar
from nestogy.tickets.models import Ticket
from tests.conftest import PASSWORD
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import opened_ago, ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email, then):
    page.goto(then)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_dispatcher_assigns_by_drag_suggestion_and_auto_assign(personas, page, screenshot,
                                                               csp_violations):
    p = personas
    with scope(company=p.company_a.pk):
        casey = add_member(p.company_a, email="casey@alpha.test", name="Casey Printers",
                           role="technician", skills={"printers": 4}, max_open_tickets=10,
                           password=PASSWORD)
        set_category_skills(p.company_a, "networking", {"networking": 3})
        set_category_skills(p.company_a, "windows", {"windows": 1})
        set_category_skills(p.company_a, "printers", {"printers": 2})
        robin = add_member(p.company_a, email="robin@alpha.test", name="Robin Away",
                           role="technician", skills={"windows": 5, "networking": 5},
                           password=PASSWORD)
        shift = create_calendar(p.company_a, {
            "name": "Day shift", "timezone": "America/New_York",
            "hours": {d: [["08:00", "18:00"]] for d in
                      ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
        set_technician_calendar(p.company_a, robin.user, shift)
        add_out_of_office(robin.user, p.company_a, utc_now() - timedelta(hours=1),
                          utc_now() + timedelta(hours=6), "Training course")
    with scopes_disabled():
        TechnicianProfile.objects.filter(membership=p.tech_a.membership).update(
            max_open_tickets=1)
    for i in range(9):  # Tech2 is nearly full with calm work
        ticket(p.company_a, p.client_a2, f"Calm work {i}", priority="low",
               assignee=p.tech2_a.user)
    laptop = opened_ago(p.company_a, p.client_a, 0.4, subject="Laptop will not boot",
                        category="windows", priority="low")
    switch = opened_ago(p.company_a, p.client_a, 0.3, subject="Switch port flapping",
                        category="networking", priority="low")
    printer = opened_ago(p.company_a, p.client_a2, 0.2, subject="Printer offline",
                         category="printers", priority="low")
    toner = opened_ago(p.company_a, p.client_a2, 0.1, subject="Toner low in reception",
                       category="printers", priority="low")
    ticket(p.company_b, p.client_b, "Bravo ticket")

    sign_in(page, "manager@alpha.test", "/app/dispatch/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dispatch")
    expect(page.get_by_role("link", name="Dispatch")).to_have_attribute("aria-current", "page")
    cards = page.locator("[data-dispatch-card]")
    expect(cards).to_have_count(4)
    expect(page.locator("[data-drop-tech]")).to_have_count(4)
    away = page.locator(f'[data-drop-tech="{robin.user.public_id}"]')
    expect(away).to_contain_text("Away")
    expect(away).to_contain_text("08:00–18:00")
    expect(away).to_contain_text("Training course")
    expect(page.get_by_text("Bravo ticket")).to_have_count(0)
    toner_card = cards.filter(has_text="Toner low in reception")
    expect(toner_card).to_contain_text("Best: Casey Printers")
    expect(toner_card).to_contain_text("printers ≥ 2")
    expect(page.locator(f'[data-drop-tech="{casey.user.public_id}"]')).to_contain_text(
        "0 / 10 open")
    assert axe_violations(page) == []
    screenshot(page, "workspace-dispatch")

    # 1. drag and drop: the printer ticket onto Casey
    with page.expect_navigation():
        cards.filter(has_text="Printer offline").drag_to(
            page.locator(f'[data-drop-tech="{casey.user.public_id}"]'))
    expect(page.get_by_role("status")).to_contain_text(
        f"#{printer.number} Printer offline assigned to Casey Printers.")
    expect(cards).to_have_count(3)
    expect(page.locator(f'[data-drop-tech="{casey.user.public_id}"]')).to_contain_text(
        "1 / 10 open")

    # 2. by suggestion: the toner ticket to its best candidate
    with page.expect_navigation():
        cards.filter(has_text="Toner low in reception").get_by_role(
            "button", name="Assign to Casey Printers").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"#{toner.number} Toner low in reception assigned to Casey Printers.")
    expect(cards).to_have_count(2)

    # 3. Auto-assign all: the preview shows the optimal batch beside greedy
    with page.expect_navigation():
        page.get_by_role("link", name="Auto-assign all…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Auto-assign all: preview")
    optimal = float(page.locator('[data-total="optimal"]').inner_text())
    greedy = float(page.locator('[data-total="greedy"]').inner_text())
    improvement = float(page.locator('[data-total="improvement"]').inner_text())
    assert optimal > greedy and improvement == pytest.approx(optimal - greedy)
    laptop_row = page.locator("[data-preview-row]", has_text="Laptop will not boot")
    expect(laptop_row.locator('[data-col="optimal"]')).to_have_text("Tech2")
    expect(laptop_row.locator('[data-col="greedy"]')).to_contain_text("Tech1")
    switch_row = page.locator("[data-preview-row]", has_text="Switch port flapping")
    expect(switch_row.locator('[data-col="optimal"]')).to_have_text("Tech1")
    expect(switch_row.locator('[data-col="greedy"]')).to_contain_text("nobody")
    assert axe_violations(page) == []
    screenshot(page, "workspace-dispatch-preview")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply: assign 2 tickets").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Auto-assign: 2 tickets assigned as previewed.")
    expect(cards).to_have_count(0)
    expect(page.get_by_text("Nothing to dispatch")).to_be_visible()
    with scopes_disabled():
        assert Ticket.objects.get(pk=laptop.pk).assignee_id == p.tech2_a.user.pk
        assert Ticket.objects.get(pk=switch.pk).assignee_id == p.tech_a.user.pk
        assert Ticket.objects.get(pk=printer.pk).assignee_id == casey.user.pk
    assert csp_violations == []


def test_dispatcher_assigns_from_the_ticket_pages_routing_panel(personas, page,
                                                                  csp_violations):
    p = personas
    with scope(company=p.company_a.pk):
        set_category_skills(p.company_a, "networking", {"networking": 3})
    t = opened_ago(p.company_a, p.client_a, 0.5, subject="Office Wi-Fi drops",
                   category="networking", priority="high", contact=p.contact_a)
    sign_in(page, "manager@alpha.test", f"/app/tickets/{t.public_id}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Office Wi-Fi drops")
    expect(page.locator(".ticket-head .meta")).to_contain_text("Unassigned")
    panel = page.get_by_role("region", name="Assignment")
    expect(panel.get_by_role("heading", name="Suggested technicians")).to_be_visible()
    expect(panel.locator(".excluded")).to_contain_text(
        re.compile(r"Tech2: missing required skill networking"))
    with page.expect_navigation():
        panel.get_by_role("button", name="Assign to Tech1").click()
    expect(page.get_by_role("status")).to_contain_text("Assigned to Tech1.")
    expect(page.locator(".ticket-head .meta")).to_contain_text("Assigned to Tech1")
    expect(page.locator(".kind-assignment")).to_contain_text("Assigned to Tech1")
    with scopes_disabled():
        assert Ticket.objects.get(pk=t.pk).assignee_id == p.tech_a.user.pk
    assert csp_violations == []
