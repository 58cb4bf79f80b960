"""Changes to companies (the tenant rows themselves)."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from nestogy.core.errors import ValidationError
from nestogy.core.money import validate_currency
from nestogy.core.timeutil import validate_timezone
from nestogy.tenancy import company_settings
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


@transaction.atomic
def update_company_settings(company: Company, values: dict) -> Company:
    """Change declared settings (each validated against its definition; an unknown key or a
    bad value raises naming ``settings.<key>`` and nothing is saved); ``None`` resets a key
    to its default. Audited by the caller (``accounts.actions.change_company_settings``)."""
    stored = dict(company.settings or {})
    for key, value in values.items():
        if value is None:
            if key not in company_settings.REGISTRY:
                raise ValidationError(f"settings.{key}", "unknown setting")
            stored.pop(key, None)
        else:
            stored[key] = company_settings.coerce(key, value)
    company.settings = stored
    company.save(update_fields=["settings"])
    return company
