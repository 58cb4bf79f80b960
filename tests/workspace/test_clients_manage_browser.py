"""Managing a client in a real browser: a manager creates a client with an SLA policy, adds
a site (a slip in the time zone is named on its field) and a contact with portal access,
sends the invitation again, sees it all on the client page and edits the client
(Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from nestogy.sla.actions import create_policy
from nestogy.sla.models import SLAPolicy
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_sets_up_a_client(personas, page, screenshot, csp_violations):
    p = personas
    with scope(company=p.company_a.pk):
        base = SLAPolicy.objects.get(is_default=True)
        create_policy(p.company_a, {
            "name": "Gold", "calendar": base.calendar,
            "targets": {pr: {"first_response_minutes": 30, "resolution_minutes": 240}
                        for pr in ("critical", "high", "medium", "low")}})
    sign_in_page(page, "manager@alpha.test")
    page.goto("/app/clients/")
    with page.expect_navigation():
        page.get_by_role("link", name="New client").click()
    page.get_by_label("Name", exact=True).fill("Cedar Law")
    page.get_by_label("Billing e-mail").fill("accounts@cedar.test")
    page.get_by_label("Phone").fill("+1 555 0100")
    page.get_by_label("Website").fill("https://cedar.test")
    page.get_by_label("SLA policy").select_option(label="Gold")
    with page.expect_navigation():
        page.get_by_role("button", name="Create the client").click()
    expect(page.get_by_role("status").first).to_contain_text("Client “Cedar Law” created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cedar Law")
    expect(page.get_by_text("SLA policy for new tickets: Gold")).to_be_visible()

    # A site; the time zone is mistyped first.
    with page.expect_navigation():
        page.get_by_role("link", name="Add a site").click()
    page.get_by_label("Name", exact=True).fill("Head office")
    page.get_by_label("Address").fill("1 Main Street")
    page.get_by_label("Postal code").fill("62701")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Country").fill("US")
    page.get_by_label("Time zone").fill("America/Springfield")
    with page.expect_navigation():
        page.get_by_role("button", name="Add the site").click()
    expect(page.get_by_role("alert").first).to_contain_text("Time zone: Unknown time zone")
    assert axe_violations(page) == []
    page.get_by_label("Time zone").fill("America/Chicago")
    with page.expect_navigation():
        page.get_by_role("button", name="Add the site").click()
    expect(page.get_by_role("status").first).to_contain_text("Site “Head office” added.")

    # A contact with portal access: the invitation goes out on creation, and again by hand.
    with page.expect_navigation():
        page.get_by_role("link", name="Add a contact").click()
    page.get_by_label("Name", exact=True).fill("Gia Partner")
    page.get_by_label("E-mail").fill("gia@cedar.test")
    page.get_by_label("Job title").fill("Managing partner")
    page.get_by_label("Portal access").check()
    assert axe_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("button", name="Add the contact").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "An invitation to the portal was e-mailed to gia@cedar.test.")
    with page.expect_navigation():
        page.get_by_role("link", name="Edit Gia Partner").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Send the portal invitation again").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "An invitation to the portal was e-mailed to gia@cedar.test.")
    row = page.locator("tr[data-contact]", has_text="gia@cedar.test")
    expect(row).to_contain_text("Invited")
    expect(page.locator("li[data-site]")).to_contain_text("1 Main Street, 62701 Springfield (US)")

    # Edit the client.
    with page.expect_navigation():
        page.get_by_role("link", name="Edit the client").click()
    page.get_by_label("Phone").fill("+1 555 0199")
    page.get_by_label("Notes").fill("Two offices; the partners sign off on hardware.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the client").click()
    expect(page.get_by_role("status").first).to_contain_text("Client “Cedar Law” saved.")
    expect(page.get_by_text("Phone +1 555 0199")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "office-client-manage")
    assert csp_violations == []
