"""PDF rendering (WeasyPrint) that fetches nothing from the network or the file system.

Invoice and statement templates carry tenant data; WeasyPrint's default URL fetcher would
follow any ``<img src>``, ``url()`` or ``<link>`` in them to ``http://127.0.0.1:…`` or
``file:///etc/…`` — also when a portal contact downloads a PDF. Every render goes through
:func:`render_pdf`, whose fetcher serves only

- ``data:`` URLs of images and style sheets (the stored company logo is embedded this way),
  up to :data:`MAX_DATA_BYTES`;
- the product's own static files: URLs under ``STATIC_URL`` (relative URLs resolve against
  an internal base URL), found by the staticfiles finders; paths with ``..``, backslashes,
  empty or absolute segments are refused.

Anything else is refused; WeasyPrint leaves that resource out and the PDF still renders.
"""

from __future__ import annotations

import base64
import binascii
import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

BASE_URL = "https://nestogy-static.invalid/"
MAX_DATA_BYTES = 5 * 1024 * 1024
MAX_STATIC_BYTES = 5 * 1024 * 1024
DATA_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "text/css"})
STATIC_SUFFIXES = frozenset({".css", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".woff",
                             ".woff2", ".ttf", ".otf"})


class ResourceRefused(ValueError):
    pass


def _data_url(url: str) -> tuple[bytes, str]:
    header, sep, payload = url[len("data:"):].partition(",")
    if not sep:
        raise ResourceRefused("malformed data: URL")
    params = [p.strip().lower() for p in header.split(";")]
    mime = params[0] or "text/plain"
    if mime not in DATA_TYPES:
        raise ResourceRefused(f"data: URL of type {mime} is not used in PDFs")
    if len(payload) > MAX_DATA_BYTES * 4 // 3 + 4:
        raise ResourceRefused("data: URL too large")
    if "base64" in params[1:]:
        try:
            content = base64.b64decode(unquote(payload), validate=True)
        except (binascii.Error, ValueError):
            raise ResourceRefused("malformed base64 in data: URL") from None
    else:
        content = unquote_to_bytes(payload)
    return content, mime


def static_path(url: str) -> Path:
    """The file behind a static URL of the product, or :class:`ResourceRefused`."""
    from django.contrib.staticfiles import finders

    static_url = settings.STATIC_URL or "/static/"
    base = BASE_URL.rstrip("/")
    if not static_url.startswith("/") or not url.startswith(base + static_url):
        raise ResourceRefused("not a static file of the product")
    path = urlsplit(url).path[len(static_url):]
    relative = unquote(path)
    parts = relative.split("/")
    if (not relative or "\\" in relative or "\x00" in relative
            or any(part in {"", ".", ".."} for part in parts)):
        raise ResourceRefused("bad static path")
    if Path(relative).suffix.lower() not in STATIC_SUFFIXES:
        raise ResourceRefused("not a style sheet, image or font")
    found = finders.find(relative)
    if not found:
        raise ResourceRefused("no such static file")
    return Path(found)


def _fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeFetcher(URLFetcher):
        """Serves data: URLs and the product's static files; refuses everything else."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                content, mime = _data_url(url)
                return URLFetcherResponse(url, content, {"Content-Type": mime})
            try:
                path = static_path(url)
            except ResourceRefused:
                logger.info("PDF rendering: refused to fetch %s", url[:100])
                raise
            if path.stat().st_size > MAX_STATIC_BYTES:
                raise ResourceRefused("static file too large")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    return SafeFetcher()


def render_pdf(html: str) -> bytes:
    """Render ``html`` to PDF; only embedded data and the product's static files load."""
    from weasyprint import HTML

    return HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher()).write_pdf()
