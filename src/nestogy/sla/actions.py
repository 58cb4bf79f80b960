"""Every change to calendars, SLA policies and client policy assignments."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from nestogy.audit.actions import log_action
from nestogy.clients.models import Client
from nestogy.core.errors import ValidationError
from nestogy.core.events import emit
from nestogy.core.timeutil import validate_timezone
from nestogy.sla.calendar import parse_hours
from nestogy.sla.clock import PRIORITIES, STATUSES, ladder_from_json
from nestogy.sla.models import BusinessCalendar, ClientSLAPolicy, SLAPolicy


def client_policy_changed(client_ids: list[int]) -> None:
    """Announce ``sla.client_policy_changed`` for these clients (one event per company):
    the tickets app re-selects the policy of their open tickets, in this transaction."""
    by_company: dict[int, list[int]] = {}
    for pk, company_id in Client.objects.filter(pk__in=list(client_ids)).values_list(
            "pk", "company_id").order_by("pk"):
        by_company.setdefault(company_id, []).append(pk)
    for company_id, ids in by_company.items():
        emit("sla.client_policy_changed", company_id=company_id, data={"client_ids": ids})

DEFAULT_TARGETS = {
    "critical": {"first_response_minutes": 60, "resolution_minutes": 4 * 60},
    "high": {"first_response_minutes": 2 * 60, "resolution_minutes": 8 * 60},
    "medium": {"first_response_minutes": 4 * 60, "resolution_minutes": 24 * 60},
    "low": {"first_response_minutes": 8 * 60, "resolution_minutes": 40 * 60},
}
BUSINESS_HOURS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
# Limits of policies: a target of at most 100,000 business hours; ladders of at most 20
# levels numbered 1-20 firing at 1-1000 % of a target; who a level notifies.
MAX_TARGET_MINUTES = 100_000 * 60
MAX_LEVEL = 20
MAX_LEVEL_PERCENT = 1000
NOTIFY = ("assignee", "managers", "owners_admins")
PAUSABLE = tuple(s for s in STATUSES if s not in {"resolved", "closed", "new"})


def _text(value: Any, field: str, max_length: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must not be empty")
    if len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters")
    return value.strip()


def _holidays(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValidationError("holidays", "must be a list of dates YYYY-MM-DD")
    out = []
    for i, item in enumerate(value):
        try:
            out.append(date.fromisoformat(item).isoformat())
        except (TypeError, ValueError):
            raise ValidationError(f"holidays[{i}]", "must be a date YYYY-MM-DD") from None
    return sorted(set(out))


def _country(value: Any, subdivision: str = "") -> str:
    if not value:
        return ""
    import holidays as holidays_lib

    code = str(value).upper()
    if code not in holidays_lib.list_supported_countries():
        raise ValidationError("holiday_country", f"{value!r} is not a supported country code")
    if subdivision and subdivision not in holidays_lib.list_supported_countries()[code]:
        raise ValidationError("holiday_subdivision", f"{subdivision!r} is not a subdivision "
                                                     f"of {code}")
    return code


CALENDAR_FIELDS = {"name", "timezone", "hours", "holidays", "holiday_country",
                   "holiday_subdivision", "is_24x7"}


def _apply_calendar(calendar: BusinessCalendar, data: dict[str, Any]) -> None:
    unknown = set(data) - CALENDAR_FIELDS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a calendar field")
    if "name" in data:
        calendar.name = _text(data["name"], "name")
    if "timezone" in data:
        calendar.timezone = validate_timezone(data["timezone"])
    if "hours" in data:
        parse_hours(data["hours"] or {})
        calendar.hours = {k: v for k, v in (data["hours"] or {}).items() if v}
    if "holidays" in data:
        calendar.holidays = _holidays(data["holidays"] or [])
    if "holiday_subdivision" in data:
        calendar.holiday_subdivision = str(data["holiday_subdivision"] or "").upper()
    if "holiday_country" in data:
        calendar.holiday_country = _country(data["holiday_country"],
                                            calendar.holiday_subdivision)
    if "is_24x7" in data:
        if not isinstance(data["is_24x7"], bool):
            raise ValidationError("is_24x7", "must be true or false")
        calendar.is_24x7 = data["is_24x7"]
    if not calendar.is_24x7 and not parse_hours(calendar.hours):
        raise ValidationError("hours", "a calendar that is not 24x7 needs working hours")


@transaction.atomic
def create_calendar(company, data: dict[str, Any], *, actor=None) -> BusinessCalendar:
    if "name" not in data:
        raise ValidationError("name", "is required")
    calendar = BusinessCalendar(company=company)
    _apply_calendar(calendar, data)
    calendar.save()
    log_action(calendar, "calendar.created", actor=actor, data={"name": calendar.name})
    return calendar


@transaction.atomic
def update_calendar(calendar: BusinessCalendar, changes: dict[str, Any], *,
                    actor=None) -> BusinessCalendar:
    _apply_calendar(calendar, changes)
    calendar.save()
    log_action(calendar, "calendar.updated", actor=actor, data=changes)
    _policies_changed(calendar.company_id,
                      list(calendar.policies.values_list("pk", flat=True)))
    return calendar


def _targets(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValidationError("targets", "must be an object keyed by priority")
    out = {}
    for priority in PRIORITIES:
        item = value.get(priority)
        if not isinstance(item, dict):
            raise ValidationError(f"targets.{priority}", "is required")
        clean = {}
        for key in ("first_response_minutes", "resolution_minutes"):
            minutes = item.get(key)
            if isinstance(minutes, bool) or not isinstance(minutes, int) \
                    or not 1 <= minutes <= MAX_TARGET_MINUTES:
                raise ValidationError(f"targets.{priority}.{key}",
                                      f"must be a whole number from 1 to {MAX_TARGET_MINUTES}")
            clean[key] = minutes
        extra = set(item) - set(clean)
        if extra:
            raise ValidationError(f"targets.{priority}.{sorted(extra)[0]}", "is not a target")
        out[priority] = clean
    extra = set(value) - set(PRIORITIES)
    if extra:
        raise ValidationError(f"targets.{sorted(extra)[0]}", "is not a priority")
    return out


def _ladder(value: Any) -> list[dict]:
    """Each rung: level 1-MAX_LEVEL, percent 1-MAX_LEVEL_PERCENT or null, notify one of
    NOTIFY, raise_priority and reassign true/false."""
    if not isinstance(value, list) or len(value) > MAX_LEVEL:
        raise ValidationError("escalation_ladder", f"must be a list of at most {MAX_LEVEL} "
                                                   "levels")
    allowed = {"level", "percent", "notify", "raise_priority", "reassign"}
    for i, rung in enumerate(value):
        here = f"escalation_ladder[{i}]"
        if not isinstance(rung, dict):
            raise ValidationError(here, "must be an object {level, percent, notify}")
        if set(rung) - allowed:
            raise ValidationError(f"{here}.{sorted(set(rung) - allowed)[0]}",
                                  "is not a field of a level")
        level, percent = rung.get("level"), rung.get("percent")
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= MAX_LEVEL:
            raise ValidationError(f"{here}.level", f"must be a whole number from 1 to "
                                                   f"{MAX_LEVEL}")
        if percent is not None and (isinstance(percent, bool) or not isinstance(percent, int)
                                    or not 1 <= percent <= MAX_LEVEL_PERCENT):
            raise ValidationError(f"{here}.percent", f"must be a whole number from 1 to "
                                                     f"{MAX_LEVEL_PERCENT}, or null")
        if rung.get("notify", "assignee") not in NOTIFY:
            raise ValidationError(f"{here}.notify", f"must be one of {', '.join(NOTIFY)}")
        for flag in ("raise_priority", "reassign"):
            if not isinstance(rung.get(flag, False), bool):
                raise ValidationError(f"{here}.{flag}", "must be true or false")
    return value


POLICY_FIELDS = {"name", "calendar", "targets", "warning_percent", "pause_statuses",
                 "escalation_ladder", "is_default"}


def _apply_policy(policy: SLAPolicy, data: dict[str, Any]) -> None:
    unknown = set(data) - POLICY_FIELDS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a policy field")
    if "name" in data:
        policy.name = _text(data["name"], "name")
    if "calendar" in data:
        policy.calendar = data["calendar"]
    if "targets" in data:
        policy.targets = _targets(data["targets"])
    if "warning_percent" in data:
        wp = data["warning_percent"]
        if isinstance(wp, bool) or not isinstance(wp, int) or not 1 <= wp <= 99:
            raise ValidationError("warning_percent", "must be a whole number from 1 to 99")
        policy.warning_percent = wp
    if "pause_statuses" in data:
        statuses = data["pause_statuses"]
        allowed = set(STATUSES) - {"resolved", "closed", "new"}
        if not isinstance(statuses, list) or any(s not in allowed for s in statuses):
            raise ValidationError("pause_statuses",
                                  f"must be a list of statuses from {', '.join(sorted(allowed))}")
        policy.pause_statuses = sorted(set(statuses))
    if "escalation_ladder" in data:
        ladder = _ladder(data["escalation_ladder"])
        try:
            levels = ladder_from_json(ladder)
        except (KeyError, TypeError, ValueError):
            raise ValidationError("escalation_ladder",
                                  "must be a list of {level, percent, notify}") from None
        numbers = [lv.level for lv in levels]
        if len(set(numbers)) != len(numbers):
            raise ValidationError("escalation_ladder", "levels must be unique")
        policy.escalation_ladder = ladder
    if "is_default" in data:
        if not isinstance(data["is_default"], bool):
            raise ValidationError("is_default", "must be true or false")
        policy.is_default = data["is_default"]


def _take_default(policy: SLAPolicy) -> None:
    if policy.is_default:
        SLAPolicy.objects.filter(is_default=True).exclude(pk=policy.pk).update(is_default=False)


@transaction.atomic
def create_policy(company, data: dict[str, Any], *, actor=None) -> SLAPolicy:
    for key in ("name", "calendar", "targets"):
        if key not in data:
            raise ValidationError("calendar_id" if key == "calendar" else key, "is required")
    policy = SLAPolicy(company=company)
    _apply_policy(policy, data)
    if not SLAPolicy.objects.filter(is_default=True).exists():
        policy.is_default = True  # the first policy is the default
    _take_default(policy)
    policy.save()
    log_action(policy, "sla_policy.created", actor=actor, data={"name": policy.name})
    return policy


@transaction.atomic
def update_policy(policy: SLAPolicy, changes: dict[str, Any], *, actor=None) -> SLAPolicy:
    was_default = policy.is_default
    _apply_policy(policy, changes)
    if was_default and not policy.is_default:
        raise ValidationError("is_default", "make another policy the default instead")
    _take_default(policy)
    policy.save()
    log_action(policy, "sla_policy.updated", actor=actor,
               data={k: (v.public_id if hasattr(v, "public_id") else v)
                     for k, v in changes.items()})
    _policies_changed(policy.company_id, [policy.pk])
    return policy


def _policies_changed(company_id: int, policy_ids: list[int]) -> None:
    """Announce ``sla.policy_changed``: the tickets app recomputes the open tickets on these
    policies in this transaction."""
    if policy_ids:
        emit("sla.policy_changed", company_id=company_id, data={"policy_ids": policy_ids})


@transaction.atomic
def set_client_policy(client, policy: SLAPolicy | None, *, actor=None) -> None:
    """Assign ``policy`` to ``client`` (``None`` removes the assignment)."""
    if policy is None:
        ClientSLAPolicy.objects.filter(client=client).delete()
    else:
        ClientSLAPolicy.objects.update_or_create(client=client, company_id=client.company_id,
                                                 defaults={"policy": policy})
    log_action(client, "client.sla_policy_set", actor=actor,
               data={"sla_policy_id": policy.public_id if policy else None})
    client_policy_changed([client.pk])


def provision_defaults(company, owner=None) -> SLAPolicy:
    """A business-hours calendar in the company's time zone and a default policy."""
    calendar = create_calendar(company, {
        "name": "Business hours", "timezone": company.timezone, "hours": BUSINESS_HOURS})
    return create_policy(company, {"name": "Standard", "calendar": calendar,
                                   "targets": DEFAULT_TARGETS, "is_default": True})
