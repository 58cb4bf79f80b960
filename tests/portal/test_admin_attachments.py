"""Staff see and download the files contacts attached, only for their own company."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django_scopes import scopes_disabled

from nestogy.tickets.models import TicketAttachment
from tests.conftest import PASSWORD
from tests.portal.helpers import PDF, signed_in, world

pytestmark = pytest.mark.django_db


def staff(email):
    http = HttpClient()
    assert http.login(username=email, password=PASSWORD)
    return http


def test_staff_download_attachments_of_their_company_only(personas):
    w = world(personas)
    signed_in("dana@acme.test").post(f"/portal/tickets/{w.dana_ticket.public_id}/", {
        "body": "Report attached",
        "attachment": SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")})
    with scopes_disabled():
        attachment = TicketAttachment.objects.get()
    listing = staff("tech1@alpha.test").get("/admin/tickets/ticketattachment/")
    assert listing.status_code == 200 and b"report.pdf" in listing.content
    url = f"/admin/tickets/ticketattachment/{attachment.pk}/download/"
    response = staff("tech1@alpha.test").get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert staff("owner@bravo.test").get(url).status_code == 404
    assert b"report.pdf" not in staff("owner@bravo.test").get(
        "/admin/tickets/ticketattachment/").content
    assert HttpClient().get(url).status_code == 302  # to the admin sign-in
