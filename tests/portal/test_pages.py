"""Portal tickets, invoices and contracts through the Django test client: what a contact
sees, what it may do, and what it must never see."""

from __future__ import annotations

import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from nestogy.billing.models import Invoice
from nestogy.clients.models import Contact
from nestogy.contracts.models import Contract
from nestogy.tickets.actions import add_reply, change_status
from nestogy.tickets.models import Reply, Ticket, TicketAttachment
from tests.portal.helpers import PDF, PNG, signed_in, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(personas):
    return world(personas)


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def tickets_in(page: str) -> list[str]:
    return re.findall(r'href="/portal/tickets/(tkt_[^/]+)/"', page)


# -- tickets: who sees what --------------------------------------------------------------------

def test_contact_sees_own_tickets_only_and_admin_sees_the_whole_client(personas, w):
    dana = signed_in("dana@acme.test")
    listed = tickets_in(html(dana.get("/portal/tickets/")))
    assert listed == [w.dana_ticket.public_id]
    with scope(company=personas.company_a.pk):
        Contact.objects.filter(pk=personas.contact_a.pk).update(portal_admin=True)
    listed = set(tickets_in(html(dana.get("/portal/tickets/"))))
    assert listed == {w.dana_ticket.public_id, w.gus_ticket.public_id}
    page = html(dana.get("/portal/tickets/"))
    assert "Eli&#x27;s secret ticket" not in page and "Eli's secret" not in page


def test_ticket_list_shows_sla_due_times_in_the_contacts_timezone(personas, w):
    with scope(company=personas.company_a.pk):
        ticket = Ticket.objects.get(pk=w.dana_ticket.pk)
    due = ticket.resolution_due_at
    assert due is not None
    # Company A's zone (New York) by default ...
    page = html(signed_in("dana@acme.test").get("/portal/tickets/"))
    local = timezone.localtime(due, ZoneInfo("America/New_York"))
    assert f'datetime="{local.isoformat()}"' in page and "America/New_York" in page
    # ... the contact's own zone when set.
    with scope(company=personas.company_a.pk):
        Contact.objects.filter(pk=personas.contact_a.pk).update(timezone="Asia/Tokyo")
    page = html(signed_in("dana@acme.test").get("/portal/tickets/"))
    tokyo = timezone.localtime(due, ZoneInfo("Asia/Tokyo"))
    assert f'datetime="{tokyo.isoformat()}"' in page and tokyo.strftime("%H:%M") in page
    assert "Asia/Tokyo" in page


def test_status_filter(personas, w):
    with scope(company=personas.company_a.pk):
        Contact.objects.filter(pk=personas.contact_a.pk).update(portal_admin=True)
        change_status(w.gus_ticket, "resolved", actor=personas.tech_a.user)
    dana = signed_in("dana@acme.test")
    assert tickets_in(html(dana.get("/portal/tickets/?status=resolved"))) == \
        [w.gus_ticket.public_id]
    assert tickets_in(html(dana.get("/portal/tickets/?status=open"))) == \
        [w.dana_ticket.public_id]
    assert tickets_in(html(dana.get("/portal/tickets/?status=closed"))) == \
        [w.gus_ticket.public_id]
    # An unknown filter value shows everything instead of failing.
    assert len(tickets_in(html(dana.get("/portal/tickets/?status=bogus")))) == 2


def test_ticket_list_query_count_does_not_grow_with_tickets(personas, w,
                                                            django_assert_max_num_queries):
    from nestogy.tickets.actions import create_ticket

    with scope(company=personas.company_a.pk):
        Contact.objects.filter(pk=personas.contact_a.pk).update(portal_admin=True)
        for n in range(30):
            create_ticket(personas.company_a, {"client": personas.client_a,
                                               "contact": w.gus, "subject": f"Bulk {n}"})
    dana = signed_in("dana@acme.test")
    with django_assert_max_num_queries(12):
        page = html(dana.get("/portal/tickets/"))
    assert len(tickets_in(page)) == 25 and "Page 1 of 2" in page
    with django_assert_max_num_queries(12):
        assert len(tickets_in(html(dana.get("/portal/tickets/?page=2")))) == 7


def test_detail_shows_public_replies_never_internal_notes(personas, w):
    page = html(signed_in("dana@acme.test").get(f"/portal/tickets/{w.dana_ticket.public_id}/"))
    assert "We are looking at it." in page
    assert "INTERNAL" not in page and "toner vendor" not in page
    assert "Printer offline" in page and "The front desk printer shows offline." in page


# -- tickets: create and reply -----------------------------------------------------------------

def test_new_ticket_with_attachment(personas, w, media_root):
    dana = signed_in("dana@acme.test")
    response = dana.post("/portal/tickets/new/", {
        "subject": "Outlook keeps asking for a password", "description": "Since Monday.",
        "priority": "high", "category": "Email",
        "attachment": SimpleUploadedFile("screen.png", PNG, content_type="image/png")})
    assert response.status_code == 302
    public_id = response["Location"].split("/")[3]
    with scope(company=personas.company_a.pk):
        ticket = Ticket.objects.get(public_id=public_id)
        assert (ticket.client, ticket.contact, ticket.priority, ticket.category) == \
            (personas.client_a, personas.contact_a, "high", "Email")
        assert ticket.first_response_due_at is not None
        attachment = TicketAttachment.objects.get(ticket=ticket)
    assert (attachment.original_name, attachment.size, attachment.content_type) == \
        ("screen.png", len(PNG), "image/png")
    assert attachment.file.name.startswith(f"portal/attachments/{personas.company_a.pk}/")
    page = html(dana.get(response["Location"]))
    assert "screen.png" in page and "is open" in page
    download = dana.get(f"/portal/tickets/{public_id}/attachments/{attachment.public_id}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Type"] == "image/png"
    assert "attachment" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("name", "content", "ctype", "message"), [
    ("evil.exe", b"MZ\x90\x00", "application/x-msdownload", "must be a PDF, PNG"),
    ("fake.pdf", b"<html><script>alert(1)</script>", "application/pdf", "is not a .pdf"),
    ("photo.png", PNG, "text/html", "content type text/html does not match"),
    ("notes.txt", b"abc\x00def", "text/plain", "is not a text file"),
    ("empty.pdf", b"", "application/pdf", "empty"),
])
def test_bad_attachments_are_refused_and_nothing_is_written(personas, w, name, content, ctype,
                                                            message):
    with scopes_disabled():
        before = (Ticket.objects.count(), TicketAttachment.objects.count())
    response = signed_in("dana@acme.test").post("/portal/tickets/new/", {
        "subject": "With a bad file", "description": "x", "priority": "low",
        "attachment": SimpleUploadedFile(name, content, content_type=ctype)})
    assert response.status_code == 400
    assert message in response.content.decode()
    with scopes_disabled():
        assert (Ticket.objects.count(), TicketAttachment.objects.count()) == before


def test_attachment_size_limit_comes_from_the_company_setting(personas, w):
    company = personas.company_a
    company.set_setting("portal.max_attachment_mb", 1)
    company.save()
    big = PDF + b"0" * (1024 * 1024)
    response = signed_in("dana@acme.test").post("/portal/tickets/new/", {
        "subject": "Big file", "description": "x", "priority": "low",
        "attachment": SimpleUploadedFile("big.pdf", big, content_type="application/pdf")})
    assert response.status_code == 400 and "larger than 1 MB" in response.content.decode()
    with scopes_disabled():
        assert not Ticket.objects.filter(subject="Big file").exists()
    ok = signed_in("dana@acme.test").post("/portal/tickets/new/", {
        "subject": "Small file", "description": "x", "priority": "low",
        "attachment": SimpleUploadedFile("small.pdf", PDF, content_type="application/pdf")})
    assert ok.status_code == 302


def test_missing_subject_is_400_naming_the_field_and_writes_nothing(personas, w):
    with scopes_disabled():
        before = Ticket.objects.count()
    response = signed_in("dana@acme.test").post("/portal/tickets/new/", {
        "subject": "", "description": "x", "priority": "low"})
    assert response.status_code == 400
    assert re.search(r'field has-error">\s*<label for="id_subject"', response.content.decode())
    with scopes_disabled():
        assert Ticket.objects.count() == before


def test_critical_priority_needs_an_active_contract(personas, w):
    # Eli's client has no contract: critical is neither offered nor accepted.
    eli = signed_in("eli@blueridge.test")
    form = html(eli.get("/portal/tickets/new/"))
    assert 'value="critical"' not in form and 'value="high"' in form
    response = eli.post("/portal/tickets/new/", {"subject": "Server down", "description": "x",
                                                 "priority": "critical"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    # Dana's client has an active contract: critical is allowed.
    dana = signed_in("dana@acme.test")
    assert 'value="critical"' in html(dana.get("/portal/tickets/new/"))
    response = dana.post("/portal/tickets/new/", {"subject": "Server down", "description": "x",
                                                  "priority": "critical"})
    assert response.status_code == 302
    # Once the contract has ended, critical is gone again.
    with scope(company=personas.company_a.pk):
        Contract.objects.filter(pk=w.contract.pk).update(status="ended")
    assert 'value="critical"' not in html(dana.get("/portal/tickets/new/"))


def test_contact_reply_goes_through_add_reply(personas, w):
    dana = signed_in("dana@acme.test")
    url = f"/portal/tickets/{w.dana_ticket.public_id}/"
    response = dana.post(url, {"body": "It is back online, thanks!",
                               "attachment": SimpleUploadedFile("log.txt", b"all good\n",
                                                                content_type="text/plain")})
    assert response.status_code == 302 and response["Location"].startswith(url + "#reply-")
    with scope(company=personas.company_a.pk):
        reply = Reply.objects.filter(ticket=w.dana_ticket).latest("posted_at")
        assert (reply.body, reply.public, reply.by_staff, reply.author_contact) == \
            ("It is back online, thanks!", True, False, personas.contact_a)
        assert TicketAttachment.objects.get(reply=reply).original_name == "log.txt"
    page = html(dana.get(url))
    assert "It is back online, thanks!" in page and "log.txt" in page
    # An empty reply is refused and nothing is written.
    with scopes_disabled():
        before = Reply.objects.count()
    assert dana.post(url, {"body": ""}).status_code == 400
    with scopes_disabled():
        assert Reply.objects.count() == before


# -- XSS ----------------------------------------------------------------------------------------

PAYLOADS = ['<script>alert("xss")</script>', '<img src=x onerror="alert(1)">']


def test_subjects_descriptions_and_replies_are_rendered_inert(personas, w):
    dana = signed_in("dana@acme.test")
    response = dana.post("/portal/tickets/new/", {
        "subject": PAYLOADS[0], "description": PAYLOADS[1], "priority": "low"})
    assert response.status_code == 302
    url = response["Location"]
    dana.post(url, {"body": PAYLOADS[1] + PAYLOADS[0]})
    with scope(company=personas.company_a.pk):
        ticket = Ticket.objects.get(public_id=url.split("/")[3])
        add_reply(ticket, '<img src=x onerror="steal()">', public=True, actor=personas.tech_a.user)
    for path in (url, "/portal/tickets/", "/portal/"):
        page = html(dana.get(path))
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "onerror=" not in page.replace("onerror=&quot;", "")
    page = html(dana.get(url))
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "&lt;img src=x onerror=&quot;steal()&quot;&gt;" in page


# -- billing ------------------------------------------------------------------------------------

def test_invoice_list_hides_drafts_and_shows_void_as_void(personas, w):
    page = html(signed_in("dana@acme.test").get("/portal/invoices/"))
    listed = re.findall(r'href="/portal/invoices/(inv_[^/]+)/"', page)
    assert set(listed) == {w.invoice.public_id, w.void.public_id}
    assert w.draft.public_id not in page and w.eli_invoice.public_id not in page
    assert w.invoice.number in page and "150.00 USD" in page
    assert re.search(r"Void</span>.*?<span class=\"muted\">void</span>", page, re.S)
    assert "Open balance: <strong>150.00 USD</strong>" in page


def test_invoice_detail_and_pdf(personas, w):
    dana = signed_in("dana@acme.test")
    page = html(dana.get(f"/portal/invoices/{w.invoice.public_id}/"))
    for text in ("Managed workstation", "Onsite visit", "Subtotal", "150.00 USD",
                 "Pay now 150.00 USD", 'name="csrfmiddlewaretoken"'):
        assert text in page
    pdf = dana.get(f"/portal/invoices/{w.invoice.public_id}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f'filename="{w.invoice.number}.pdf"' in pdf["Content-Disposition"]
    # Void and draft invoices: no pay button; the draft is not there at all.
    assert "Pay now" not in html(dana.get(f"/portal/invoices/{w.void.public_id}/"))
    assert dana.get(f"/portal/invoices/{w.draft.public_id}/").status_code == 404
    assert dana.get(f"/portal/invoices/{w.draft.public_id}/pdf").status_code == 404


def test_pay_redirects_to_checkout_and_the_webhook_marks_it_paid(
        personas, w, stripe_configured, immediate_tasks, django_capture_on_commit_callbacks):
    from django.test import Client as HttpClient

    from tests.payments.stripe_standin import visit

    dana = signed_in("dana@acme.test")
    assert dana.get(f"/portal/invoices/{w.invoice.public_id}/pay").status_code == 405
    response = dana.post(f"/portal/invoices/{w.invoice.public_id}/pay")
    assert response.status_code == 302
    checkout = response["Location"]
    assert checkout.startswith(stripe_configured.url + "/checkout/")
    done = visit(checkout)
    paid_url = f"http://testserver/portal/invoices/{w.invoice.public_id}/paid/"
    assert done["redirect"] == paid_url
    page = html(dana.get(f"/portal/invoices/{w.invoice.public_id}/paid/"))
    assert "confirming your payment" in page and "Issued" in page
    with django_capture_on_commit_callbacks(execute=True):
        for body, header in stripe_configured.webhooks:
            assert HttpClient().post("/api/v1/webhooks/stripe", data=body,
                                     content_type="application/json",
                                     headers={"Stripe-Signature": header}).status_code == 200
    with scope(company=personas.company_a.pk):
        invoice = Invoice.objects.get(pk=w.invoice.pk)
    assert (invoice.status, invoice.balance) == ("paid", Decimal("0"))
    page = html(dana.get(f"/portal/invoices/{w.invoice.public_id}/paid/"))
    assert "is paid" in page
    # A paid invoice has no pay button, and paying again is refused politely.
    assert "Pay now" not in html(dana.get(f"/portal/invoices/{w.invoice.public_id}/"))
    again = dana.post(f"/portal/invoices/{w.invoice.public_id}/pay", follow=True)
    assert "nothing left to pay" in again.content.decode()


def test_gateway_outage_shows_a_message_not_an_error(personas, w, stripe_configured):
    stripe_configured.fail_next(5, status=500)
    dana = signed_in("dana@acme.test")
    response = dana.post(f"/portal/invoices/{w.invoice.public_id}/pay", follow=True)
    assert response.status_code == 200
    assert "Online payment is not available right now" in response.content.decode()


def test_contract_summary(personas, w):
    page = html(signed_in("dana@acme.test").get("/portal/contracts/"))
    end = w.contract.end_date
    for text in ("Managed services Acme Dental", "Monthly", "Managed workstation",
                 "Microsoft 365 seat", "35.00 USD", "12.50 USD", "420.00 USD", "570.00 USD",
                 end.strftime("%b %-d, %Y"), "renews on"):
        assert text in page, text
    assert "No contracts on file." in html(signed_in("eli@blueridge.test").get(
        "/portal/contracts/"))


def test_dashboard_sections(personas, w):
    page = html(signed_in("dana@acme.test").get("/portal/"))
    assert "<strong>1</strong> open ticket" in page and "Printer offline" in page
    assert "Open balance <strong>150.00 USD</strong>" in page
    assert w.invoice.number in page and "Managed services Acme Dental" in page
    assert "VPN drops" not in page  # Gus's ticket; Dana is not the client's admin


def test_dashboard_query_count(personas, w, django_assert_max_num_queries):
    dana = signed_in("dana@acme.test")
    with django_assert_max_num_queries(20):
        html(dana.get("/portal/"))


# -- access: other clients and other companies get 404 ------------------------------------------

def _urls(w):
    t, i = w.dana_ticket.public_id, w.invoice.public_id
    return [("get", f"/portal/tickets/{t}/"), ("post", f"/portal/tickets/{t}/"),
            ("get", f"/portal/invoices/{i}/"), ("get", f"/portal/invoices/{i}/pdf"),
            ("post", f"/portal/invoices/{i}/pay"), ("get", f"/portal/invoices/{i}/paid/")]


def test_other_clients_and_companies_get_404_everywhere(personas, w):
    dana = signed_in("dana@acme.test")
    response = dana.post("/portal/tickets/new/", {
        "subject": "With file", "description": "x", "priority": "low",
        "attachment": SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf")})
    ticket_id = response["Location"].split("/")[3]
    with scopes_disabled():
        attachment = TicketAttachment.objects.get(ticket__public_id=ticket_id)
    attachment_url = f"/portal/tickets/{ticket_id}/attachments/{attachment.public_id}/"
    assert dana.get(attachment_url).status_code == 200
    with scopes_disabled():
        replies = Reply.objects.count()
    for outsider in ("eli@blueridge.test", "finn@bravoclient.test", "gus@acme.test"):
        http = signed_in(outsider)
        for method, url in [*_urls(w), ("get", attachment_url)]:
            if outsider == "gus@acme.test" and "/invoices/" in url:
                continue  # Gus is at Dana's client: the client's invoices are his too.
            body = {"body": "sneaky"} if method == "post" else None
            assert getattr(http, method)(url, body).status_code == 404, (outsider, url)
    # The attachment of another ticket, addressed through a ticket Eli can see: still 404.
    eli = signed_in("eli@blueridge.test")
    sneaky = f"/portal/tickets/{w.eli_ticket.public_id}/attachments/{attachment.public_id}/"
    assert eli.get(sneaky).status_code == 404
    # Company B's objects are 404 for Dana.
    for url in (f"/portal/tickets/{w.finn_ticket.public_id}/",
                f"/portal/invoices/{w.finn_invoice.public_id}/",
                f"/portal/invoices/{w.finn_invoice.public_id}/pdf"):
        assert dana.get(url).status_code == 404
    with scopes_disabled():
        assert Reply.objects.count() == replies


def test_signed_out_visitors_are_sent_to_sign_in(personas, w):
    from django.test import Client as HttpClient

    for _, url in _urls(w):
        response = HttpClient().get(url)
        assert response.status_code == 302 and response["Location"].startswith(
            "/portal/login/?next=")


# -- CSRF on every form -------------------------------------------------------------------------

def test_every_form_on_the_new_pages_has_a_csrf_token_and_posts_need_it(personas, w):
    from django.test import Client as HttpClient

    from tests.conftest import PASSWORD

    http = HttpClient(enforce_csrf_checks=True)
    page = http.get("/portal/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    http.post("/portal/login/", {"email": "dana@acme.test", "password": PASSWORD,
                                 "csrfmiddlewaretoken": token})
    pages = ["/portal/", "/portal/tickets/", "/portal/tickets/new/",
             f"/portal/tickets/{w.dana_ticket.public_id}/", "/portal/invoices/",
             f"/portal/invoices/{w.invoice.public_id}/",
             f"/portal/invoices/{w.invoice.public_id}/paid/", "/portal/contracts/"]
    post_forms = 0
    for path in pages:
        content = html(http.get(path))
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", content, re.S):
            assert "csrfmiddlewaretoken" in form, f"form without CSRF token on {path}"
            post_forms += 1
    assert post_forms >= len(pages) + 3  # sign-out everywhere, new ticket, reply, pay
    # Without the token, every portal POST is refused and writes nothing.
    with scopes_disabled():
        before = (Ticket.objects.count(), Reply.objects.count())
    for url, data in (("/portal/tickets/new/", {"subject": "x", "description": "y",
                                                "priority": "low"}),
                      (f"/portal/tickets/{w.dana_ticket.public_id}/", {"body": "x"}),
                      (f"/portal/invoices/{w.invoice.public_id}/pay", {})):
        assert http.post(url, data).status_code == 403, url
    with scopes_disabled():
        assert (Ticket.objects.count(), Reply.objects.count()) == before


def test_unknown_contact_timezone_falls_back_to_the_company_zone(personas, w):
    with scope(company=personas.company_a.pk):
        Contact.objects.filter(pk=personas.contact_a.pk).update(timezone="Mars/Olympus_Mons")
    page = html(signed_in("dana@acme.test").get("/portal/tickets/?page=999"))
    assert "America/New_York" in page
    assert tickets_in(page) == [w.dana_ticket.public_id]  # an out-of-range page shows the last


def test_deleting_a_ticket_removes_its_attachment_files(personas, w, media_root,
                                                        django_capture_on_commit_callbacks):
    from nestogy.tickets.actions import delete_ticket

    dana = signed_in("dana@acme.test")
    dana.post(f"/portal/tickets/{w.dana_ticket.public_id}/", {
        "body": "File", "attachment": SimpleUploadedFile("a.csv", b"a,b\n1,2\n",
                                                         content_type="text/csv")})
    with scope(company=personas.company_a.pk):
        attachment = TicketAttachment.objects.get()
        path = media_root / attachment.file.name
        assert path.read_bytes() == b"a,b\n1,2\n"
        with django_capture_on_commit_callbacks(execute=True):
            delete_ticket(w.dana_ticket, actor=personas.manager_a.user)
    assert not path.exists()
    with scopes_disabled():
        assert not TicketAttachment.objects.exists()
