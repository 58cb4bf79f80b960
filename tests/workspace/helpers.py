"""Shared helpers of the workspace tests: signed-in Django test clients and tickets."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django_scopes import scope

from nestogy.core.timeutil import now as utc_now
from nestogy.tickets.actions import create_ticket
from tests.conftest import PASSWORD


def signed_in(email: str, *, csrf: bool = False) -> Client:
    client = Client()
    response = client.post("/app/login/", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:400]
    client.handler.enforce_csrf_checks = csrf
    return client


def ticket(company, client, subject="Printer offline", **extra):
    with scope(company=company.pk):
        return create_ticket(company, {"client": client, "subject": subject, **extra})


def opened_ago(company, client, hours: float, **extra):
    """A ticket opened ``hours`` *working* hours ago on the company's default SLA calendar,
    so that how much of its SLA is used does not depend on the weekday the suite runs on."""
    from nestogy.sla.queries import default_policy

    now = utc_now()
    with scope(company=company.pk):
        policy = default_policy()
        calendar = policy.calendar.as_calendar() if policy and policy.calendar_id else None
    if calendar is None or calendar.is_24x7:
        return ticket(company, client, opened_at=now - timedelta(hours=hours), **extra)
    wanted = round(hours * 3600)
    # Working time never exceeds wall time: the moment lies between ``hours`` and a few
    # weeks of wall time ago; find the latest one with ``wanted`` working seconds since.
    late, early = now - timedelta(hours=hours), now - timedelta(hours=hours * 7 + 24 * 21)
    while late - early > timedelta(seconds=1):
        middle = early + (late - early) / 2
        if calendar.business_seconds_between(middle, now) >= wanted:
            early = middle
        else:
            late = middle
    return ticket(company, client, opened_at=early, **extra)


def check_role_matrix(client: Client, role: str, cases: list[tuple]) -> None:
    """Each ``(method, url, data, permission)`` answers 200/302 when ``role`` has the
    permission in the one role matrix, else 403 with the workspace's refusal page."""
    from nestogy.accounts.roles import allowed

    for method, url, data, permission in cases:
        response = getattr(client, method)(url, data)
        if allowed(role, permission):
            assert response.status_code in (200, 302), (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
            assert "does not allow this page" in response.content.decode()


def sign_in_page(page, email: str, password: str = PASSWORD) -> None:
    """Sign in to the workspace in a browser page (Playwright)."""
    page.goto("/app/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
