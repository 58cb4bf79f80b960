"""The team in a real browser: an owner adds a technician, who chooses a password from the
mailed link and signs in to the workspace (Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.payments.fixtures import immediate_tasks  # noqa: F401
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_adds_a_technician_who_sets_a_password_and_signs_in(
        personas, page, screenshot, immediate_tasks, csp_violations):  # noqa: F811
    sign_in_page(page, "owner@alpha.test")
    with page.expect_navigation():
        page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    page.get_by_label("E-mail", exact=True).fill("sam.rivera@alpha.test")
    page.get_by_label("Role", exact=True).select_option(label="Technician")
    with page.expect_navigation():
        page.get_by_role("button", name="Add to the team").click()
    expect(page.get_by_role("status")).to_contain_text(
        "sam.rivera@alpha.test joined as Technician; an e-mail with a link to choose a "
        "password is on its way.")
    expect(page.locator('[data-member="sam.rivera@alpha.test"] [data-role]')) \
        .to_have_text("Technician")
    assert axe_violations(page) == []
    screenshot(page, "office-team")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()

    [message] = [m for m in mail.outbox if m.to == ["sam.rivera@alpha.test"]]
    link = urlsplit(re.search(r"http://\S+/app/password-reset/\S+/", message.body)[0]).path
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("quiet-falcon-meadow-17")
    page.get_by_label("Repeat the new password").fill("quiet-falcon-meadow-17")
    with page.expect_navigation():
        page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed.")
    page.get_by_label("Email").fill("sam.rivera@alpha.test")
    page.get_by_label("Password").fill("quiet-falcon-meadow-17")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    expect(page.get_by_text("Technician", exact=False).first).to_be_visible()
    assert csp_violations == []
