"""What routing knows beyond the technician profile: category skills, absences, calendars."""

from __future__ import annotations

from django.db import models

from nestogy.accounts.models import User
from nestogy.tenancy.models import TenantOwnedModel


class CategorySkill(TenantOwnedModel):
    """A ticket category needs this skill at least at this level (1-5)."""

    public_id_prefix = "csk"

    category = models.CharField(max_length=100)
    skill = models.CharField(max_length=50)
    min_level = models.PositiveSmallIntegerField(default=1)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["category", "skill"]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "category", "skill"],
                                    name="routing_category_skill_unique"),
            models.CheckConstraint(condition=models.Q(min_level__gte=1, min_level__lte=5),
                                   name="routing_category_skill_level"),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.skill} ≥ {self.min_level}"


class OutOfOffice(TenantOwnedModel):
    """A period a technician is away (holiday, sick leave, training): routing skips them."""

    public_id_prefix = "ooo"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="absences")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["company", "ends_at", "starts_at"],
                                name="routing_ooo_window_idx")]
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="routing_ooo_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.user} away {self.starts_at:%Y-%m-%d} - {self.ends_at:%Y-%m-%d}"


class TechnicianCalendar(TenantOwnedModel):
    """The working hours of a technician (a business calendar); none = always available."""

    public_id_prefix = "tcal"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    calendar = models.ForeignKey("sla.BusinessCalendar", on_delete=models.PROTECT,
                                 related_name="+")

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "user"],
                                    name="routing_tech_calendar_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.calendar}"
