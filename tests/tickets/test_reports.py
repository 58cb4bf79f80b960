"""GET /tickets/sla-report: figures computed in the database, per priority/client/assignee."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

MON_9 = datetime(2025, 3, 3, 14, tzinfo=UTC)  # Monday 09:00 EST (company A)
NOW = MON_9 + timedelta(days=14)


def percentile_cont(values, q=0.9):
    values = sorted(values)
    position = (len(values) - 1) * q
    lo = int(position)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (position - lo)


def imported(p, *, minutes_to_reply=None, priority="high", client=None, assignee=None,
             resolve_after=None):
    events = []
    if minutes_to_reply is not None:
        events.append({"at": (MON_9 + timedelta(minutes=minutes_to_reply)).isoformat(),
                       "type": "reply", "public": True})
    if resolve_after is not None:
        events.append({"at": (MON_9 + resolve_after).isoformat(), "type": "status",
                       "status": "resolved"})
    body = {"client_id": (client or p.client_a).public_id, "subject": "Imported",
            "priority": priority, "opened_at": MON_9.isoformat(), "events": events}
    if assignee:
        body["assignee_id"] = assignee.public_id
    response = p.owner_a.api.post("/tickets/import", body)
    assert response.status_code == 201, response.data
    return response.data


def test_report_by_priority(personas, django_assert_max_num_queries):
    p = personas
    high_minutes = [10, 20, 30, 45, 60, 90, 110, 150, 200]  # target 120 minutes
    with time_machine.travel(NOW, tick=False):
        for m in high_minutes:
            imported(p, minutes_to_reply=m, resolve_after=timedelta(hours=5))
        imported(p, minutes_to_reply=None)  # never answered: breached long ago
        imported(p, priority="low", minutes_to_reply=30, resolve_after=timedelta(hours=3))
        with django_assert_max_num_queries(8):
            response = p.manager_a.api.get("/tickets/sla-report", group_by="priority")
    assert response.status_code == 200, response.data
    groups = {g["key"]: g for g in response.data["groups"]}
    high = groups["high"]
    assert high["tickets"] == 10
    fr = high["first_response"]
    assert fr["met"] == 9 and fr["on_time"] == 7 and fr["breached"] == 3
    # a near miss: met on time at or after 80 % (the policy's warning) of 120 minutes, 96
    # minutes: only the 110-minute reply (90 minutes is before the warning)
    assert fr["near_miss"] == 1
    assert fr["compliance_percent"] == round(100 * 7 / 10, 2)
    seconds = [m * 60 for m in high_minutes]
    assert fr["mean_business_seconds"] == round(sum(seconds) / 9, 2)
    assert abs(fr["p90_business_seconds"] - percentile_cont(seconds)) < 0.01
    # Overruns: 150 and 200 minutes replies (30 and 80 min late) and the unanswered ticket,
    # due Monday 11:00 EST; "now" is two weeks later at 10:00 EDT (DST began on the 9th):
    # 6h + 4 x 8h + 5 x 8h + 1h = 79 business hours.
    unanswered = 79 * 3600
    assert fr["average_overrun_seconds"] == round((30 * 60 + 80 * 60 + unanswered) / 3, 2)
    assert high["resolution"]["met"] == 9 and high["resolution"]["on_time"] == 9
    assert high["resolution"]["mean_business_seconds"] == 5 * 3600
    assert high["breaches"] == 3
    low = groups["low"]
    assert low["tickets"] == 1 and low["first_response"]["compliance_percent"] == 100.0
    assert low["first_response"]["p90_business_seconds"] == 1800.0


def test_report_by_client_and_assignee_with_date_range(personas):
    p = personas
    with time_machine.travel(NOW, tick=False):
        imported(p, minutes_to_reply=10, assignee=p.tech_a.user)
        imported(p, minutes_to_reply=500, client=p.client_a2)
        by_client = p.owner_a.api.get("/tickets/sla-report", group_by="client").data
        by_assignee = p.owner_a.api.get("/tickets/sla-report", group_by="assignee").data
        empty = p.owner_a.api.get("/tickets/sla-report", group_by="client",
                                  **{"from": (MON_9 + timedelta(days=1)).isoformat(),
                                     "to": NOW.isoformat()}).data
    labels = {g["label"]: g for g in by_client["groups"]}
    assert labels["Acme Dental"]["first_response"]["compliance_percent"] == 100.0
    assert labels["Blue Ridge Accounting"]["first_response"]["compliance_percent"] == 0.0
    assignees = {g["label"] for g in by_assignee["groups"]}
    assert assignees == {"Tech1", "Unassigned"}
    assert empty["groups"] == []


def test_report_rejects_bad_parameters(personas):
    api = personas.owner_a.api
    bad = api.get("/tickets/sla-report", group_by="colour")
    assert bad.status_code == 422 and bad.data["error"]["field"] == "group_by"
    backwards = api.get("/tickets/sla-report", **{"from": "2025-03-05T00:00:00+00:00",
                                                  "to": "2025-03-01T00:00:00+00:00"})
    assert backwards.status_code == 422 and backwards.data["error"]["field"] == "to"
    assert personas.tech_a.api.get("/tickets/sla-report").status_code == 403
