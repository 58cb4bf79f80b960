"""Operators see and download the files contacts attached in the admin; a company's staff
download them from the workspace's ticket page (tests/workspace)."""

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


def test_operators_download_attachments_staff_use_the_workspace(personas):
    w = world(personas)
    signed_in("dana@acme.test").post(f"/portal/tickets/{w.dana_ticket.public_id}/", {
        "body": "Report attached",
        "attachment": SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")})
    with scopes_disabled():
        attachment = TicketAttachment.objects.get()
    from tests.support.admin_forms import operator

    url = f"/admin/tickets/ticketattachment/{attachment.pk}/download/"
    listing = operator().get("/admin/tickets/ticketattachment/")
    assert listing.status_code == 200 and b"report.pdf" in listing.content
    response = operator().get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    for email in ("tech1@alpha.test", "owner@bravo.test"):
        assert staff(email).get(url).status_code == 302  # the operators' sign-in
    assert HttpClient().get(url).status_code == 302
