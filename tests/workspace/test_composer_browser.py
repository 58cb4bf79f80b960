"""The composer in a real browser: keyboard shortcuts, inserting a canned response (htmx),
attaching a file, the shortcuts dialog, assigning with `a`; the canned-response pages."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from nestogy.tickets import canned
from nestogy.tickets.models import Reply, TicketAttachment
from tests.conftest import PASSWORD
from tests.portal.helpers import PDF
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email, next_url):
    page.goto(f"/app/login/?next={next_url}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_technician_replies_with_a_canned_response_and_a_file(personas, page, screenshot,
                                                              csp_violations):
    p = personas
    with scopes_disabled():
        p.tech_a.user.name = "Tara Tech"
        p.tech_a.user.save()
    with scope(company=p.company_a.pk):
        canned.create_canned(p.company_a, {
            "title": "Acknowledge new ticket", "category": "General",
            "body": "Hi {{ contact.first_name }},\n\nTicket #{{ ticket.number }} "
                    "({{ ticket.subject }}) is logged.\n\n{{ technician.first_name }}, "
                    "{{ company.name }}"})
        canned.create_canned(p.company_a, {"title": "Password reset done",
                                           "category": "Accounts", "body": "Reset done."})
    t = ticket(p.company_a, p.client_a, "Scanner not sending to email", contact=p.contact_a)

    sign_in(page, "tech1@alpha.test", f"/app/tickets/{t.public_id}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Scanner not sending")
    message = page.get_by_label("Message")

    page.keyboard.press("r")
    expect(message).to_be_focused()
    expect(page.locator("#composer-mode")).to_have_text("Writing a reply to the client")
    message.type("Thanks! ")
    # Shortcuts are ignored while typing: "a" and "n" above did not assign or switch mode.
    page.get_by_label("Canned response").select_option(label="Acknowledge new ticket")
    page.get_by_role("button", name="Insert").click()
    expect(page.get_by_label("Message")).to_have_value(
        f"Thanks!\n\nHi Dana,\n\nTicket #{t.number} (Scanner not sending to email) is logged."
        "\n\nTara, Alpha IT")
    expect(page.get_by_label("Message")).to_be_focused()
    page.get_by_label("Attachments").set_input_files(
        [{"name": "scan-settings.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    assert axe_violations(page) == []
    screenshot(page, "workspace-composer")
    with page.expect_navigation():
        page.get_by_role("button", name="Send reply to client").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Reply sent to the client with 1 attachment.")
    reply = page.locator(".timeline .kind-reply").last
    expect(reply).to_contain_text("Hi Dana")
    link = reply.get_by_role("link", name="scan-settings.pdf")
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "scan-settings.pdf"
    with scope(company=p.company_a.pk):
        sent = Reply.objects.get(ticket=t)
        assert sent.public and TicketAttachment.objects.get(reply=sent).size == len(PDF)

    # n: an internal note, sent with Ctrl+Enter in that mode
    page.keyboard.press("n")
    expect(page.locator("#composer")).to_have_class(re.compile(r"\bmode-note\b"))
    expect(page.locator("#composer-mode")).to_contain_text("internal note")
    page.get_by_label("Message").fill("Client uses the old SMTP relay.")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    expect(page.get_by_role("status")).to_contain_text("Internal note added.")
    expect(page.locator(".timeline .kind-note").last).to_contain_text("old SMTP relay")

    # ?: the shortcuts, Escape closes them
    page.locator("main").focus()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    for key in ("Next / previous ticket in the queue", "Open the selected ticket",
                "Write a reply", "Write an internal note", "Assign the ticket to me"):
        expect(dialog).to_contain_text(key)
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # a: assign to me (the page's assign form, a POST)
    expect(page.locator(".ticket-head .meta")).to_contain_text("Unassigned")
    with page.expect_navigation():
        page.keyboard.press("a")
    expect(page.get_by_role("status")).to_contain_text("Assigned to Tara Tech.")
    expect(page.locator(".ticket-head .meta")).to_contain_text("Assigned to Tara Tech")
    t.refresh_from_db()
    assert t.assignee_id == p.tech_a.user.pk
    assert csp_violations == []


def test_manager_manages_canned_responses(personas, page, screenshot, csp_violations):
    p = personas
    with scope(company=p.company_a.pk):
        canned.create_canned(p.company_a, {
            "title": "Waiting for your reply", "category": "Follow-up",
            "body": "Hi {{ contact.first_name }}, is the problem still happening?"},
            actor=p.manager_a.user)
    sign_in(page, "manager@alpha.test", "/app/")
    with page.expect_navigation():
        page.get_by_role("link", name="Canned responses").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Canned responses")
    with page.expect_navigation():
        page.get_by_role("link", name="New canned response").click()
    page.get_by_label("Title").fill("Remote session request")
    page.get_by_label("Category").fill("General")
    page.get_by_label("Text").fill("Hi {{ contact.first_name }}, {% include 'x.html' %}")
    with page.expect_navigation():
        page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "Text: The tag {% include %} is not allowed in a canned response")
    page.get_by_label("Text").fill(
        "Hi {{ contact.first_name }},\n\nMay I connect to your computer today?\n\n"
        "{{ technician.first_name }}")
    with page.expect_navigation():
        page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_contain_text("“Remote session request” created.")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Remote session request")
    expect(table).to_contain_text("Waiting for your reply")
    assert axe_violations(page) == []
    screenshot(page, "workspace-canned")
    with page.expect_navigation():
        page.get_by_role("row", name=re.compile("Waiting for your reply")).get_by_role(
            "link", name="Delete").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text("deleted")
    expect(page.get_by_role("table")).not_to_contain_text("Waiting for your reply")
    assert csp_violations == []
