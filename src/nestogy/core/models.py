"""Tenant-free tables of the platform itself."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ThrottleHit(models.Model):
    """One counted attempt (a failed sign-in, a password-reset request) for a throttle.

    Not tenant-owned: it is written before anyone is identified. ``purpose`` names the
    throttle (``portal.login``, ``portal.reset``, ``admin.login``), ``key`` what it counts
    per (a lower-cased email) and ``ip`` the client address as the trusted proxies report it
    (an IPv6 client by its /64 network). See :mod:`nestogy.core.throttle`.
    """

    purpose = models.CharField(max_length=40)
    key = models.CharField(max_length=254)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["purpose", "key", "at"], name="core_throttle_key_at"),
            models.Index(fields=["purpose", "ip", "at"], name="core_throttle_ip_at"),
            models.Index(fields=["at"], name="core_throttle_at"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose}: {self.key} from {self.ip} at {self.at:%Y-%m-%d %H:%M:%S}"
