"""Bearer-token authentication: resolves the principal and enters its company scope.

The middleware runs for every ``/api/`` request before the view: with a valid token the
whole request (view, serialisation, pagination) runs inside ``scope(company=...)``; without
one no scope is active, and :class:`TokenAuth` answers 401 for protected operations.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django_scopes import scope
from ninja.security import HttpBearer

from nestogy.accounts.queries import Principal, principal_for_token
from nestogy.api.errors import error_body


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class ApiScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.principal = None
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        if "\x00" in request.path:
            # No object's id holds a NUL character (and PostgreSQL refuses one in a query).
            return JsonResponse(error_body("not_found", "not found"), status=404)
        raw = _bearer(request)
        principal = principal_for_token(raw) if raw else None
        if principal is None:
            return self.get_response(request)
        request.principal = principal
        with scope(company=principal.company_id):
            return self.get_response(request)


class TokenAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        return getattr(request, "principal", None)
