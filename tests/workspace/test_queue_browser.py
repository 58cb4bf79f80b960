"""The queue in a real browser: a change made in another session appears without a reload
while the checked rows, the scroll position and the focus stay; saved views; bulk assign."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import opened_ago, signed_in, ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, email: str, target: str = "/app/?view=all") -> None:
    page.goto(target)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_a_change_elsewhere_appears_while_the_selection_scroll_and_focus_stay(
        personas, page, csp_violations):
    p = personas
    for n in range(24):
        ticket(p.company_a, p.client_a2 if n % 2 else p.client_a, f"Routine check {n:02d}",
               priority="low")
    watched = opened_ago(p.company_a, p.client_a, 2, subject="Printer offline",
                         priority="high")

    _sign_in(page, "tech1@alpha.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("All open")
    page.evaluate("window.__sameDocument = true")
    bar = page.get_by_role("form", name="Bulk actions")
    expect(bar).to_be_hidden()

    page.locator(f"#pick-{watched.public_id}").check()
    far_id = page.locator("input[data-pick]").last.get_attribute("value")  # the last row
    far_box = page.locator(f"#pick-{far_id}")
    far_box.scroll_into_view_if_needed()
    far_box.check()  # clicking it also gives it the focus
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("2 selected")
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 100

    # another member works in another session: assigns the watched ticket, opens a new one
    manager = signed_in("manager@alpha.test")
    response = manager.post(f"/app/tickets/{watched.public_id}/assign",
                            {"assignee": p.tech2_a.user.public_id})
    assert response.status_code == 302
    ticket(p.company_a, p.client_a, "Phone call: internet down", priority="low")

    row = page.locator(f"tr[data-id='{watched.public_id}']")
    expect(row).to_contain_text("Tech2", timeout=15_000)  # without a reload
    expect(page.get_by_text("Phone call: internet down")).to_be_visible()
    expect(page.locator("#count-all")).to_have_text("26")
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator(f"#pick-{watched.public_id}")).to_be_checked()
    expect(far_box).to_be_checked()
    expect(bar).to_contain_text("2 selected")
    assert abs(page.evaluate("window.scrollY") - scrolled) < 5
    assert page.evaluate("document.activeElement.id") == f"pick-{far_id}"
    assert csp_violations == []


def test_save_a_view_then_bulk_assign_from_it(personas, page, screenshot, csp_violations):
    p = personas
    printers = [opened_ago(p.company_a, p.client_a, h, subject=s, priority="high")
                for h, s in ((3, "Printer jams on tray 2"), (1, "Printer offline in reception"),
                             (0.5, "Printer driver missing on new laptop"))]
    ticket(p.company_a, p.client_a2, "Quarterly firewall review", priority="low")
    opened_ago(p.company_a, p.client_a2, 30, subject="Printer toner order", priority="high",
               assignee=p.tech_a.user)

    _sign_in(page, "manager@alpha.test")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Search").fill("printer")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    page.locator("summary", has_text="Save this view").click()
    page.get_by_label("Name", exact=True).fill("High-priority printers")
    with page.expect_navigation():
        page.get_by_role("button", name="Save this view").click()
    views = page.get_by_role("navigation", name="Queue views")
    saved = views.get_by_role("link", name=re.compile("High-priority printers"))
    expect(saved).to_have_attribute("aria-current", "page")
    expect(saved).to_contain_text("4")
    expect(page.get_by_role("heading", level=1)).to_have_text("High-priority printers")
    expect(page.get_by_role("status").first).to_contain_text(
        "Saved the view “High-priority printers”.")

    # x checks the ticket highlighted with j/k
    bar = page.get_by_role("form", name="Bulk actions")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(bar).to_contain_text("1 selected")
    page.keyboard.press("x")
    expect(bar).to_be_hidden()

    # pick the three unassigned ones: select all, then uncheck the one already taken
    page.get_by_label("Select all tickets on this page").check()
    expect(bar).to_contain_text("4 selected")
    page.get_by_label(re.compile("Select #\\d+ Printer toner order")).uncheck()
    expect(bar).to_contain_text("3 selected")
    expect(page.get_by_label("Select all tickets on this page")).not_to_be_checked()
    page.get_by_label("Assign to…").select_option(label="Tech2")
    assert axe_violations(page) == []
    screenshot(page, "workspace-bulk")

    with page.expect_navigation():
        bar.get_by_role("button", name="Assign", exact=True).click()
    result = page.locator(".bulk-result")
    expect(result).to_contain_text("Assigned 3 tickets to Tech2.")
    for t in printers:
        expect(page.locator(f"tr[data-id='{t.public_id}']")).to_contain_text("Tech2")
    expect(page.locator("tr", has_text="Printer toner order")).to_contain_text("Tech1")
    expect(saved).to_contain_text("4")
    expect(bar).to_be_hidden()  # nothing selected after the action
    assert axe_violations(page) == []

    # change the status of two of them, then delete the saved view (after a confirmation)
    page.locator(f"#pick-{printers[0].public_id}").check()
    page.locator(f"#pick-{printers[1].public_id}").check()
    page.get_by_label("Change status to…").select_option("in_progress")
    with page.expect_navigation():
        bar.get_by_role("button", name="Change status").click()
    expect(result).to_contain_text("Changed 2 tickets to In progress.")
    page.locator("summary", has_text="Rename, move or delete").click()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Delete this saved view").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Deleted the saved view “High-priority printers”.")
    expect(views).not_to_contain_text("High-priority printers")
    assert csp_violations == []
