"""The company logo and PDF rendering: nothing a tenant types is ever fetched by a PDF or a
page; a logo is uploaded (or fetched once through the egress rules), checked as an image,
re-encoded, stored and embedded."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django_scopes import scope, scopes_disabled
from PIL import Image, PngImagePlugin

from nestogy.audit.models import AuditEntry
from nestogy.billing.actions import create_invoice, issue_invoice
from nestogy.billing.pdf import render_invoice_html, render_invoice_pdf
from nestogy.core import images
from nestogy.core.pdf import BASE_URL, ResourceRefused, _fetcher, render_pdf
from nestogy.payments.statement import statement_pdf
from nestogy.tenancy.models import Company, CompanyLogo
from tests.netlab import Server
from tests.portal.helpers import signed_in


def png(size=(60, 30), color=(200, 20, 20), *, comment: str | None = None) -> bytes:
    out = io.BytesIO()
    info = None
    if comment:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", comment)
    Image.new("RGB", size, color).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def noisy_png() -> bytes:
    import os

    out = io.BytesIO()
    Image.frombytes("RGB", (100, 100), os.urandom(30000)).save(out, "PNG")
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (50, 40), (10, 120, 10))
    exif = image.getexif()
    exif[0x010E] = "GPS 48.8584N 2.2945E secret"  # ImageDescription
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bomb(width=30000, height=30000) -> bytes:
    """A tiny PNG whose header announces 900 million pixels."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<image href="http://127.0.0.1:1/x"/><script>alert(1)</script></svg>')


def upload(api, content: bytes, name="logo.png", content_type="image/png", **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile(name, content, content_type),
                                       **extra})
    response = api.http.put("/api/v1/company/logo", data=body, content_type=MULTIPART_CONTENT,
                            headers=api._headers())
    response.data = response.json() if response.content else None
    return response


def issued_invoice(p, client=None):
    client = client or p.client_a
    with scope(company=client.company_id):
        draft = create_invoice(client.company, client, {"items": [
            {"description": "Managed workstation", "quantity": "2", "unit_price": "25.00"}]})
        return issue_invoice(draft)


def image_count(pdf: bytes) -> int:
    assert pdf.startswith(b"%PDF-")
    return pdf.count(b"/Image")


@pytest.fixture
def logo_server():
    server = Server("127.0.0.1")
    server.routes["/logo.png"] = (200, {"Content-Type": "image/png"}, png())
    yield server
    server.stop()


def store_logo_url(company, url):
    """A logo URL as stored before the checks existed (or by any path skipping them)."""
    with scopes_disabled():
        company = Company.objects.get(pk=company.pk)
        company.settings = {**company.settings, "branding.logo_url": url}
        company.save(update_fields=["settings"])


# --- 3. PDFs fetch nothing --------------------------------------------------------------------

def test_invoice_pdf_does_not_fetch_the_logo_url_from_a_local_server(personas, logo_server):
    p = personas
    store_logo_url(p.company_a, logo_server.url("/logo.png"))
    invoice = issued_invoice(p)
    response = p.owner_a.api.get(f"/invoices/{invoice.public_id}/pdf")
    assert response.status_code == 200
    assert image_count(response.content) == 0
    portal = signed_in("dana@acme.test")
    download = portal.get(f"/portal/invoices/{invoice.public_id}/pdf")
    assert download.status_code == 200
    assert image_count(download.content) == 0
    with scope(company=p.company_a.pk):
        assert image_count(statement_pdf(p.client_a)) == 0
    assert logo_server.requests == []


def test_invoice_pdf_reads_no_local_file(personas, tmp_path):
    secret_image = tmp_path / "secret.png"
    secret_image.write_bytes(png(color=(1, 2, 3)))
    p = personas
    for url in (f"file://{secret_image}", "file:///etc/hostname"):
        store_logo_url(p.company_a, url)
        invoice = issued_invoice(p)
        with scope(company=p.company_a.pk):
            html = render_invoice_html(invoice)
            pdf = render_invoice_pdf(invoice)
        assert "file://" not in html
        assert image_count(pdf) == 0


def test_pdf_fetcher_refuses_everything_but_data_and_static(logo_server, tmp_path):
    secret = tmp_path / "s.png"
    secret.write_bytes(png())
    html = f"""<html><head>
      <link rel="stylesheet" href="{logo_server.url('/style.css')}">
      <link rel="stylesheet" href="file:///etc/passwd">
      <style>body {{ background: url("{logo_server.url('/bg.png')}"); }}
             @import url("{logo_server.url('/import.css')}");</style></head>
      <body><img src="{logo_server.url('/logo.png')}"><img src="file://{secret}">
      <img src="/static/../../../{secret}"><img src="ftp://127.0.0.1/x.png">
      <object data="{logo_server.url('/obj.png')}"></object><p>Still renders</p></body></html>"""
    pdf = render_pdf(html)
    assert image_count(pdf) == 0
    assert logo_server.requests == []
    fetcher = _fetcher()
    for url in (BASE_URL + "static/../settings.py", BASE_URL + "static/portal/%2e%2e/x.css",
                BASE_URL + "static//etc/passwd", BASE_URL + "static/portal\\..\\x.css",
                BASE_URL + "other/portal/portal.css", "data:text/html,<h1>x</h1>",
                "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", "https://example.org/x.css"):
        with pytest.raises(ResourceRefused):
            fetcher.fetch(url)
    css = fetcher.fetch(BASE_URL + "static/portal/portal.css")
    assert css.content_type == "text/css" and css.read()


def test_uploaded_logo_is_embedded_in_pdfs_as_data_url(personas):
    p = personas
    response = upload(p.owner_a.api, png(comment="gps=48.85N secret"))
    assert response.status_code == 200, response.data
    invoice = issued_invoice(p)
    with scope(company=p.company_a.pk):
        html = render_invoice_html(invoice)
        pdf = render_invoice_pdf(invoice)
        statement = statement_pdf(p.client_a)
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"', html)
    assert image_count(pdf) == 1
    assert image_count(statement) == 1
    # Company B's invoice does not carry A's logo.
    other = issued_invoice(p, p.client_b)
    with scope(company=p.company_b.pk):
        assert image_count(render_invoice_pdf(other)) == 0


# --- Upload API -------------------------------------------------------------------------------

def test_upload_stores_a_reencoded_image_without_metadata(personas):
    p = personas
    response = upload(p.owner_a.api, png(size=(2400, 600), comment="gps=48.85N secret"))
    assert response.status_code == 200, response.data
    body = response.data
    assert body["content_type"] == "image/png" and body["source"] == "upload"
    assert (body["width"], body["height"]) == (1000, 250)  # downscaled to 1000 px
    with scopes_disabled():
        logo = CompanyLogo.objects.get(company=p.company_a)
        assert AuditEntry.objects.filter(action="company.logo_uploaded",
                                         company_id=p.company_a.pk).count() == 1
    content = bytes(logo.content)
    assert b"secret" not in content and b"tEXt" not in content
    assert body["sha256"] == logo.sha256 and body["bytes"] == len(content)

    jpeg = upload(p.owner_a.api, jpeg_with_exif(), name="logo.jpg", content_type="image/jpeg")
    assert jpeg.status_code == 200 and jpeg.data["content_type"] == "image/jpeg"
    with scopes_disabled():
        content = bytes(CompanyLogo.objects.get(company=p.company_a).content)
        assert CompanyLogo.objects.filter(company=p.company_a).count() == 1
    assert b"secret" not in content and b"Exif" not in content


@pytest.mark.parametrize(("content", "message"), [
    (b"just some text, not an image", "is not a PNG, JPEG, GIF or WebP image"),
    (SVG, "SVG is not accepted"),
    (b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'></svg>", "SVG is not accepted"),
    (png_bomb(), "million pixels"),
    (png_bomb(9000, 9000), "million pixels"),
    (png_bomb(5000, 4000), "million pixels"),
    (noisy_png()[:3000], "damaged"),
    (b"", "is empty"),
])
def test_bad_uploads_are_refused_naming_the_field(personas, content, message):
    response = upload(personas.owner_a.api, content)
    assert response.status_code == 422, response.data
    assert response.data["error"]["field"] == "file"
    assert message in response.data["error"]["message"]
    with scopes_disabled():
        assert not CompanyLogo.objects.exists()


def test_oversized_upload_is_refused(personas):
    big = png() + b"\x00" * (images.MAX_BYTES + 10)
    response = upload(personas.owner_a.api, big)
    assert response.status_code == 422
    assert response.data["error"]["field"] == "file"
    assert "larger than 2 MB" in response.data["error"]["message"]


def test_upload_needs_multipart_with_only_a_file_part(personas):
    api = personas.owner_a.api
    assert api.put("/company/logo", {}).data["error"]["field"] == "file"
    extra = upload(api, png(), caption="hello")
    assert extra.status_code == 422 and extra.data["error"]["field"] == "caption"
    assert personas.tech_a.api.put("/company/logo", {}).status_code == 403
    assert upload(personas.tech_a.api, png()).status_code == 403


def test_each_company_changes_only_its_own_logo(personas):
    p = personas
    assert upload(p.owner_a.api, png(color=(255, 0, 0))).status_code == 200
    assert upload(p.owner_b.api, png(color=(0, 0, 255))).status_code == 200
    assert p.owner_b.api.delete("/company/logo").status_code == 204
    with scopes_disabled():
        assert list(CompanyLogo.objects.values_list("company_id", flat=True)) == [
            p.company_a.pk]
    assert p.owner_b.api.delete("/company/logo").status_code == 204  # idempotent
    assert personas.tech_a.api.delete("/company/logo").status_code == 403
    with scopes_disabled():
        assert CompanyLogo.objects.filter(company=p.company_a).exists()


# --- branding.logo_url: fetched once through the egress rules --------------------------------

def test_logo_url_is_fetched_once_and_stored(personas, settings, logo_server):
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = ["127.0.0.1/32"]  # the operator allows this host
    p = personas
    url = logo_server.url("/logo.png")
    response = p.owner_a.api.patch("/company/settings",
                                   {"settings": {"branding.logo_url": url}})
    assert response.status_code == 200, response.data
    assert len(logo_server.requests) == 1
    with scopes_disabled():
        logo = CompanyLogo.objects.get(company=p.company_a)
    assert (logo.source, logo.source_url, logo.content_type) == ("url", url, "image/png")
    invoice = issued_invoice(p)
    with scope(company=p.company_a.pk):
        assert image_count(render_invoice_pdf(invoice)) == 1
    assert len(logo_server.requests) == 1  # the PDF used the stored copy
    reset = p.owner_a.api.patch("/company/settings", {"settings": {"branding.logo_url": None}})
    assert reset.status_code == 200
    with scopes_disabled():
        assert not CompanyLogo.objects.filter(company=p.company_a).exists()


@pytest.mark.django_db(transaction=True)
def test_logo_url_is_fetched_before_any_transaction_opens(personas, settings, logo_server,
                                                          monkeypatch):
    """A slow logo host must not hold a database lock (on SQLite: every writer)."""
    from django.db import connection

    from nestogy.tenancy import actions as tenancy_actions

    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = ["127.0.0.1/32"]
    seen = []
    original = tenancy_actions.fetch_logo

    def watching(url, *, field):
        seen.append(connection.in_atomic_block)
        return original(url, field=field)

    monkeypatch.setattr(tenancy_actions, "fetch_logo", watching)
    response = personas.owner_a.api.patch("/company/settings", {"settings": {
        "branding.logo_url": logo_server.url("/logo.png")}})
    assert response.status_code == 200, response.data
    assert seen == [False]
    with scopes_disabled():  # saved and audited together afterwards
        assert CompanyLogo.objects.filter(company=personas.company_a).exists()
        assert AuditEntry.objects.filter(company=personas.company_a,
                                         action="company.settings_updated").exists()


@pytest.mark.parametrize(("path", "route", "message"), [
    ("/page.html", (200, {"Content-Type": "text/html"}, b"<html>hi</html>"),
     "not a usable image"),
    ("/missing.png", (404, {}, b"nope"), "HTTP 404"),
    ("/logo.svg", (200, {"Content-Type": "image/svg+xml"}, SVG), "SVG"),
])
def test_logo_url_that_is_not_an_image_is_refused(personas, settings, logo_server, path,
                                                  route, message):
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = ["127.0.0.1/32"]
    logo_server.routes[path] = route
    before = Company.objects.get(pk=personas.company_a.pk).settings
    response = personas.owner_a.api.patch("/company/settings", {"settings": {
        "branding.logo_url": logo_server.url(path)}})
    assert response.status_code == 422
    assert response.data["error"]["field"] == "settings.branding.logo_url"
    assert message in response.data["error"]["message"]
    assert Company.objects.get(pk=personas.company_a.pk).settings == before
    with scopes_disabled():
        assert not CompanyLogo.objects.exists()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/logo.png", "http://localhost:{port}/logo.png",
    "http://0x7f000001:{port}/logo.png", "file:///etc/hostname",
    "http://user@127.0.0.1:{port}/logo.png", "javascript:alert(1)",
])
def test_logo_url_to_an_internal_host_or_file_is_refused(personas, no_private, logo_server,
                                                         url):
    response = personas.owner_a.api.patch("/company/settings", {"settings": {
        "branding.logo_url": url.format(port=logo_server.port)}})
    assert response.status_code == 422
    assert response.data["error"]["field"] == "settings.branding.logo_url"
    assert logo_server.requests == []
    with scopes_disabled():
        assert not CompanyLogo.objects.exists()


# --- The portal shows the stored logo ----------------------------------------------------------

def test_portal_shows_the_stored_logo_never_the_tenant_url(personas, logo_server):
    p = personas
    store_logo_url(p.company_a, logo_server.url("/logo.png"))
    portal = signed_in("dana@acme.test")
    page = portal.get("/portal/").content.decode()
    assert logo_server.url("/logo.png") not in page
    assert "/portal/logo/" not in page  # no stored logo yet: the initial badge
    assert portal.get("/portal/logo/").status_code == 404

    assert upload(p.owner_a.api, png(color=(9, 9, 9))).status_code == 200
    page = portal.get("/portal/").content.decode()
    assert re.search(r'<img src="/portal/logo/\?v=[0-9a-f]{16}"', page)
    logo = portal.get("/portal/logo/")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert logo["X-Content-Type-Options"] == "nosniff"
    with scopes_disabled():
        assert logo.content == bytes(CompanyLogo.objects.get(company=p.company_a).content)
    assert logo_server.requests == []

    # Company B's contact gets B's logo (none), never A's.
    finn = signed_in("finn@bravoclient.test")
    assert finn.get("/portal/logo/").status_code == 404
    assert "/portal/logo/" not in finn.get("/portal/").content.decode()
    # Signed out: no logo.
    from django.test import Client

    assert Client().get("/portal/logo/").status_code == 302


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_gif_and_webp_logos_are_accepted_as_png(personas, fmt):
    out = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 128, 255, 100)).save(out, fmt)
    response = upload(personas.owner_a.api, out.getvalue(), name=f"logo.{fmt.lower()}",
                      content_type=f"image/{fmt.lower()}")
    assert response.status_code == 200, response.data
    assert response.data["content_type"] == "image/png"
    with scopes_disabled():
        stored = bytes(CompanyLogo.objects.get(company=personas.company_a).content)
    assert Image.open(io.BytesIO(stored)).format == "PNG"
