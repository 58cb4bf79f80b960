"""Changes to companies (the tenant rows themselves)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils.text import slugify

from nestogy.core import secrets
from nestogy.core.errors import ValidationError
from nestogy.core.money import validate_currency
from nestogy.core.timeutil import validate_timezone
from nestogy.tenancy import company_settings
from nestogy.tenancy.models import Company

# Called as hook(company, changed_keys) inside the transaction of a settings change, after
# the new values are saved. Higher apps append to it when they load (notifications resets a
# sender verification when the sender address changes).
SETTINGS_CHANGED: list[Callable[[Company, set[str]], None]] = []


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
    to its default, and so does an empty secret. Secrets are stored sealed. Audited by the
    caller (``accounts.actions.change_company_settings``)."""
    # Read-modify-write of one JSON column: lock the row so concurrent changes both count.
    locked = Company.objects.select_for_update().only("settings").get(pk=company.pk)
    before = dict(locked.settings or {})
    stored = dict(before)
    for key, value in values.items():
        company_settings.apply(stored, key, value)
    company.settings = stored
    company.save(update_fields=["settings"])
    # A secret set again counts as changed even when the plaintext is the same.
    changed = {key for key in values if before.get(key) != stored.get(key)}
    for hook in list(SETTINGS_CHANGED):
        hook(company, changed)
    return company


def reseal_company_settings(company_id: int, *, dry_run: bool = False) -> dict[str, int]:
    """Bring one company's stored secrets under the current key (``rotate_secrets``): seal
    plaintext secrets (written before encryption, or declared secret later), re-encrypt
    values sealed with an older key, leave current ones. A maintenance re-encoding, not a
    change of any value, so it writes no audit entry. Returns counts like
    :func:`nestogy.core.secrets.reseal_column`."""
    counts = dict.fromkeys(("rows", "sealed", "rotated", "current", "undecryptable"), 0)
    with transaction.atomic():
        company = Company.objects.select_for_update().only("settings").get(pk=company_id)
        stored = dict(company.settings or {})
        current = secrets.current_key_id()
        for key, value in list(stored.items()):
            if secrets.is_sealed(value):
                counts["rows"] += 1
                if secrets.sealed_key_id(value) == current:
                    counts["current"] += 1
                    continue
                try:
                    stored[key] = secrets.rotate(value)
                except secrets.UndecryptableSecret:
                    counts["undecryptable"] += 1
                    continue
                counts["rotated"] += 1
            elif company_settings.is_secret(key):
                counts["rows"] += 1
                if secrets.is_empty(value):
                    stored.pop(key)
                else:
                    stored[key] = secrets.seal_json(value)
                counts["sealed"] += 1
        if not dry_run and stored != company.settings:
            company.settings = stored
            company.save(update_fields=["settings"])
    return counts
