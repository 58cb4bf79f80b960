"""Changes to routing inputs: category skills, absences, technician calendars, weights."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django_scopes import scope, scopes_disabled

from nestogy.audit.actions import log_action
from nestogy.core.errors import ValidationError
from nestogy.core.events import Event
from nestogy.core.timeutil import as_utc
from nestogy.core.validation import clean_int, clean_text
from nestogy.routing.engine import Weights
from nestogy.routing.models import CategorySkill, OutOfOffice, TechnicianCalendar


def _category(category: Any, skills: Any, prefix: str = "") -> tuple[str, dict[str, int]]:
    if not isinstance(category, str) or not category.strip() or len(category) > 100:
        raise ValidationError(f"{prefix}category", "must be text of 1 to 100 characters")
    if not isinstance(skills, dict):
        raise ValidationError(f"{prefix}skills", "must be an object of skill name to level")
    clean = {}
    for name, level in skills.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 50:
            raise ValidationError(f"{prefix}skills", "skill names are text of 1 to 50 "
                                                     "characters")
        clean[name.strip().lower()] = clean_int(level, f"{prefix}skills.{name}", 1, 5)
    return category.strip(), clean


def category_table() -> dict[str, dict[str, int]]:
    """What every category requires: ``{category: {skill: min_level}}``."""
    table: dict[str, dict[str, int]] = {}
    for category, skill, level in CategorySkill.objects.values_list("category", "skill",
                                                                    "min_level"):
        table.setdefault(category, {})[skill] = level
    return table


def _rows(company, category: str, skills: dict[str, int]) -> list[CategorySkill]:
    return [CategorySkill(company=company, category=category, skill=name, min_level=level)
            for name, level in sorted(skills.items())]


@transaction.atomic
def set_category_skills(company, category: str, skills: dict[str, Any], *,
                        actor=None) -> list[CategorySkill]:
    """Replace what ``category`` requires: ``{"networking": 3}`` (empty = nothing).

    Setting what is already stored changes nothing (no write, no audit entry)."""
    category, clean = _category(category, skills)
    if category_table().get(category, {}) == clean:
        return list(CategorySkill.objects.filter(category=category))
    CategorySkill.objects.filter(category=category).delete()
    rows = CategorySkill.objects.bulk_create(_rows(company, category, clean))
    log_action(company, "routing.category_skills_set", actor=actor, company=company,
               data={"category": category, "skills": clean})
    return rows


@transaction.atomic
def set_category_table(company, items: list[tuple[Any, Any]], *, actor=None) -> None:
    """Replace the whole table with ``[(category, skills), ...]``: categories not listed
    require nothing any more. Setting what is already stored changes nothing."""
    table: dict[str, dict[str, int]] = {}
    seen: set[str] = set()
    for i, (category, skills) in enumerate(items):
        name, clean = _category(category, skills, f"items[{i}].")
        if name in seen:
            raise ValidationError(f"items[{i}].category", "is listed twice")
        seen.add(name)
        if clean:
            table[name] = clean
    if category_table() == table:
        return
    CategorySkill.objects.all().delete()
    CategorySkill.objects.bulk_create([row for name, clean in sorted(table.items())
                                       for row in _rows(company, name, clean)])
    log_action(company, "routing.category_table_set", actor=actor, company=company,
               data={"categories": table})


@transaction.atomic
def add_out_of_office(user, company, starts_at: datetime, ends_at: datetime, note: str = "", *,
                      actor=None) -> OutOfOffice:
    starts_at, ends_at = as_utc(starts_at, "starts_at"), as_utc(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise ValidationError("ends_at", "must be after starts_at")
    note = clean_text(note, "note", max_length=200)
    period = OutOfOffice.objects.create(company=company, user=user, starts_at=starts_at,
                                        ends_at=ends_at, note=note)
    log_action(period, "routing.out_of_office_added", actor=actor,
               data={"user_id": user.public_id, "starts_at": starts_at.isoformat(),
                     "ends_at": ends_at.isoformat()})
    return period


@transaction.atomic
def remove_out_of_office(period: OutOfOffice, *, actor=None) -> None:
    log_action(period, "routing.out_of_office_removed", actor=actor, data={})
    period.delete()


@transaction.atomic
def set_technician_calendar(company, user, calendar, *, actor=None) -> None:
    """Working hours of ``user`` (a business calendar); ``None`` = always available."""
    if calendar is None:
        TechnicianCalendar.objects.filter(user=user).delete()
    else:
        TechnicianCalendar.objects.update_or_create(company=company, user=user,
                                                    defaults={"calendar": calendar})
    log_action(company, "routing.technician_calendar_set", actor=actor, company=company,
               data={"user_id": user.public_id,
                     "calendar_id": calendar.public_id if calendar else None})


def weights_for(company) -> Weights:
    try:
        return Weights.from_overrides(company.get_setting("routing.weights"))
    except (TypeError, ValueError) as exc:
        raise ValidationError("settings.routing.weights", str(exc)) from None


@transaction.atomic
def set_weights(company, overrides: dict[str, Any], *, actor=None) -> Weights:
    try:
        weights = Weights.from_overrides(overrides)
    except (TypeError, ValueError) as exc:
        raise ValidationError("weights", str(exc)) from None
    if company.get_setting("routing.weights") == overrides:
        return weights  # nothing changes: no write, no audit entry
    company.set_setting("routing.weights", overrides)
    company.save(update_fields=["settings"])
    log_action(company, "routing.weights_set", actor=actor, company=company,
               data={"weights": overrides})
    return weights


def apply_invited_calendar(event: Event) -> None:
    """Reaction to ``user.joined`` (``RoutingConfig.ready``): an accepted invitation that
    named a working calendar sets it for the new member (if the calendar still exists)."""
    from nestogy.accounts.models import Invitation, Membership
    from nestogy.sla.models import BusinessCalendar

    with scopes_disabled():
        invitation = Invitation.objects.filter(pk=event.data.get("invitation_pk"),
                                               company_id=event.company_id).first()
        if invitation is None or not invitation.calendar_id:
            return
        membership = (Membership.objects.select_related("company", "user")
                      .filter(pk=event.data.get("membership_pk"),
                              company_id=event.company_id).first())
        calendar = BusinessCalendar.objects.filter(company_id=event.company_id,
                                                   public_id=invitation.calendar_id).first()
    if membership is not None and calendar is not None:
        with scope(company=event.company_id):
            set_technician_calendar(membership.company, membership.user, calendar,
                                    actor=membership.user)
