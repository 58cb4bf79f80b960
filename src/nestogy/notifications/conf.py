"""Settings of the notifications app: company settings and process-wide knobs."""

from __future__ import annotations

from django.conf import settings

from nestogy.notifications import targets
from nestogy.tenancy import company_settings

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
    "Sender address of notification mail (default: the server's DEFAULT_FROM_EMAIL)")


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
