"""Stored calendars and SLA policies; the maths lives in ``calendar.py`` and ``clock.py``."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from nestogy.clients.models import Client
from nestogy.sla.calendar import Calendar
from nestogy.sla.clock import (
    DEFAULT_LADDER,
    DEFAULT_PAUSE_STATUSES,
    PolicyRules,
    Targets,
    ladder_from_json,
    ladder_to_json,
)
from nestogy.tenancy.models import TenantOwnedModel


def default_ladder() -> list[dict]:
    return ladder_to_json(DEFAULT_LADDER)


def default_pause_statuses() -> list[str]:
    return list(DEFAULT_PAUSE_STATUSES)


class BusinessCalendar(TenantOwnedModel):
    """Working hours, time zone and holidays that SLA clocks count in."""

    public_id_prefix = "cal"

    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC")
    hours = models.JSONField(default=dict, blank=True,
                             help_text='{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}')
    holidays = models.JSONField(default=list, blank=True,
                                help_text='Extra closed dates, e.g. ["2025-12-24"]')
    holiday_country = models.CharField(max_length=3, blank=True,
                                       help_text="ISO country code for public holidays")
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    is_24x7 = models.BooleanField(default=False)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def as_calendar(self) -> Calendar:
        return Calendar.from_spec(timezone=self.timezone, hours=self.hours,
                                  holidays=self.holidays, holiday_country=self.holiday_country,
                                  holiday_subdivision=self.holiday_subdivision,
                                  is_24x7=self.is_24x7)


class SLAPolicy(TenantOwnedModel):
    """Per-priority response and resolution targets on a calendar, with an escalation ladder."""

    public_id_prefix = "slp"

    name = models.CharField(max_length=200)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT,
                                 related_name="policies")
    targets = models.JSONField(
        help_text='{"critical": {"first_response_minutes": 15, "resolution_minutes": 240}, ...}')
    warning_percent = models.PositiveSmallIntegerField(default=80)
    pause_statuses = models.JSONField(default=default_pause_statuses, blank=True)
    escalation_ladder = models.JSONField(default=default_ladder, blank=True)
    is_default = models.BooleanField(default=False)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        ordering = ["name", "id"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company"], condition=Q(is_default=True),
                                    name="sla_one_default_policy"),
        ]

    def __str__(self) -> str:
        return self.name

    def rules(self) -> PolicyRules:
        return PolicyRules(
            targets={p: Targets(int(t["first_response_minutes"]) * 60,
                                int(t["resolution_minutes"]) * 60)
                     for p, t in self.targets.items()},
            warning_percent=self.warning_percent,
            pause_statuses=frozenset(self.pause_statuses or ()),
            ladder=ladder_from_json(self.escalation_ladder),
        )


class ClientSLAPolicy(TenantOwnedModel):
    """The policy a client is assigned (owned here so that ``clients`` stays below ``sla``)."""

    public_id_prefix = "csp"

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="sla_policy")
    policy = models.ForeignKey(SLAPolicy, on_delete=models.PROTECT, related_name="client_links")

    class Meta(TenantOwnedModel.Meta):
        verbose_name = "client SLA policy"

    def __str__(self) -> str:
        return f"{self.client} → {self.policy}"
