"""The front desk in a real browser: a technician takes a phone call, looks up a client and
clears the inbox (Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from nestogy.clients.actions import create_client, create_contact, create_site, update_client
from nestogy.tickets.models import Ticket
from tests.conftest import PASSWORD
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import ticket
from tests.workspace.test_desk import notify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_technician_takes_a_phone_call_then_looks_up_the_client_and_clears_the_inbox(
        personas, page, screenshot, csp_violations):
    p = personas
    with scope(company=p.company_a.pk):
        create_contact(p.client_a2, {"name": "Mia Bookkeeper", "email": "mia@blueridge.test",
                                     "phone": "+1 617 555 0100", "title": "Office manager"})
        create_site(p.client_a2, {"name": "Main office", "address": "12 Harbor St",
                                  "city": "Boston", "country": "US"})
        update_client(p.client_a2, {"email": "billing@blueridge.test",
                                    "phone": "+1 617 555 0199"})
        for name, domain in (("Cedar Law Partners", "cedarlaw"),
                             ("Harborview Hotel", "harborview"),
                             ("Maple Street Bakery", "maplebakery"),
                             ("Northstar Logistics", "northstar")):
            create_client(p.company_a, {"name": name, "email": f"accounts@{domain}.test",
                                        "phone": "+1 617 555 0142"})
    earlier = ticket(p.company_a, p.client_a2, "Scanner keeps jamming", contact=p.contact_a2,
                     priority="low")
    notify(p.company_a, p.tech_a.user, f"Ticket #{earlier.number} assigned to you",
           context={"ticket_id": earlier.public_id},
           body="Blue Ridge Accounting · Scanner keeps jamming · low priority")
    notify(p.company_a, p.tech_a.user, "SLA warning: 80% of the first response used",
           event_type="sla.warning", context={"ticket_id": earlier.public_id},
           body=f"Ticket #{earlier.number} Scanner keeps jamming: answer the client soon.")

    page.goto("/app/login/")
    page.get_by_label("Email").fill("tech1@alpha.test")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()

    # The phone rings: New ticket, find the caller's company by part of its name.
    with page.expect_navigation():
        page.get_by_role("link", name="New ticket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New ticket")
    expect(page.locator(".sla-preview")).to_contain_text("Choose a client to see the due times.")
    page.get_by_label("Find a client").press_sequentially("ridge", delay=40)
    clients = page.get_by_label("Client", exact=True)
    expect(clients.locator("option")).to_have_count(1)
    expect(clients.locator("option")).to_have_text("Blue Ridge Accounting")
    clients.select_option(label="Blue Ridge Accounting")
    contacts = page.get_by_label("Contact", exact=True)
    expect(contacts).to_contain_text("Mia Bookkeeper")
    expect(contacts).not_to_contain_text("Dana Contact")  # another client's contact
    page.get_by_label("Find a contact").press_sequentially("mia", delay=40)
    expect(contacts.locator("option")).to_have_count(2)  # "No contact" and Mia
    contacts.select_option(label="Mia Bookkeeper · mia@blueridge.test")
    preview = page.locator(".sla-preview")
    expect(preview).to_contain_text("Policy Standard · Medium priority")
    page.get_by_label("Priority").select_option("high")
    expect(preview).to_contain_text("High priority")
    first_due = preview.locator("[data-sla-due=first_response]")
    expect(first_due).to_have_text(re.compile(r"\d{4}, \d\d:\d\d E[SD]T"))
    shown = first_due.get_attribute("datetime")
    page.get_by_label("Category").fill("Email")
    page.get_by_label("Subject").fill("Outlook asks for the password again and again")
    page.get_by_label("Description").fill("Mia called at 10:05; started after the M365 "
                                          "password change.")
    page.get_by_label("Assign to me").check()
    assert axe_violations(page) == []
    screenshot(page, "workspace-new-ticket")
    with page.expect_navigation():
        page.get_by_role("button", name="Create ticket").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Outlook asks for the password again and again")
    expect(page.get_by_role("status")).to_contain_text("opened for Blue Ridge Accounting")
    expect(page.locator(".ticket-head .meta")).to_contain_text("Mia Bookkeeper")
    with scope(company=p.company_a.pk):
        created = Ticket.objects.get(subject__startswith="Outlook asks")
        assert created.first_response_due_at.isoformat() == shown
        assert created.assignee_id == p.tech_a.user.pk and created.priority == "high"

    # Clients: search, open the client page.
    with page.expect_navigation():
        page.get_by_role("link", name="Clients", exact=True).click()
    expect(page.locator("[data-client-row]")).to_have_count(6)
    assert axe_violations(page) == []
    screenshot(page, "workspace-clients")
    page.get_by_role("searchbox", name="Search").fill("blueridge.test")
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    expect(page.locator("[data-client-row]")).to_have_count(1)
    expect(page.locator("[data-client-row]")).to_contain_text("2")  # open tickets
    with page.expect_navigation():
        page.get_by_role("link", name="Blue Ridge Accounting").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Blue Ridge Accounting")
    expect(page.get_by_role("region", name="Open tickets (2)")).to_contain_text(
        "Scanner keeps jamming")
    expect(page.locator("[data-contact]", has_text="Eli Contact")).to_contain_text("Active")
    expect(page.locator("[data-contact]", has_text="Mia Bookkeeper")).to_contain_text("None")
    expect(page.get_by_role("region", name="Sites (1)")).to_contain_text("12 Harbor St")
    assert axe_violations(page) == []
    screenshot(page, "workspace-client")

    # The inbox from the badge: mark everything read, the badge goes away.
    badge = page.locator("[data-unread]")
    expect(badge).to_contain_text(re.compile(r"^\d+ unread$"))
    with page.expect_navigation():
        page.locator("[data-inbox-link]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    expect(page.locator("[data-notification].unread").first).to_be_visible()
    expect(page.get_by_role("link", name=f"Ticket #{earlier.number} assigned to you")) \
        .to_have_attribute("href", f"/app/tickets/{earlier.public_id}/")
    assert axe_violations(page) == []
    screenshot(page, "workspace-inbox")
    with page.expect_navigation():
        page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("status")).to_contain_text("marked read")
    expect(page.locator("[data-unread]")).to_have_count(0)
    expect(page.locator("[data-notification].unread")).to_have_count(0)
    assert csp_violations == []
