"""Reads of tenant-level data that every layer above may need: the company's own date, its
logo."""

from __future__ import annotations

import base64
from datetime import date, datetime

from django_scopes import scopes_disabled

from nestogy.core.timeutil import local_date
from nestogy.core.timeutil import now as utc_now
from nestogy.tenancy.models import Company, CompanyLogo


def company_today(company: Company, at: datetime | None = None) -> date:
    """The company's "today": the local date in its time zone (at ``at``, default now).

    Every date a company sees (invoice and due dates, contract periods, renewals, overdue
    marking, the portal's "due soon") is a local date of its time zone, never the UTC date:
    at 23:30 in New York it is already tomorrow in UTC.
    """
    return local_date(at or utc_now(), company.timezone or "UTC")


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
