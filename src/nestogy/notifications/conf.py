"""Settings of the notifications app: company settings and process-wide knobs."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from nestogy.core.errors import ValidationError
from nestogy.notifications import targets
from nestogy.tenancy import company_settings


def _sender_address(value: str) -> str:
    """A bare address (no display name: the company's name is used), lower-case."""
    value = value.strip().lower()
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValidationError("settings.notifications.from_email",
                                  "must be an email address such as alerts@example.com"
                                  ) from None
    return value


company_settings.define(
    "notifications.slack_urls", [],
    "Apprise URLs of the company's Slack channel(s), e.g. "
    "slack://TokenA/TokenB/TokenC/#alerts (or a json:// / jsons:// relay on a public host); "
    "used when a user has no Slack address of their own",
    kind=list, secret=True, validate=targets.validate_slack_urls)
company_settings.define(
    "notifications.sms_url", "",
    "Apprise URL of the SMS gateway with {phone} where the number goes, e.g. "
    "twilio://SID:Token@+15550001111/{phone} (SMS services or a json:// / jsons:// relay)",
    secret=True, validate=targets.validate_sms_url)
company_settings.define(
    "notifications.from_email", "",
    "Sender address of notification mail; used once verified (POST /company/sender/verify), "
    "until then mail comes from the server's address with this one as Reply-To",
    validate=_sender_address)


def max_attempts() -> int:
    """Attempts before a temporarily failing delivery is given up (``failed``)."""
    return int(getattr(settings, "NESTOGY_NOTIFY_MAX_ATTEMPTS", 6))


def backoff_base() -> int:
    return int(getattr(settings, "NESTOGY_NOTIFY_BACKOFF_SECONDS", 60))


def backoff_cap() -> int:
    return int(getattr(settings, "NESTOGY_NOTIFY_BACKOFF_CAP_SECONDS", 3600))


def batch_size() -> int:
    return int(getattr(settings, "NESTOGY_NOTIFY_BATCH_SIZE", 500))


def claim_lease_seconds() -> int:
    """How long a claimed delivery stays invisible to other senders (crash recovery)."""
    return int(getattr(settings, "NESTOGY_NOTIFY_CLAIM_LEASE_SECONDS", 300))


def preference_cache_seconds() -> int:
    return int(getattr(settings, "NESTOGY_NOTIFY_PREFERENCE_CACHE_SECONDS", 300))


def template_dirs() -> list[str]:
    """Extra directories searched for notification templates before the apps' ones."""
    return [str(d) for d in getattr(settings, "NESTOGY_NOTIFY_TEMPLATE_DIRS", [])]


def override_max_chars() -> int:
    """Longest template override accepted (characters), when saved and when compiled."""
    return int(getattr(settings, "NESTOGY_NOTIFY_OVERRIDE_MAX_CHARS", 10_000))


def override_max_output() -> int:
    """Longest output one part of an override may render (characters) before it is cut off."""
    return int(getattr(settings, "NESTOGY_NOTIFY_OVERRIDE_MAX_OUTPUT", 200_000))


def override_max_seconds() -> float:
    """How long one part of an override may take to render before it is cut off."""
    return float(getattr(settings, "NESTOGY_NOTIFY_OVERRIDE_MAX_SECONDS", 1.0))
