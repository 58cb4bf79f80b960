"""The demo's printed staff logins open a workspace with tickets to work on."""

from __future__ import annotations

import pytest
from django.test import Client

from nestogy.ops.demo import demo_logins, seed_demo

pytestmark = pytest.mark.django_db


def test_every_printed_staff_login_reaches_a_populated_queue():
    seed_demo(report=lambda _: None)
    logins = demo_logins()
    assert any("technician" in who for who, _, _ in logins)
    for who, email, password in logins:
        if "billing" in who:
            continue  # the billing clerk's pages: tests/workspace/test_invoices_demo.py
        if "operator" in who.lower():
            continue  # the platform operator signs in to /admin/ (tests/ops/test_demo.py)
        client = Client()
        response = client.post("/app/login/", {"email": email, "password": password})
        assert response.status_code == 302, who
        page = client.get("/app/?view=all")
        assert page.status_code == 200, who
        body = page.content.decode()
        assert 'data-count="all">0<' not in body, who
        assert "data-row" in body, who


def test_the_demo_fills_every_built_in_view():
    seed_demo(report=lambda _: None)
    client = Client()
    client.post("/app/login/", {"email": "priya@northwind.example",
                                "password": "nestogy-demo"})
    body = client.get("/app/?view=all").content.decode()
    for view in ("mine", "unassigned", "breached", "waiting", "all"):
        assert f'data-count="{view}">0<' not in body, view
