"""Refuse oversized requests before their body is read.

Django reads a request body only when a view asks for it, and streams file uploads larger
than ``FILE_UPLOAD_MAX_MEMORY_SIZE`` to a temporary file on disk. This middleware looks at
the declared ``Content-Length`` first and answers 413 without reading anything when it is
larger than allowed: ``NESTOGY_MAX_REQUEST_BYTES`` for multipart uploads (the largest
attachment plus the form around it), ``DATA_UPLOAD_MAX_MEMORY_SIZE`` for every other body
(JSON, forms, webhooks), which Django would otherwise refuse only after reading it. API
requests (``/api/``) get the API's JSON error body. A body sent without a length (chunked)
is capped by Django's own limits when read. Per-company limits (the portal's attachment
size) are separate, smaller checks made by the views.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse


def body_limit(request) -> int:
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.lower().startswith("multipart/"):
        return int(settings.NESTOGY_MAX_REQUEST_BYTES)
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or settings.NESTOGY_MAX_REQUEST_BYTES)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw = request.META.get("CONTENT_LENGTH") or ""
        try:
            length = int(raw) if raw else 0
        except ValueError:
            return self._refuse(request, 400, "bad_request", "Content-Length is not a number")
        limit = body_limit(request)
        if length < 0:
            return self._refuse(request, 400, "bad_request", "Content-Length is negative")
        if length > limit:
            return self._refuse(request, 413, "request_too_large",
                                f"the request body is larger than {_megabytes(limit)} MB")
        return self.get_response(request)

    @staticmethod
    def _refuse(request, status: int, code: str, message: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse({"error": {"code": code, "message": message,
                                           "field": None, "errors": []}}, status=status)
        return HttpResponse(f"{message}.\n", status=status,
                            content_type="text/plain; charset=utf-8")
