"""One error body for every failure the API reports.

    {"error": {"code": "validation_error", "message": "name: must not be empty",
               "field": "name", "errors": [{"field": "name", "message": "...", "code": "..."}]}}
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse
from django_scopes.exceptions import ScopeError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from nestogy.core.errors import FieldError, NestogyError, ValidationError, delete_blocked

logger = logging.getLogger(__name__)

_PYDANTIC_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "json_invalid": "is not valid JSON",
}


def error_body(code: str, message: str, errors: list[FieldError] | None = None) -> dict:
    errors = errors or []
    field = errors[0].field if errors else None
    return {
        "error": {
            "code": code,
            "message": message,
            "field": field,
            "errors": [{"field": e.field, "message": e.message, "code": e.code} for e in errors],
        }
    }


def _schema_names() -> set[str]:
    """Names of the request schemas: pydantic puts them in ``loc`` for union members."""
    from nestogy.api.schemas import InputSchema

    names, todo = set(), [InputSchema]
    while todo:
        for sub in todo.pop().__subclasses__():
            names.add(sub.__name__)
            todo.append(sub)
    return names


def loc_to_field(loc: list[Any] | tuple[Any, ...]) -> str | None:
    """('body', 'payload', 'items', 0, 'unit_price') → 'items[0].unit_price'."""
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header", "form", "cookie"}:
        parts = parts[1:]
    if parts and parts[0] in {"payload", "filters", "params"}:
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "union[", "literal[")) or "[" in str(part) \
                or str(part) in _schema_names():
            continue  # pydantic's labels of validators and union members, not fields
        else:
            out += f".{part}" if out else str(part)
    return out or None


def _pydantic_errors(errors: list[dict]) -> list[FieldError]:
    result = []
    for err in errors:
        kind = err.get("type", "invalid")
        message = _PYDANTIC_MESSAGES.get(kind) or str(err.get("msg", "is invalid"))
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        field = loc_to_field(err.get("loc", ()))
        if kind == "invalid_kind":  # a tagged union (contract items) naming no known kind
            field = f"{field}.kind" if field else "kind"
        result.append(FieldError(field, message, kind))
    return result or [FieldError(None, "invalid request")]


def install(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, body: dict) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(NinjaValidationError)
    def on_ninja_validation(request, exc: NinjaValidationError):
        errors = _pydantic_errors(exc.errors)
        message = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
        return respond(request, 422, error_body("validation_error", message, errors))

    @api.exception_handler(ValidationError)
    def on_validation(request, exc: ValidationError):
        message = "; ".join(f"{e.field}: {e.message}" if e.field else e.message
                            for e in exc.errors)
        return respond(request, 422, error_body("validation_error", message, exc.errors))

    @api.exception_handler(NestogyError)
    def on_domain(request, exc: NestogyError):
        return respond(request, exc.status, error_body(exc.code, exc.message or exc.code))

    @api.exception_handler(Http404)
    def on_404(request, exc):
        return respond(request, 404, error_body("not_found", "not found"))

    @api.exception_handler(AuthenticationError)
    def on_auth(request, exc):
        response = respond(request, 401, error_body(
            "not_authenticated", "send a valid token: Authorization: Bearer <token>"))
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(ProtectedError)
    @api.exception_handler(RestrictedError)
    def on_protected(request, exc):
        # Backstop: actions turn these into a Conflict naming the alternative themselves.
        subject = exc.args[0].split("'")[1].lower() if "'" in exc.args[0] else "object"
        return on_domain(request, delete_blocked(exc, subject))

    @api.exception_handler(HttpError)
    def on_http(request, exc: HttpError):
        if isinstance(exc.__cause__, NestogyError):  # raised by the parser (JsonParser)
            return api.on_exception(request, exc.__cause__)
        code = {400: "bad_request", 403: "permission_denied", 404: "not_found",
                405: "method_not_allowed", 429: "throttled"}.get(exc.status_code, "error")
        return respond(request, exc.status_code, error_body(code, str(exc)))

    @api.exception_handler(ScopeError)
    def on_scope(request, exc):
        logger.error("tenant query without a company scope: %s", exc)
        return respond(request, 500, error_body("internal_error", "internal error"))
