"""Changes to companies (the tenant rows themselves)."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from nestogy.core.errors import ValidationError
from nestogy.core.money import validate_currency
from nestogy.core.timeutil import validate_timezone
from nestogy.tenancy.models import Company


def create_company(*, name: str, timezone: str = "UTC", currency: str = "USD",
                   slug: str | None = None) -> Company:
    name = (name or "").strip()
    if not name:
        raise ValidationError("name", "must not be empty")
    if len(name) > 200:
        raise ValidationError("name", "must be at most 200 characters")
    validate_timezone(timezone)
    try:
        currency = validate_currency(currency)
    except ValueError as exc:
        raise ValidationError("currency", str(exc)) from None
    base = slugify(slug or name)[:70] or "company"
    with transaction.atomic():
        candidate, n = base, 1
        while Company.objects.filter(slug=candidate).exists():
            n += 1
            candidate = f"{base}-{n}"
        return Company.objects.create(name=name, slug=candidate, timezone=timezone,
                                      currency=currency)


def update_company_settings(company: Company, values: dict) -> Company:
    for key, value in values.items():
        company.set_setting(key, value)
    company.save(update_fields=["settings"])
    return company
