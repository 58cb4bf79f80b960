"""Reads of tenant-level data that every layer above may need (the company logo)."""

from __future__ import annotations

import base64

from django_scopes import scopes_disabled

from nestogy.tenancy.models import Company, CompanyLogo


def company_logo(company: Company | int | None) -> CompanyLogo | None:
    """The stored logo of ``company`` (filtered by its id explicitly, so it works with or
    without an active scope), or None."""
    if company is None:
        return None
    company_id = company if isinstance(company, int) else company.pk
    with scopes_disabled():
        return CompanyLogo.objects.filter(company_id=company_id).first()


def logo_version(company: Company | int | None) -> str:
    """The stored logo's SHA-256 (without loading the image), or "" without a logo."""
    if company is None:
        return ""
    company_id = company if isinstance(company, int) else company.pk
    with scopes_disabled():
        return CompanyLogo.objects.filter(company_id=company_id).values_list(
            "sha256", flat=True).first() or ""


def logo_data_url(company: Company | int | None) -> str:
    """The stored logo as a ``data:`` URL (what PDFs embed), or "" without a logo."""
    logo = company_logo(company)
    if logo is None:
        return ""
    encoded = base64.b64encode(bytes(logo.content)).decode("ascii")
    return f"data:{logo.content_type};base64,{encoded}"
