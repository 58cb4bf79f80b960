"""Canned responses: a company's reusable reply texts with placeholders.

A canned response's body is a template its staff wrote, so it is tenant input: it compiles
and renders in the sandbox of :mod:`nestogy.core.sandbox` (allow-listed tags and filters, a
read-only context of plain values, limits on size, output and time). The context is only
the values listed in :data:`PLACEHOLDERS`, built from the ticket, its client and contact,
the staff member writing and the company: nothing else can be reached, and a name that is
not there renders as nothing.

Rendering is for a textarea (plain text the person edits before sending), so it runs
without HTML escaping; the page that shows the result escapes it like any other text.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from nestogy.audit.actions import log_action
from nestogy.core import sandbox
from nestogy.core.errors import NotFound, ValidationError
from nestogy.tickets.models import CannedResponse, Ticket

MAX_BODY_CHARS = 10_000
MAX_OUTPUT_CHARS = 20_000  # the composer's message limit
MAX_SECONDS = 0.5
TITLE_MAX = 120
CATEGORY_MAX = 100

# placeholder -> what it holds (shown on the management page)
PLACEHOLDERS: dict[str, str] = {
    "contact.first_name": "the ticket contact's first name",
    "contact.name": "the ticket contact's full name",
    "contact.email": "the ticket contact's e-mail address",
    "client.name": "the client's name",
    "ticket.number": "the ticket number",
    "ticket.subject": "the ticket subject",
    "ticket.status": "the ticket status",
    "ticket.priority": "the ticket priority",
    "technician.first_name": "your first name",
    "technician.name": "your full name",
    "technician.email": "your e-mail address",
    "company.name": "your company's name",
}


def _first(name: str) -> str:
    return (name or "").strip().split(" ")[0] if (name or "").strip() else ""


def placeholder_context(ticket: Ticket, user, company) -> dict[str, Any]:
    """The only values a canned response can read (plain text and numbers)."""
    contact = ticket.contact
    tech_name = (getattr(user, "name", "") or "").strip()
    return {
        "contact": {"first_name": _first(contact.name) if contact else "",
                    "name": contact.name if contact else "",
                    "email": contact.email if contact else ""},
        "client": {"name": ticket.client.name},
        "ticket": {"number": ticket.number, "subject": ticket.subject,
                   "status": ticket.get_status_display(),
                   "priority": ticket.get_priority_display()},
        "technician": {"first_name": _first(tech_name) or (getattr(user, "email", "") or ""),
                       "name": tech_name or (getattr(user, "email", "") or ""),
                       "email": getattr(user, "email", "") or ""},
        "company": {"name": company.name},
    }


def _message(exc: Exception) -> str:
    return str(exc).replace("a template override", "a canned response")


def check_body(body: str) -> None:
    """Refuse a body that does not compile in the sandbox (``ValidationError('body')``)."""
    if not body or not body.strip():
        raise ValidationError("body", "is required")
    try:
        sandbox.compile_template(body, max_chars=MAX_BODY_CHARS)
    except sandbox.SandboxError as exc:
        raise ValidationError("body", _message(exc)) from None


def render(canned: CannedResponse, ticket: Ticket, user, company) -> str:
    """The canned response's text for ``ticket``, written by ``user``."""
    try:
        template = sandbox.compile_template(canned.body, max_chars=MAX_BODY_CHARS)
        text = template.render(placeholder_context(ticket, user, company), autoescape=False,
                               max_output=MAX_OUTPUT_CHARS, max_seconds=MAX_SECONDS)
    except sandbox.SandboxError as exc:
        raise ValidationError("canned", f"{canned.title}: {_message(exc)}") from None
    return text.strip()


# -- queries -----------------------------------------------------------------------------------

def canned_responses(*, active_only: bool = False, with_author: bool = False):
    qs = CannedResponse.objects.order_by("category", "title", "id")
    if with_author:
        qs = qs.select_related("created_by")
    return qs.filter(is_active=True) if active_only else qs


def get_canned(public_id: str, *, active_only: bool = False) -> CannedResponse:
    found = canned_responses(active_only=active_only).filter(public_id=public_id).first()
    if found is None:
        raise NotFound("canned response not found")
    return found


# -- actions -----------------------------------------------------------------------------------

def _clean(data: dict[str, Any]) -> dict[str, Any]:
    title = (data.get("title") or "").strip()
    category = (data.get("category") or "").strip()
    body = data.get("body") or ""
    if not title:
        raise ValidationError("title", "is required")
    if len(title) > TITLE_MAX:
        raise ValidationError("title", f"is longer than {TITLE_MAX} characters")
    if len(category) > CATEGORY_MAX:
        raise ValidationError("category", f"is longer than {CATEGORY_MAX} characters")
    check_body(body)
    return {"title": title, "category": category, "body": body,
            "is_active": bool(data.get("is_active", True))}


def _title_taken(title: str, exclude_pk: int | None = None) -> bool:
    qs = CannedResponse.objects.filter(title__iexact=title)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


_TAKEN = "is already used by another canned response"


def create_canned(company, data: dict[str, Any], *, actor=None) -> CannedResponse:
    clean = _clean(data)
    if _title_taken(clean["title"]):
        raise ValidationError("title", _TAKEN)
    try:
        with transaction.atomic():
            canned = CannedResponse.objects.create(company=company, created_by=actor, **clean)
            log_action(canned, "canned_response.created", actor=actor,
                       data={"title": canned.title})
    except IntegrityError:
        raise ValidationError("title", _TAKEN) from None
    return canned


def update_canned(canned: CannedResponse, data: dict[str, Any], *, actor=None) -> CannedResponse:
    clean = _clean(data)
    if _title_taken(clean["title"], exclude_pk=canned.pk):
        raise ValidationError("title", _TAKEN)
    changed = sorted(k for k, v in clean.items() if getattr(canned, k) != v)
    for key, value in clean.items():
        setattr(canned, key, value)
    try:
        with transaction.atomic():
            canned.save()
            log_action(canned, "canned_response.updated", actor=actor,
                       data={"title": canned.title, "changed": changed})
    except IntegrityError:
        raise ValidationError("title", _TAKEN) from None
    return canned


@transaction.atomic
def delete_canned(canned: CannedResponse, *, actor=None) -> None:
    log_action(canned, "canned_response.deleted", actor=actor, data={"title": canned.title})
    canned.delete()
