"""The demo's technicians have two weeks of time on demo tickets, shown under My time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django_scopes import scope

from nestogy.core.timeutil import now as utc_now
from nestogy.ops.demo import DEMO_PASSWORD, seed_demo
from nestogy.tenancy.models import Company
from nestogy.timesheets.models import RunningTimer, TimeEntry, WorkType

pytestmark = pytest.mark.django_db


def test_demo_time_fills_my_time_for_the_last_two_weeks():
    seed_demo(report=lambda _: None)
    company = Company.objects.get(slug="northwind-managed-it")
    with scope(company=company.pk):
        assert sorted(WorkType.objects.values_list("name", flat=True)) == [
            "After hours", "On-site", "Project", "Remote support"]
        entries = list(TimeEntry.objects.select_related("ticket", "user"))
        technicians = {e.user.email for e in entries}
        assert len(technicians) == 8
        now = utc_now()
        assert all(now - timedelta(days=15) <= e.started_at <= now for e in entries)
        assert all(e.ticket is not None and e.ticket.opened_at <= e.started_at
                   and e.client_id == e.ticket.client_id for e in entries)
        assert any(not e.billable for e in entries) and sum(e.billable for e in entries) > \
            0.8 * len(entries)
        assert {e.work_type.name for e in entries} == {"Remote support", "On-site",
                                                       "Project", "After hours"}
        assert RunningTimer.objects.filter(user__email="priya@northwind.example").exists()
    client = Client()
    client.post("/app/login/", {"email": "priya@northwind.example",
                                "password": DEMO_PASSWORD})
    body = client.get("/app/time/?date=" + (now - timedelta(days=7)).date().isoformat()
                      ).content.decode()
    assert "Week of" in body and "Remote support" in body and "No time." in body  # weekend
    assert 'data-total="all">0m<' not in body
    assert "Timer running" in client.get("/app/time/").content.decode()
