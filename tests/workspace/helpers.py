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
    return ticket(company, client, opened_at=utc_now() - timedelta(hours=hours), **extra)
