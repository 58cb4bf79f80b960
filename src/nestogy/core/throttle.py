"""One throttle for everything that guesses or floods: sign-ins and password-reset requests.

A :class:`Limit` names its purpose and how many counted attempts it allows per key (the
lower-cased email) and per client address within a sliding window. Callers ask
:func:`is_throttled` before doing the work and :func:`hit` to count an attempt (a failed
sign-in, every reset request). Attempts are rows (:class:`~nestogy.core.models.ThrottleHit`),
so every web worker sees the same count; :func:`prune` deletes rows older than
:data:`RETENTION` (the scheduler runs it hourly).

The client address is the one the trusted proxies report (:func:`client_ip`): with
``NESTOGY_TRUSTED_PROXY_COUNT = 0`` (the default) it is ``REMOTE_ADDR`` and
``X-Forwarded-For`` is ignored, since any client can send that header; with ``N`` trusted
proxies it is the N-th address from the right of ``X-Forwarded-For`` (the one the outermost
trusted proxy saw). IPv6 clients are counted by their /64 network, which one subscriber
usually holds whole.

Users: the portal's sign-in and password reset (:mod:`nestogy.portal.auth`) and the staff
admin's sign-in (:mod:`nestogy.accounts.admin_login`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from nestogy.core.models import ThrottleHit

# Rows older than this are deleted by prune(); every Limit's window must fit in it.
RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    purpose: str
    per_key: int
    per_ip: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.window > RETENTION:
            raise ValueError(f"throttle {self.purpose}: window longer than {RETENTION}")

    @property
    def minutes(self) -> int:
        return int(self.window.total_seconds() // 60)


def _address(value: str | None) -> str | None:
    """``value`` as a normalised IP address (IPv6 as its /64 network), or None."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False).network_address)
    return str(address)


def trusted_proxy_count() -> int:
    return max(int(getattr(settings, "NESTOGY_TRUSTED_PROXY_COUNT", 0) or 0), 0)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the trusted proxies report it (see the module docstring)."""
    remote = _address(request.META.get("REMOTE_ADDR"))
    count = trusted_proxy_count()
    if count == 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "")
                 .split(",") if part.strip()]
    if len(forwarded) < count:
        # The request did not pass through every trusted proxy: do not believe the header.
        return remote
    return _address(forwarded[-count]) or remote


def _key(key: str) -> str:
    return (key or "").strip().lower()[:254]


def is_throttled(limit: Limit, key: str, ip: str | None, *,
                 now: datetime | None = None) -> bool:
    """True when ``key`` or ``ip`` used up its attempts within the window."""
    since = (now or timezone.now()) - limit.window
    recent = ThrottleHit.objects.filter(purpose=limit.purpose, at__gte=since)
    if recent.filter(key=_key(key)).count() >= limit.per_key:
        return True
    ip = _address(ip)
    return bool(ip) and recent.filter(ip=ip).count() >= limit.per_ip


def hit(limit: Limit, key: str, ip: str | None) -> None:
    """Count one attempt for ``key`` from ``ip``."""
    ThrottleHit.objects.create(purpose=limit.purpose, key=_key(key), ip=_address(ip))


def prune(*, now: datetime | None = None) -> int:
    """Delete attempts older than :data:`RETENTION`; return how many."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _ = ThrottleHit.objects.filter(at__lt=cutoff).delete()
    return deleted
