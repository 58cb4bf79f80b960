"""Notification wording in a real browser: an owner previews a new subject against the
latest real event, sees a refused template named, then saves it (Playwright + Debian's
Chromium, headless)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page, ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_rewords_the_new_ticket_mail(personas, page, screenshot, csp_violations):
    p = personas
    t = ticket(p.company_a, p.client_a, "Phones ring but no audio")
    sign_in_page(page, "owner@alpha.test")
    page.goto("/app/settings/")
    with page.expect_navigation():
        page.get_by_role("link", name="Notification wording").click()
    with page.expect_navigation():
        page.get_by_role("link", name="ticket.created").click()
    page.get_by_role("link", name="E-mail").click()
    page.get_by_label("Title (e-mail subject)").fill(
        "{{ company.name }} ticket #{{ ticket.number }}: {{ ticket.subject }}")
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-preview-title]")).to_have_text(
        f"Alpha IT ticket #{t.number}: Phones ring but no audio")
    page.get_by_label("Text body").fill("{% include 'settings.py' %}")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Text body:").first).to_be_visible()
    page.get_by_label("Text body").fill("Hello {{ recipient.name }},\n\n{{ ticket.subject }}")
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-preview-body]")).to_contain_text("Phones ring but no audio")
    assert axe_violations(page) == []
    screenshot(page, "office-settings-template")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved: title, text body.")
