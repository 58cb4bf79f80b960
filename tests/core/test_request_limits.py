"""Oversized requests are refused from their Content-Length, before the body is read."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client as HttpClient
from django_scopes import scopes_disabled

from nestogy.clients.models import Client
from tests.portal.helpers import signed_in

MB = 1024 * 1024


def test_upload_over_the_cap_is_refused_before_anything_reaches_disk(personas, settings,
                                                                       monkeypatch):
    """Attack: post a file larger than the request cap to the portal. Django used to stream
    it to a temporary file before any view could look at its size; now the request is
    refused on its Content-Length and no upload handler ever runs."""
    settings.NESTOGY_MAX_REQUEST_BYTES = 1 * MB
    opened = []
    original = TemporaryFileUploadHandler.new_file

    def spy(self, *args, **kwargs):
        opened.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", spy)
    dana = signed_in("dana@acme.test")
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * (3 * MB),
                             content_type="application/pdf")
    response = dana.post("/portal/tickets/new/", {"subject": "Big file", "description": "x",
                                                  "priority": "low", "attachment": big})
    assert response.status_code == 413
    assert "larger than 1 MB" in response.content.decode()
    assert opened == []
    from nestogy.tickets.models import Ticket

    with scopes_disabled():
        assert not Ticket.objects.filter(subject="Big file").exists()


def test_api_body_over_the_limit_is_a_json_413_and_writes_nothing(personas, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    api = personas.owner_a.api
    body = {"name": "Huge", "notes": "n" * (70 * 1024)}
    response = api.post("/clients", body)
    assert response.status_code == 413
    assert response.data["error"]["code"] == "request_too_large"
    assert response.data["error"]["message"] == "the request body is larger than 0.1 MB"
    with scopes_disabled():
        assert not Client.objects.filter(name="Huge").exists()
    assert api.post("/clients", {"name": "Small"}).status_code == 201


def test_declared_length_is_enough_to_refuse(personas):
    """The refusal does not depend on reading the body: a request that merely claims to be
    larger than allowed is answered at once."""
    http = HttpClient(headers={"Authorization": f"Bearer {personas.owner_a.token}"})
    response = http.generic("POST", "/api/v1/clients", b"{}", "application/json",
                            CONTENT_LENGTH=str(200 * MB))
    assert response.status_code == 413
    assert json.loads(response.content)["error"]["code"] == "request_too_large"


@pytest.mark.django_db
def test_a_malformed_content_length_is_a_400():
    response = HttpClient().generic("POST", "/api/v1/clients", b"{}", "application/json",
                                    CONTENT_LENGTH="12abc")
    assert response.status_code == 400
    assert json.loads(response.content)["error"]["code"] == "bad_request"


def test_uploads_within_the_cap_still_work(personas):
    from tests.portal.helpers import PDF

    dana = signed_in("dana@acme.test")
    response = dana.post("/portal/tickets/new/", {
        "subject": "Small file", "description": "x", "priority": "low",
        "attachment": SimpleUploadedFile("small.pdf", PDF, content_type="application/pdf")})
    assert response.status_code == 302
