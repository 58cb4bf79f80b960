"""The demo's technicians open a queue with their own saved views, each listing tickets."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from nestogy.ops.demo import demo_logins, seed_demo

pytestmark = pytest.mark.django_db


def test_demo_technicians_have_saved_views_that_list_tickets():
    seed_demo(report=lambda _: None)
    for who, email, password in demo_logins():
        if "billing" in who:
            continue  # the billing clerk's pages: tests/workspace/test_invoices_demo.py
        if "technician" not in who:
            continue
        client = Client()
        assert client.post("/app/login/", {"email": email, "password": password}).status_code \
            == 302
        body = client.get("/app/").content.decode()
        assert "My saved views" in body
        assert re.search(r"<span>(Critical|High priority), all open</span>", body), who
        assert re.search(r"<span>[^<]+: open</span>", body), who
        counts = [int(n) for n in re.findall(r'data-count="saved-svw_[^"]+">(\d+)<', body)]
        assert len(counts) == 3 and all(counts), (who, counts)
