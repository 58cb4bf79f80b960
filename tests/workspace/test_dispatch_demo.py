"""The demo gives the dispatch board something to dispatch: unassigned and at-risk tickets,
technicians on shifts, one away."""

from __future__ import annotations

import pytest

from nestogy.ops.demo import DEMO_PASSWORD, seed_demo
from tests.workspace.test_dispatch import _token

pytestmark = pytest.mark.django_db


def _client(email):
    from django.test import Client

    client = Client()
    assert client.post("/app/login/", {"email": email,
                                       "password": DEMO_PASSWORD}).status_code == 302
    return client


def test_the_demo_board_has_work_shifts_and_absences():
    seed_demo(report=lambda _: None)
    client = _client("manager@northwind.example")
    body = client.get("/app/dispatch/").content.decode()
    assert body.count("data-dispatch-card") >= 8
    assert "Email server rejecting all mail" in body and "Overdue" in body
    assert "Point-of-sale terminals offline" in body and "with Priya Raman" in body
    assert body.count("data-drop-tech") == 8
    assert "Away" in body and "Firewall vendor training" in body and "Holiday" in body
    assert "24x7 NOC" in body and ("Day shift" in body or "Late shift" in body)
    assert "Needs: " in body
    preview = client.get("/app/dispatch/auto/").content.decode()
    assert 'data-total="optimal"' in preview
    assert _token(preview)
    harbor = _client("owner@harbortech.example").get("/app/dispatch/").content.decode()
    assert "data-dispatch-card" in harbor and harbor.count("data-drop-tech") == 3
