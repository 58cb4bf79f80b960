"""The composer on the ticket page: canned responses (management per role, placeholders, the
sandbox), attachments on replies and internal notes (checks, scoped downloads, never a
note's file in the portal), and bad input that writes nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.core.errors import ValidationError
from nestogy.tickets import canned
from nestogy.tickets.models import CannedResponse, Reply, TicketAttachment
from tests.portal.helpers import PDF, PNG
from tests.portal.helpers import signed_in as contact_signed_in
from tests.workspace.helpers import check_role_matrix, signed_in, ticket

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
GREETING = ("Hi {{ contact.first_name }}, about #{{ ticket.number }} ({{ ticket.subject }}) "
            "for {{ client.name }}: {{ technician.first_name }} at {{ company.name }}.")


def make_canned(company, title="Greeting", body=GREETING, **extra):
    with scope(company=company.pk):
        return canned.create_canned(company, {"title": title, "body": body, **extra})


def pdf(name="report.pdf", content=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def rows(model, **filters):
    with scopes_disabled():
        return model.objects.filter(**filters).count()


# -- managing canned responses -----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_canned_pages_follow_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    item = make_canned(p.company_a, "Existing")
    t = ticket(p.company_a, p.client_a)
    att = _note_with_file(p, t)
    client = signed_in(persona.email)
    manage = allowed(persona.role, "canned.manage")
    cases = [
        ("get", "/app/canned/", {}, "canned.manage"),
        ("get", "/app/canned/new/", {}, "canned.manage"),
        ("post", "/app/canned/new/", {"title": f"New {role}", "body": "Hello"},
         "canned.manage"),
        ("get", f"/app/canned/{item.public_id}/", {}, "canned.manage"),
        ("post", f"/app/canned/{item.public_id}/",
         {"title": "Existing", "body": f"Edited by {role}", "is_active": "on"}, "canned.manage"),
        ("get", f"/app/canned/{item.public_id}/delete/", {}, "canned.manage"),
        ("post", f"/app/tickets/{t.public_id}/canned", {"canned": item.public_id, "body": ""},
         "tickets.update"),
        ("get", f"/app/tickets/{t.public_id}/attachments/{att.public_id}/", {}, "tickets.view"),
    ]
    check_role_matrix(client, persona.role, cases)
    with scope(company=p.company_a.pk):
        assert CannedResponse.objects.filter(title=f"New {role}").exists() == manage
        assert (CannedResponse.objects.get(pk=item.pk).body == f"Edited by {role}") == manage
    response = client.post(f"/app/canned/{item.public_id}/delete/")
    assert response.status_code == (302 if manage else 403)
    assert rows(CannedResponse, pk=item.pk) == (0 if manage else 1)
    # The nav shows the management page only to those who may use it.
    nav = client.get("/app/").content.decode() if allowed(persona.role, "tickets.view") else ""
    assert ('href="/app/canned/"' in nav) == manage


def test_manager_creates_edits_and_deletes_a_canned_response(personas):
    p = personas
    client = signed_in("manager@alpha.test")
    response = client.post("/app/canned/new/", {
        "title": "Printer restarted", "category": "Printing", "is_active": "on",
        "body": "Hi {{ contact.first_name }}, the printer is back."})
    assert response.status_code == 302
    with scope(company=p.company_a.pk):
        item = CannedResponse.objects.get(title="Printer restarted")
        assert item.created_by == p.manager_a.user and item.is_active
    listing = client.get("/app/canned/").content.decode()
    assert "Printer restarted" in listing and "Printing" in listing
    response = client.post(f"/app/canned/{item.public_id}/", {
        "title": "Printer fixed", "category": "Printing", "body": "Fixed."})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.body, item.is_active) == ("Printer fixed", "Fixed.", False)
    assert client.post(f"/app/canned/{item.public_id}/delete/").status_code == 302
    assert rows(CannedResponse, company=p.company_a) == 0
    with scopes_disabled():
        actions = set(AuditEntry.objects.filter(object_id=item.public_id)
                      .values_list("action", flat=True))
    assert actions == {"canned_response.created", "canned_response.updated",
                       "canned_response.deleted"}


@pytest.mark.parametrize(("data", "message"), [
    ({"title": "", "body": "Hello"}, "Title: This field is required."),
    ({"title": "x" * 121, "body": "Hello"}, "Title: Ensure this value has at most 120"),
    ({"title": "Broken", "body": "{% if %}"}, "Text: "),
    ({"title": "Include", "body": "{% include 'base.html' %}"},
     "Text: The tag {% include %} is not allowed in a canned response"),
    ({"title": "Debug", "body": "{% debug %}"}, "Text: The tag {% debug %} is not allowed"),
    ({"title": "Safe", "body": "{{ ticket.subject|safe }}"},
     "Text: The filter |safe is not allowed in a canned response"),
    ({"title": "Empty", "body": "   "}, "Text: This field is required."),
])
def test_bad_canned_input_names_the_field_and_writes_nothing(personas, data, message):
    p = personas
    response = signed_in("admin@alpha.test").post("/app/canned/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert rows(CannedResponse, company=p.company_a) == 0


def test_title_is_unique_per_company_not_across_companies(personas):
    p = personas
    make_canned(p.company_a, "Welcome")
    other = make_canned(p.company_a, "Other")
    make_canned(p.company_b, "Welcome")  # another company may use the same title
    client = signed_in("owner@alpha.test")
    response = client.post("/app/canned/new/", {"title": "welcome", "body": "Hi"})
    assert response.status_code == 400
    assert "Title: is already used by another canned response" in response.content.decode()
    response = client.post(f"/app/canned/{other.public_id}/", {"title": "Welcome", "body": "x"})
    assert response.status_code == 400
    other.refresh_from_db()
    assert other.title == "Other"
    assert rows(CannedResponse, company=p.company_a) == 2


def test_another_companys_canned_response_is_404(personas):
    p = personas
    theirs = make_canned(p.company_b, "Bravo secret")
    t = ticket(p.company_a, p.client_a)
    client = signed_in("owner@alpha.test")
    assert "Bravo secret" not in client.get("/app/canned/").content.decode()
    for url in (f"/app/canned/{theirs.public_id}/", f"/app/canned/{theirs.public_id}/delete/"):
        assert client.get(url).status_code == 404
        assert client.post(url, {"title": "Taken over", "body": "x"}).status_code == 404
    response = client.post(f"/app/tickets/{t.public_id}/canned",
                           {"canned": theirs.public_id, "body": ""})
    assert response.status_code == 400
    assert "Choose one of the canned responses." in response.content.decode()
    with scopes_disabled():
        theirs.refresh_from_db()
    assert theirs.title == "Bravo secret"


def test_canned_title_and_body_are_shown_escaped(personas):
    p = personas
    make_canned(p.company_a, XSS, body="Text " + XSS, category=XSS)
    t = ticket(p.company_a, p.client_a, contact=p.contact_a)
    client = signed_in("owner@alpha.test")
    for page in (client.get("/app/canned/"), client.get(f"/app/tickets/{t.public_id}/")):
        body = page.content.decode()
        assert XSS not in body
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    with scope(company=p.company_a.pk):
        item = CannedResponse.objects.get()
    inserted = client.post(f"/app/tickets/{t.public_id}/canned",
                           {"canned": item.public_id, "body": ""}).content.decode()
    assert XSS not in inserted and "Text &lt;script&gt;" in inserted


# -- inserting a canned response ---------------------------------------------------------------


def test_placeholders_are_filled_in_for_the_ticket(personas):
    p = personas
    with scopes_disabled():
        p.tech_a.user.name = "Tara Tech"
        p.tech_a.user.save()
    item = make_canned(p.company_a)
    t = ticket(p.company_a, p.client_a, "Email down", contact=p.contact_a)
    client = signed_in("tech1@alpha.test")
    response = client.post(f"/app/tickets/{t.public_id}/canned",
                           {"canned": item.public_id, "body": "Draft so far"})
    assert response.status_code == 200  # no JavaScript: the whole page, message filled in
    body = response.content.decode()
    expected = (f"Draft so far\n\nHi Dana, about #{t.number} (Email down) for Acme Dental: "
                "Tara at Alpha IT.")
    assert f">\n{expected}</textarea>" in body
    assert 'id="timeline-title"' in body
    assert rows(Reply, ticket=t) == 0  # inserting sends nothing
    # htmx: only the message field comes back
    partial = client.post(f"/app/tickets/{t.public_id}/canned",
                          {"canned": item.public_id, "body": ""}, HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert partial.status_code == 200 and 'id="composer-message"' in text
    assert "<html" not in text and expected.split("\n\n")[1] in text


def test_placeholders_without_a_contact_render_empty_and_defaults_apply(personas):
    p = personas
    item = make_canned(p.company_a, body="Hi {{ contact.first_name|default:'there' }}!"
                                         "{{ nothing.here }}")
    t = ticket(p.company_a, p.client_a)
    with scope(company=p.company_a.pk):
        assert canned.render(item, t, p.tech_a.user, p.company_a) == "Hi there!"


@pytest.mark.parametrize("source", [
    "{{ ''.__class__ }}",
    "{{ ticket.__class__.__mro__ }}",
    "{{ ticket.subject.__class__.__init__.__globals__ }}",
    "{{ company.name.upper.__self__ }}",
    "{% load i18n %}{% get_current_language as x %}",
    "{% include '/etc/passwd' %}",
    "{% with a=ticket.number %}{{ a.__add__ }}{% endwith %}",
    "{% for x in '123456789'|make_list %}{% endfor %}",
])
def test_sandbox_escapes_are_refused_or_render_harmlessly(personas, source):
    p = personas
    t = ticket(p.company_a, p.client_a, "Secret subject", contact=p.contact_a)
    with scope(company=p.company_a.pk):
        try:
            canned.check_body(source)
        except ValidationError as exc:
            assert exc.field == "body"
            return
        item = CannedResponse.objects.create(company=p.company_a, title="Probe", body=source)
        out = canned.render(item, t, p.tech_a.user, p.company_a)
    assert "class" not in out and "<" not in out and "object at" not in out
    assert "SECRET_KEY" not in out and "function" not in out


def test_render_is_cut_off_at_the_output_limit(personas):
    p = personas
    t = ticket(p.company_a, p.client_a)
    bomb = ("{% for a in '0123456789' %}{% for b in '0123456789' %}{% for c in '0123456789' %}"
            "{% for d in '0123456789' %}{{ ticket.subject }}{{ ticket.subject }}{% endfor %}"
            "{% endfor %}{% endfor %}{% endfor %}")
    item = make_canned(p.company_a, body=bomb)
    client = signed_in("tech1@alpha.test")
    response = client.post(f"/app/tickets/{t.public_id}/canned",
                           {"canned": item.public_id, "body": "keep me"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Canned response: Greeting: the output is longer than" in body
    assert ">\nkeep me</textarea>" in body


def test_inactive_or_missing_canned_response_is_refused(personas):
    p = personas
    item = make_canned(p.company_a, is_active=False)
    t = ticket(p.company_a, p.client_a)
    client = signed_in("tech1@alpha.test")
    page = client.get(f"/app/tickets/{t.public_id}/").content.decode()
    assert item.public_id not in page  # not offered
    for data in ({"canned": item.public_id, "body": ""}, {"canned": "", "body": "x"}):
        response = client.post(f"/app/tickets/{t.public_id}/canned", data)
        assert response.status_code == 400
        assert "Canned response: " in response.content.decode()


def test_technician_uses_but_cannot_manage(personas):
    p = personas
    item = make_canned(p.company_a)
    t = ticket(p.company_a, p.client_a)
    page = signed_in("tech1@alpha.test").get(f"/app/tickets/{t.public_id}/").content.decode()
    assert f'value="{item.public_id}"' in page and "Insert" in page
    assert "Manage canned responses" not in page
    page = signed_in("manager@alpha.test").get(f"/app/tickets/{t.public_id}/").content.decode()
    assert "Manage canned responses" in page


# -- attachments -------------------------------------------------------------------------------


def _note_with_file(p, t, public=False):
    client = signed_in("tech1@alpha.test")
    response = client.post(f"/app/tickets/{t.public_id}/reply", {
        "body": "Log attached", "kind": "reply" if public else "note",
        "attachments": [pdf("diag.pdf")]}, follow=True)
    assert response.redirect_chain, response.content[:500]
    kind = "Reply sent to the client" if public else "Internal note added"
    assert f"{kind} with 1 attachment." in response.content.decode()
    with scope(company=t.company_id):
        return TicketAttachment.objects.filter(ticket=t).latest("id")


def test_reply_with_files_is_stored_linked_and_shown_in_the_timeline(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, contact=p.contact_a)
    client = signed_in("tech1@alpha.test")
    response = client.post(f"/app/tickets/{t.public_id}/reply", {
        "body": "Here are the results", "kind": "reply",
        "attachments": [pdf(), SimpleUploadedFile("screen.png", PNG, content_type="image/png")]})
    assert response.status_code == 302
    with scope(company=p.company_a.pk):
        reply = Reply.objects.get(ticket=t)
        files = list(TicketAttachment.objects.filter(reply=reply).order_by("original_name"))
    assert reply.public and [f.original_name for f in files] == ["report.pdf", "screen.png"]
    assert all(f.uploaded_by_user == p.tech_a.user and f.uploaded_by_contact is None
               for f in files)
    page = client.get(f"/app/tickets/{t.public_id}/").content.decode()
    assert "Reply sent to the client with 2 attachments." in page
    link = f"/app/tickets/{t.public_id}/attachments/{files[0].public_id}/"
    assert f'href="{link}"' in page
    download = client.get(link)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith('attachment; filename="report.pdf"')
    assert download["X-Content-Type-Options"] == "nosniff"
    # The client sees a file that came with a public reply.
    portal = contact_signed_in("dana@acme.test")
    detail = portal.get(f"/portal/tickets/{t.public_id}/").content.decode()
    assert "report.pdf" in detail
    portal_link = f"/portal/tickets/{t.public_id}/attachments/{files[0].public_id}/"
    assert portal.get(portal_link).status_code == 200


def test_internal_note_files_never_reach_the_portal(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, contact=p.contact_a)
    att = _note_with_file(p, t, public=False)
    staff = signed_in("tech1@alpha.test")
    page = staff.get(f"/app/tickets/{t.public_id}/").content.decode()
    assert "Internal note" in page and "diag.pdf" in page
    portal = contact_signed_in("dana@acme.test")
    detail = portal.get(f"/portal/tickets/{t.public_id}/")
    assert detail.status_code == 200
    assert "diag.pdf" not in detail.content.decode()
    assert att.public_id not in detail.content.decode()
    response = portal.get(f"/portal/tickets/{t.public_id}/attachments/{att.public_id}/")
    assert response.status_code == 404


@pytest.mark.parametrize(("upload", "message"), [
    (lambda: pdf("tool.exe", b"MZ\x90\x00", "application/octet-stream"),
     "The file tool.exe must be a PDF, PNG, JPG, TXT, LOG, CSV, DOCX or XLSX file."),
    (lambda: pdf("invoice.pdf", b"MZ\x90\x00 not a pdf"),
     "The file invoice.pdf content is not a .pdf file."),
    (lambda: pdf("photo.png", PNG, "application/pdf"),
     "The file photo.png content type application/pdf does not match a .png file."),
    (lambda: pdf("big.pdf", PDF + b"0" * (1024 * 1024 + 1)),
     "The file big.pdf is larger than 1 MB."),
    (lambda: pdf("empty.pdf", b""), "The submitted file is empty."),
])
def test_bad_file_names_the_field_and_writes_nothing(personas, upload, message):
    p = personas
    with scope(company=p.company_a.pk):
        p.company_a.set_setting("portal.max_attachment_mb", 1)
        p.company_a.save()
    t = ticket(p.company_a, p.client_a, contact=p.contact_a)
    client = signed_in("tech1@alpha.test")
    response = client.post(f"/app/tickets/{t.public_id}/reply", {
        "body": "With a file", "kind": "reply", "attachments": [pdf("fine.pdf"), upload()]})
    assert response.status_code == 400
    body = response.content.decode()
    assert f"Attachments: {message}" in body
    assert ">\nWith a file</textarea>" in body  # what was written is kept
    assert rows(Reply, ticket=t) == 0
    assert rows(TicketAttachment, ticket=t) == 0
    t.refresh_from_db()
    assert t.first_response_at is None


def test_ten_files_go_with_one_note_and_an_eleventh_is_refused(personas):
    p = personas
    t = ticket(p.company_a, p.client_a)
    client = signed_in("tech1@alpha.test")
    response = client.post(f"/app/tickets/{t.public_id}/reply", {
        "body": "Many", "kind": "note", "attachments": [pdf(f"f{i}.pdf") for i in range(11)]})
    assert response.status_code == 400  # the server refuses the request as a whole
    assert rows(Reply, ticket=t) == 0 and rows(TicketAttachment, ticket=t) == 0
    response = client.post(f"/app/tickets/{t.public_id}/reply", {
        "body": "Ten", "kind": "note", "attachments": [pdf(f"f{i}.pdf") for i in range(10)]})
    assert response.status_code == 302
    assert rows(TicketAttachment, ticket=t, reply__body="Ten") == 10


def test_another_companys_attachment_is_404(personas):
    p = personas
    mine = ticket(p.company_a, p.client_a)
    theirs = ticket(p.company_b, p.client_b, "Bravo")
    with scope(company=p.company_b.pk):
        reply = Reply.objects.create(company=p.company_b, ticket=theirs, body="x",
                                     posted_at=theirs.opened_at)
        from nestogy.tickets.attachments import attach

        att = attach(theirs, pdf("bravo.pdf"), user=p.tech_b.user, reply=reply)
    client = signed_in("owner@alpha.test")
    assert client.get(f"/app/tickets/{theirs.public_id}/attachments/"
                      f"{att.public_id}/").status_code == 404
    # nor through one of my own tickets
    assert client.get(f"/app/tickets/{mine.public_id}/attachments/"
                      f"{att.public_id}/").status_code == 404
    assert client.post(f"/app/tickets/{theirs.public_id}/reply", {
        "body": "x", "kind": "note", "attachments": [pdf()]}).status_code == 404
    assert rows(TicketAttachment, ticket=theirs) == 1


def test_attachment_name_is_shown_escaped(personas):
    p = personas
    t = ticket(p.company_a, p.client_a)
    name = '<img src=x onerror=alert(1)>.pdf'
    signed_in("tech1@alpha.test").post(f"/app/tickets/{t.public_id}/reply", {
        "body": "x", "kind": "note", "attachments": [pdf(name)]})
    page = signed_in("tech1@alpha.test").get(f"/app/tickets/{t.public_id}/").content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.pdf" in page


def test_demo_companies_get_five_canned_responses_a_technician_can_insert():
    from django.test import Client

    from nestogy.accounts.models import Membership
    from nestogy.ops.demo import demo_logins, seed_demo
    from nestogy.tenancy.models import Company
    from nestogy.tickets.models import Ticket

    seed_demo(report=lambda _: None)
    with scopes_disabled():
        for company in Company.objects.all():
            assert CannedResponse.objects.filter(company=company, is_active=True).count() == 5
    email, password = next((e, pw) for who, e, pw in demo_logins() if "technician" in who)
    client = Client()
    assert client.post("/app/login/", {"email": email, "password": password}).status_code == 302
    with scopes_disabled():
        company = Membership.objects.get(user__email=email).company
        t = Ticket.objects.filter(company=company, contact__isnull=False).first()
        items = list(CannedResponse.objects.filter(company=company))
    page = client.get(f"/app/tickets/{t.public_id}/").content.decode()
    for item in items:
        assert f'value="{item.public_id}"' in page
        response = client.post(f"/app/tickets/{t.public_id}/canned",
                               {"canned": item.public_id, "body": ""}, HTTP_HX_REQUEST="true")
        text = response.content.decode()
        assert response.status_code == 200 and "Canned response:" not in text
        assert "{{" not in text and "{%" not in text
        assert f"{t.contact.name.split()[0]}," in text
