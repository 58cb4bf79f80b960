"""Base errors every layer raises; the API and the portal map them to HTTP answers.

``ValidationError`` names the field (dotted, with list indexes: ``items[2].unit_price``) so
that a client can show the message next to the input that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str | None
    message: str
    code: str = "invalid"


class NestogyError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class ValidationError(NestogyError):
    """Bad input. Carries one or more field errors."""

    code = "validation_error"
    status = 422

    def __init__(self, field: str | None, message: str, *, code: str = "invalid",
                 errors: list[FieldError] | None = None):
        self.errors = errors or [FieldError(field, message, code)]
        self.field = self.errors[0].field
        super().__init__(self.errors[0].message)

    @classmethod
    def many(cls, errors: list[FieldError]) -> ValidationError:
        return cls(errors[0].field, errors[0].message, errors=errors)

    def prefixed(self, prefix: str) -> ValidationError:
        """The same errors with ``prefix`` put before each field name."""
        def join(field: str | None) -> str:
            if not field:
                return prefix
            return f"{prefix}{field}" if field.startswith("[") else f"{prefix}.{field}"
        return ValidationError.many([FieldError(join(e.field), e.message, e.code)
                                     for e in self.errors])


class NotFound(NestogyError):
    """Missing, or belonging to another company: both answer the same."""

    code = "not_found"
    status = 404


class PermissionDenied(NestogyError):
    code = "permission_denied"
    status = 403


class Conflict(NestogyError):
    """The request is valid but clashes with the current state (duplicate, wrong status)."""

    code = "conflict"
    status = 409


def delete_blocked(exc: Exception, subject: str, instead: str | None = None) -> Conflict:
    """The 409 for a delete refused by protected (or restricted) foreign keys.

    Names the kinds of rows that still point at ``subject`` ("client has contracts,
    invoices, payments, tickets") and, when given, what to do ``instead``.
    """
    rows = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", None)
    kinds = sorted({str(row._meta.verbose_name_plural) for row in rows or ()})
    message = f"{subject} has {', '.join(kinds)}" if kinds else f"{subject} is still referenced"
    if instead:
        message += f"; {instead}"
    return Conflict(message)
