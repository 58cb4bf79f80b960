"""Refusing outgoing requests to private networks (server-side request forgery).

Webhook URLs are set by a company's owners and admins, Apprise URLs also by any staff user
(their own Slack address). Without a guard, ``json://169.254.169.254/…`` or a webhook to
``http://10.0.0.5/admin`` would make the server POST to its own network. Unless
``NESTOGY_NOTIFY_ALLOW_PRIVATE_TARGETS`` is true (the tests, a lab install), every host must
resolve only to public addresses; this is checked when an address is saved and again before
each send (DNS can change in between).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

# Apprise schemes that POST to a host the user names (the others talk to fixed services).
GENERIC_SCHEMES = {"json", "jsons", "xml", "xmls", "form", "forms", "http", "https"}


class PrivateTarget(Exception):
    pass


def allow_private() -> bool:
    return bool(getattr(settings, "NESTOGY_NOTIFY_ALLOW_PRIVATE_TARGETS", False))


def check_url(url: str) -> None:
    """Raise :class:`PrivateTarget` if ``url`` (HTTP or a generic Apprise URL) points inside."""
    if allow_private():
        return
    parts = urlsplit(url)
    if parts.scheme.lower() not in GENERIC_SCHEMES:
        return
    host = parts.hostname or ""
    if not host:
        raise PrivateTarget("the URL has no host")
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise PrivateTarget(f"the host {host} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            raise PrivateTarget(f"the host {host} resolves to a non-public address "
                                f"({address}); outgoing notifications only go to public hosts")
