"""Changes to companies (the tenant rows themselves)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import transaction
from django.utils.text import slugify
from django_scopes import scopes_disabled

from nestogy.core import egress, images, secrets
from nestogy.core.errors import ValidationError
from nestogy.core.events import emit
from nestogy.core.money import validate_currency
from nestogy.core.timeutil import validate_timezone
from nestogy.core.validation import clean_text
from nestogy.tenancy import company_settings
from nestogy.tenancy.events import SETTINGS_UPDATED
from nestogy.tenancy.models import Company, CompanyLogo


def create_company(*, name: str, timezone: str = "UTC", currency: str = "USD",
                   slug: str | None = None) -> Company:
    name = clean_text(name, "name", max_length=200, required=True)
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


LOGO_URL = "branding.logo_url"


def update_company_settings(company: Company, values: dict, *,
                            on_saved: Callable[[Company], None] | None = None,
                            actor=None) -> Company:
    """Change declared settings (each validated against its definition; an unknown key or a
    bad value raises naming ``settings.<key>`` and nothing is saved); ``None`` resets a key
    to its default, and so does an empty secret. Secrets are stored sealed. Audited by the
    caller (``accounts.actions.change_company_settings``).

    Setting ``branding.logo_url`` fetches the image once (egress rules, image checks) after
    every value is validated and before anything is written, and stores it as the company
    logo; a URL that cannot be fetched or is not an image raises naming
    ``settings.branding.logo_url``. Resetting it removes a logo that came from a URL (an
    uploaded one stays). The fetch happens before the transaction opens, so no lock is held
    while the network answers; ``on_saved(company)`` runs inside it (the caller's audit entry),
    then ``company.settings_updated`` is emitted there with the keys whose value changed
    (higher apps react to it, e.g. notifications resets the sender verification).
    """
    # Validate everything first (nothing is fetched for a request that would be refused).
    scratch: dict = {}
    for key, value in values.items():
        company_settings.apply(scratch, key, value)
    url = scratch.get(LOGO_URL, "") if LOGO_URL in values else ""
    logo = fetch_logo(url, field=f"settings.{LOGO_URL}") if url else None
    with transaction.atomic():
        # Read-modify-write of one JSON column: lock the row so concurrent changes both count.
        locked = Company.objects.select_for_update().only("settings").get(pk=company.pk)
        before = dict(locked.settings or {})
        stored = dict(before)
        for key, value in values.items():
            company_settings.apply(stored, key, value)
        if LOGO_URL in values and not stored.get(LOGO_URL):
            stored.pop(LOGO_URL, None)
        company.settings = stored
        company.save(update_fields=["settings"])
        if logo is not None:
            _store_logo(company, logo, source=CompanyLogo.Source.URL, source_url=url)
        elif LOGO_URL in values:
            with scopes_disabled():
                CompanyLogo.objects.filter(company_id=company.pk,
                                           source=CompanyLogo.Source.URL).delete()
        # A secret set again counts as changed even when the plaintext is the same.
        changed = {key for key in values if before.get(key) != stored.get(key)}
        if on_saved is not None:
            on_saved(company)
        emit(SETTINGS_UPDATED, company_id=company.pk, actor=actor,
             data={"keys": sorted(changed)})
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


# --- The company logo ------------------------------------------------------------------------

def clean_logo(data: bytes, *, field: str) -> images.CleanImage:
    try:
        return images.clean_image(data, max_bytes=images.MAX_BYTES)
    except images.ImageRefused as exc:
        raise ValidationError(field, f"the file {exc}") from None


def fetch_logo(url: str, *, field: str) -> images.CleanImage:
    """Download a logo once through the egress rules and clean it."""
    try:
        response = egress.request("GET", url, max_bytes=images.MAX_BYTES, headers={
            "Accept": "image/png, image/jpeg, image/gif, image/webp"})
    except egress.EgressError as exc:
        raise ValidationError(field, f"cannot be fetched: {exc}") from None
    if not response.ok:
        raise ValidationError(field, f"cannot be fetched: the server answered HTTP "
                                     f"{response.status}")
    if response.truncated:
        raise ValidationError(field, f"the image is larger than "
                                     f"{images.MAX_BYTES / (1024 * 1024):g} MB")
    try:
        return images.clean_image(response.content)
    except images.ImageRefused as exc:
        raise ValidationError(field, f"is not a usable image: the file {exc}") from None


def _store_logo(company: Company, image: images.CleanImage, *, source: str,
                source_url: str = "") -> CompanyLogo:
    with scopes_disabled():
        logo = CompanyLogo.objects.filter(company_id=company.pk).first() or CompanyLogo(
            company=company)
        logo.content = image.content
        logo.content_type = image.content_type
        logo.width, logo.height = image.width, image.height
        logo.sha256 = hashlib.sha256(image.content).hexdigest()
        logo.source, logo.source_url = source, source_url
        logo.save()
    return logo


def _forget_logo_url(company: Company) -> None:
    """Drop ``branding.logo_url`` (the row locked: other settings changes are kept)."""
    locked = Company.objects.select_for_update().only("settings").get(pk=company.pk)
    if LOGO_URL in (locked.settings or {}):
        company.settings = {k: v for k, v in locked.settings.items() if k != LOGO_URL}
        company.save(update_fields=["settings"])


@transaction.atomic
def set_company_logo(company: Company, data: bytes, *, field: str = "file") -> CompanyLogo:
    """Store an uploaded logo (checked and re-encoded); ``branding.logo_url`` is cleared, as
    the upload replaces whatever it pointed at. Audited by the caller."""
    image = clean_logo(data, field=field)
    _forget_logo_url(company)
    return _store_logo(company, image, source=CompanyLogo.Source.UPLOAD)


@transaction.atomic
def delete_company_logo(company: Company) -> bool:
    """Remove the logo (and ``branding.logo_url``); False if there was none."""
    _forget_logo_url(company)
    with scopes_disabled():
        deleted, _ = CompanyLogo.objects.filter(company_id=company.pk).delete()
    return bool(deleted)
