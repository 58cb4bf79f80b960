"""Response bodies of the service desk's SLA endpoints (the breach checker and the report)."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema


class FindingOut(Schema):
    ticket_id: str
    number: int
    clock: str
    level: int
    percent: int
    event: str
    actions: dict


class EscalationCheckOut(Schema):
    dry_run: bool
    checked: int
    warnings: int
    breaches: int
    escalations: int
    state_changes: int
    findings: list[FindingOut]


class ClockStatsOut(Schema):
    met: int
    on_time: int
    breached: int
    near_miss: int  # met on time, but after the policy's warning threshold
    compliance_percent: float | None
    mean_business_seconds: float | None
    p90_business_seconds: float | None
    average_overrun_seconds: float | None


class GroupOut(Schema):
    key: str | None
    label: str
    tickets: int
    breaches: int
    first_response: ClockStatsOut
    resolution: ClockStatsOut


class SlaReportOut(Schema):
    group_by: str
    start: datetime | None
    end: datetime | None
    groups: list[GroupOut]
