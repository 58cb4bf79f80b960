"""The portal in a real browser (Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email, password=PASSWORD):
    page.goto("/portal/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_sign_in_page_and_throttling(personas, page, screenshot):
    page.goto("/portal/")
    assert page.url.endswith("/portal/login/?next=/portal/")
    screenshot(page, "portal-login")
    for attempt in range(5):
        sign_in(page, "dana@acme.test", f"wrong-password-{attempt}")
    expect(page.get_by_role("alert").first).to_contain_text("Too many failed attempts")
    sign_in(page, "dana@acme.test")
    expect(page.get_by_role("alert").first).to_contain_text("Too many failed attempts")


def test_keyboard_user_can_sign_in(personas, page):
    page.goto("/portal/login/")
    # The email field has focus on arrival; Tab moves to the password; Enter submits.
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type("dana@acme.test")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    expect(page.get_by_label("Email")).to_have_value("dana@acme.test")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Dana Contact")
    expect(page).to_have_url(re.compile(r"/portal/$"))


# -- the whole client journey ----------------------------------------------------------------

def _goto_status(page, url) -> int:
    response = page.goto(url)
    return response.status if response is not None else 0


def test_contact_opens_ticket_replies_sees_staff_reply_and_pays_an_invoice(
        personas, page, browser, live_server, screenshot, stripe_configured, immediate_tasks,
        csp_violations):
    from decimal import Decimal

    from django_scopes import scope

    from nestogy.billing.models import Invoice
    from nestogy.clients.models import Contact
    from nestogy.tickets.actions import add_reply, change_status, create_ticket
    from nestogy.tickets.models import Ticket
    from tests.portal.helpers import PNG, world

    w = world(personas)
    stripe_configured.webhook_url = f"{live_server.url}/api/v1/webhooks/stripe"
    with scope(company=personas.company_a.pk):
        Contact.objects.filter(pk=personas.contact_a.pk).update(portal_admin=True)
        for subject, priority in (("New starter needs a laptop", "medium"),
                                  ("Shared drive is slow", "low")):
            create_ticket(personas.company_a, {"client": personas.client_a,
                                               "contact": personas.contact_a,
                                               "subject": subject, "priority": priority})
        change_status(w.gus_ticket, "resolved", actor=personas.tech_a.user)

    sign_in(page, "dana@acme.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Dana Contact")
    expect(page.get_by_text("Open balance")).to_contain_text("150.00 USD")
    screenshot(page, "portal-dashboard")

    # Ticket list, with its status filter.
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Tickets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Support tickets")
    expect(page.get_by_role("link", name="VPN drops")).to_be_visible()
    screenshot(page, "portal-tickets")
    page.get_by_label("Status").select_option("resolved")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="VPN drops")).to_be_visible()
    expect(page.get_by_role("link", name="Printer offline")).to_have_count(0)

    # A new ticket with an attachment.
    page.goto("/portal/tickets/new/")
    page.get_by_label("Subject").fill("Scanner on the 2nd floor jams")
    page.get_by_label("Describe the problem").fill(
        "It jams on every double-sided scan.\nPhoto attached.")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Category").fill("Hardware")
    page.get_by_label("Attachment").set_input_files(
        {"name": "jam.png", "mimeType": "image/png", "buffer": PNG})
    screenshot(page, "portal-ticket-new")
    with page.expect_navigation():
        page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Scanner on the 2nd floor jams")
    expect(page.get_by_role("link", name="jam.png")).to_be_visible()
    ticket_url = page.url.split("#")[0]
    ticket_id = ticket_url.rstrip("/").split("/")[-1]
    with page.expect_download() as download_info:
        page.get_by_role("link", name="jam.png").click()
    assert open(download_info.value.path(), "rb").read() == PNG

    # The contact replies; staff answer publicly and leave an internal note.
    page.get_by_label("Your reply").fill("It happens with single-sided scans too.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("It happens with single-sided scans too.")).to_be_visible()
    with scope(company=personas.company_a.pk):
        ticket = Ticket.objects.get(public_id=ticket_id)
        add_reply(ticket, "A technician will replace the roller tomorrow at 9.", public=True,
                  actor=personas.tech_a.user)
        add_reply(ticket, "INTERNAL NOTE: roller is under warranty", public=False,
                  actor=personas.tech_a.user)
    page.reload()
    expect(page.get_by_text("A technician will replace the roller tomorrow at 9.")) \
        .to_be_visible()
    expect(page.get_by_text("INTERNAL NOTE")).to_have_count(0)
    assert "roller is under warranty" not in page.content()
    screenshot(page, "portal-ticket-detail")

    # Invoices: list, detail, PDF.
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoices")
    screenshot(page, "portal-invoices")
    page.get_by_role("link", name=w.invoice.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(w.invoice.number)
    screenshot(page, "portal-invoice")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"{w.invoice.number}.pdf"
    assert open(download.path(), "rb").read(4) == b"%PDF"

    # Pay: the portal redirects to the gateway's checkout page (the stand-in), which takes
    # the payment and posts the signed webhook to the live server.
    with page.expect_navigation():
        page.get_by_role("button", name="Pay now 150.00 USD").click()
    assert page.url.startswith(stripe_configured.url + "/checkout/")
    expect(page.locator("body")).to_contain_text('"status": "complete"')
    with scope(company=personas.company_a.pk):
        invoice = Invoice.objects.get(pk=w.invoice.pk)
    assert (invoice.status, invoice.balance) == ("paid", Decimal("0"))
    page.goto(f"/portal/invoices/{w.invoice.public_id}/paid/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("is paid")
    page.goto(f"/portal/invoices/{w.invoice.public_id}/")
    expect(page.get_by_role("button", name=re.compile("Pay now"))).to_have_count(0)
    expect(page.locator(".pill").first).to_have_text("Paid")

    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Contracts").click()
    expect(page.get_by_role("heading", level=2).first).to_have_text(
        "Managed services Acme Dental")
    screenshot(page, "portal-contracts")

    # Every page of the journey ran under the Content-Security-Policy without a violation.
    assert csp_violations == []

    # The same portal on a phone.
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844},
                                device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        mobile = phone.new_page()
        sign_in(mobile, "dana@acme.test")
        mobile.goto("/portal/tickets/")
        expect(mobile.get_by_role("link", name="Printer offline")).to_be_visible()
        # No sideways scrolling: the page fits the phone's width.
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(mobile, "portal-phone-tickets")
    finally:
        phone.close()


def test_contact_of_another_client_gets_404_for_all_of_it(personas, page):
    from django_scopes import scope

    from nestogy.tickets.models import TicketAttachment
    from tests.portal.helpers import PDF, world

    w = world(personas)
    sign_in(page, "dana@acme.test")
    page.goto(f"/portal/tickets/{w.dana_ticket.public_id}/")
    page.get_by_label("Your reply").fill("See the attached report.")
    page.get_by_label("Attachment").set_input_files(
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": PDF})
    with page.expect_navigation():
        page.get_by_role("button", name="Send reply").click()
    with scope(company=personas.company_a.pk):
        attachment = TicketAttachment.objects.get(ticket=w.dana_ticket)
    t, i = w.dana_ticket.public_id, w.invoice.public_id
    urls = [f"/portal/tickets/{t}/", f"/portal/tickets/{t}/attachments/{attachment.public_id}/",
            f"/portal/invoices/{i}/", f"/portal/invoices/{i}/pdf",
            f"/portal/invoices/{i}/paid/"]
    page.context.clear_cookies()
    for email in ("eli@blueridge.test", "finn@bravoclient.test"):
        sign_in(page, email)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
        for url in urls:
            assert _goto_status(page, url) == 404, (email, url)
        # Paying someone else's invoice: a real CSRF-valid POST from the signed-in session.
        page.goto("/portal/")
        token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
        response = page.request.post(f"/portal/invoices/{i}/pay",
                                     form={"csrfmiddlewaretoken": token},
                                     headers={"Referer": page.url}, max_redirects=0)
        assert response.status == 404, email
        page.context.clear_cookies()
