"""The demo's printed staff logins find clients and an inbox with unread entries.

The demo's events (tickets opened and assigned, overdue invoices, renewal notices) queue
in-app deliveries; the worker ``make run`` starts sends them (``send_due`` here)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from nestogy.notifications.sending import send_due
from nestogy.ops.demo import demo_logins, seed_demo

pytestmark = pytest.mark.django_db


def test_every_demo_login_has_unread_notifications_and_clients():
    seed_demo(report=lambda _: None)
    send_due()
    for who, email, password in demo_logins():
        if "billing" in who:
            continue  # the billing clerk's pages: tests/workspace/test_invoices_demo.py
        if "operator" in who.lower():
            continue  # the platform operator signs in to /admin/ (tests/ops/test_demo.py)
        client = Client()
        assert client.post("/app/login/", {"email": email, "password": password}).status_code \
            == 302, who
        queue = client.get("/app/").content.decode()
        badge = re.search(r"data-unread>(\d+)<", queue)
        assert badge and int(badge.group(1)) > 0, who
        inbox = client.get("/app/inbox/?show=unread").content.decode()
        assert inbox.count("data-notification") > 0, who
        assert 'href="/app/tickets/' in inbox or 'href="/app/clients/' in inbox, who
        clients = client.get("/app/clients/").content.decode()
        assert clients.count("data-client-row") >= 5, who
