"""Which Apprise services a Slack or SMS target may use, and the checks on their hosts.

Apprise understands more than a hundred services; many post to a host named in the URL
(``mmost://host``, ``gotify://host``, ``ntfy://host``, ``apprise://host``…), some do not even
speak HTTP. Letting any staff user pick one would let them make the server talk to its own
network. So each channel has an allow-list:

- **Slack** (a user's own address and the company's): ``slack://…`` and Slack's own
  ``https://hooks.slack.com/services/…`` form. These post to Slack's fixed hosts.
- **SMS** (a user's own address as a URL and the company gateway): the SMS services below,
  each posting to its provider's fixed API host.
- **Company settings only** (``notifications.slack_urls``, ``notifications.sms_url``, which
  owners and admins set): also a generic JSON relay, ``json://host/path`` or
  ``jsons://host/path`` (HTTPS), whose host must pass the egress rules
  (:mod:`nestogy.core.egress`: public addresses only, unless the operator allows a network).

At send time the same lists apply (a stored value from before is refused), a relay's host is
checked again, and the plugin runs inside :func:`nestogy.core.egress.guard`: every connection
it opens is checked at connect time and redirects are not followed.
"""

from __future__ import annotations

from typing import Any

import apprise

from nestogy.core import egress
from nestogy.core.errors import ValidationError

SLACK_SERVICES = frozenset({"slack"})
SMS_SERVICES = frozenset({
    "twilio", "vonage", "nexmo", "msgbird", "sinch", "clicksend", "plivo", "seven",
    "bulksms", "d7sms", "sns", "telnyx", "burstsms", "kudosity", "httpsms", "msg91", "bulkvs",
    "clickatell", "46elks", "elks",
})
RELAY_SERVICES = frozenset({"json", "jsons"})

USER_SERVICES = {"slack": SLACK_SERVICES, "sms": SMS_SERVICES}
COMPANY_SERVICES = {"slack": SLACK_SERVICES | RELAY_SERVICES,
                    "sms": SMS_SERVICES | RELAY_SERVICES}

MAX_LENGTH = 1000
SAMPLE_PHONE = "+15550001111"


def asset() -> apprise.AppriseAsset:
    # Redirects off for every plugin (a plugin's own ?redirect=yes is overridden below too).
    return apprise.AppriseAsset(http_redirects=False)


def _names(value: Any) -> set[str]:
    if not value:
        return set()
    if isinstance(value, str):
        return {value.lower()}
    return {str(v).lower() for v in value}


def services_of(plugin: Any) -> set[str]:
    """The URL schemes of an instantiated Apprise plugin (``{"json", "jsons"}``…)."""
    return _names(getattr(plugin, "protocol", None)) | _names(
        getattr(plugin, "secure_protocol", None))


def instantiate(url: str) -> Any | None:
    """The Apprise plugin for ``url`` (redirects off), or None if Apprise does not know it."""
    plugin = apprise.Apprise.instantiate(url, asset=asset(), suppress_exceptions=True)
    if plugin is None:
        return None
    plugin.redirects = False
    return plugin


def is_relay(plugin: Any) -> bool:
    return bool(services_of(plugin) & RELAY_SERVICES)


def relay_host(plugin: Any) -> tuple[str, int | None]:
    return str(getattr(plugin, "host", "") or ""), getattr(plugin, "port", None)


def _label(services: frozenset[str]) -> str:
    return ", ".join(f"{s}://" for s in sorted(services))


def check(url: Any, channel: str, *, company: bool, field: str) -> str:
    """Validate an Apprise URL for ``channel``; return it stripped or raise naming ``field``.

    ``company`` selects the company-settings list (which also allows a JSON relay).
    """
    if not isinstance(url, str):
        raise ValidationError(field, "must be text")
    url = url.strip()
    if len(url) > MAX_LENGTH:
        raise ValidationError(field, f"must be at most {MAX_LENGTH} characters")
    if "://" not in url:
        raise ValidationError(field, "must be an Apprise URL, e.g. slack://TokenA/TokenB/TokenC"
                              if channel == "slack" else "must be an Apprise URL")
    probe = url.replace("{phone}", SAMPLE_PHONE) if channel == "sms" else url
    plugin = instantiate(probe)
    if plugin is None:
        raise ValidationError(field, "is not an Apprise URL this server understands")
    allowed = (COMPANY_SERVICES if company else USER_SERVICES)[channel]
    if not services_of(plugin) & allowed:
        raise ValidationError(field, f"this Apprise service is not allowed for {channel}; "
                                     f"use one of {_label(allowed)}")
    if is_relay(plugin):
        host, port = relay_host(plugin)
        try:
            egress.check_host(host, port)
        except egress.EgressRefused as exc:
            raise ValidationError(field, str(exc)) from None
    return url


def check_for_send(plugin: Any, channel: str) -> None:
    """The send-time check of a stored target: raises :class:`egress.EgressRefused`.

    A relay host that does not resolve raises ``OSError`` (worth retrying).
    """
    if not services_of(plugin) & COMPANY_SERVICES.get(channel, frozenset()):
        raise egress.EgressRefused(f"the Apprise service {sorted(services_of(plugin))[0]}:// "
                                   f"is not allowed for {channel}")
    if is_relay(plugin):
        host, port = relay_host(plugin)
        egress.check_host_spelling(host)
        egress.resolve(host, port)


def validate_slack_urls(value: list) -> list[str]:
    """``validate=`` hook of the company setting ``notifications.slack_urls``."""
    field = "settings.notifications.slack_urls"
    cleaned = []
    for i, url in enumerate(value):
        if isinstance(url, str) and not url.strip():
            continue
        try:
            cleaned.append(check(url, "slack", company=True, field=field))
        except ValidationError as exc:
            raise ValidationError(field, f"item {i + 1}: {exc.message}") from None
    return cleaned


def validate_sms_url(value: str) -> str:
    """``validate=`` hook of the company setting ``notifications.sms_url``."""
    if not value.strip():
        return ""
    return check(value, "sms", company=True, field="settings.notifications.sms_url")
