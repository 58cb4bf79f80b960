"""The staff invitation in a real browser: an account of another company opens the e-mailed
link, signs in, sees who invites it and with which role, accepts, and lands in the inviting
company's workspace; the page passes an accessibility check and the CSP."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from nestogy.accounts import invitations
from nestogy.accounts.models import Invitation, Membership
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).resolve().parents[2] / "src" / "nestogy" / "core" / "static" / "vendor"
       / "axe-core" / "axe.min.js")


def axe_violations(page) -> list[dict]:
    """Serious and critical WCAG 2 A/AA findings of axe-core on the current page."""
    page.evaluate(AXE.read_text())
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: "tag",
                                                     values: ["wcag2a", "wcag2aa"]}});
        return r.violations.filter(v => ["serious", "critical"].includes(v.impact))
                .map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target)}));
    }""")
    return result


def test_invited_account_accepts_in_the_browser(personas, page, screenshot, csp_violations):
    p = personas
    response = p.owner_a.api.post("/users", {"email": "owner@bravo.test", "name": "ignored",
                                             "role": "technician"})
    assert response.status_code == 202, response.data
    assert "name" not in response.data  # nothing about the person before they accept
    with scope(company=p.company_a.pk):
        invitation = Invitation.objects.get(public_id=response.data["id"])
        link = urlsplit(invitations.url_for(invitation)).path

    page.goto(link)  # not signed in: the workspace's sign-in page, then back to the link
    page.get_by_label("Email").fill("owner@bravo.test")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Join Alpha IT")).to_be_visible()
    expect(page.get_by_text("technician role")).to_be_visible()
    assert axe_violations(page) == [], json.dumps(axe_violations(page), indent=1)
    screenshot(page, "staff-invitation")

    with page.expect_navigation():
        page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("You joined Alpha IT as technician.")).to_be_visible()
    assert Membership.objects.with_scopes_disabled().filter(
        company=p.company_a, user=p.owner_b.user, role="technician", is_active=True).exists()
    # The account is still Bravo's owner, with its own password.
    assert Membership.objects.with_scopes_disabled().filter(
        company=p.company_b, user=p.owner_b.user, role="owner", is_active=True).exists()

    page.goto(link)  # a used link says so
    expect(page.get_by_text("This invitation was already accepted.")).to_be_visible()
    assert csp_violations == []
