"""Portal models: failed logins, kept to throttle password guessing across all web workers."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class LoginFailure(models.Model):
    """One failed portal login. Not tenant-owned: it happens before anyone is identified."""

    email = models.CharField(max_length=254)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["email", "at"], name="portal_loginfail_email_at"),
                   models.Index(fields=["ip", "at"], name="portal_loginfail_ip_at")]

    def __str__(self) -> str:
        return f"{self.email} from {self.ip} at {self.at:%Y-%m-%d %H:%M:%S}"
