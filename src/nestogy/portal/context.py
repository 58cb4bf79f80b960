"""Template context shared by every portal page: branding and the signed-in contact."""

from __future__ import annotations

import re

from django_scopes import scopes_disabled

from nestogy.tenancy.models import Company
from nestogy.tenancy.queries import logo_version

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def branding(company: Company | None) -> dict:
    if company is None:
        return {"name": "Client portal", "logo_url": "", "accent": "#1f5fbf", "initial": "N"}
    accent = company.get_setting("branding.accent_color")
    # The stored logo, served by the portal itself (never the URL a tenant typed); the hash
    # in the query string changes with the image, so browsers may cache it.
    version = logo_version(company)
    logo_url = f"/portal/logo/?v={version[:16]}" if version else ""
    return {"name": company.name, "logo_url": logo_url,
            "accent": accent if _COLOR.match(accent or "") else "#1f5fbf",
            "initial": (company.name[:1] or "N").upper()}


def portal(request) -> dict:
    """Context processor (installed in settings): ``brand`` and ``contact`` for templates."""
    if not request.path.startswith("/portal/"):
        return {}
    contact = getattr(request, "contact", None)
    company = None
    if contact is not None:
        with scopes_disabled():
            company = Company.objects.filter(pk=contact.company_id).first()
    return {"brand": branding(company), "contact": contact}
