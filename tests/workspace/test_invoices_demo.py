"""The demo's printed billing clerk login opens the invoices and the collections board with
something to do."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from nestogy.ops.demo import demo_logins, seed_demo

pytestmark = pytest.mark.django_db


def test_the_printed_billing_login_reaches_invoices_with_open_ones_to_work():
    seed_demo(report=lambda _: None)
    clerks = [(who, email, pw) for who, email, pw in demo_logins() if "billing" in who]
    assert clerks
    for who, email, password in clerks:
        client = Client()
        assert client.post("/app/login/", {"email": email, "password": password}) \
            .status_code == 302, who
        listing = client.get("/app/invoices/?status=open").content.decode()
        assert listing.count("data-invoice-row") > 0, who
        first = re.search(r'href="(/app/invoices/inv_[^"]+/)"', listing).group(1)
        page = client.get(first).content.decode()
        # The recurring run generated it; its history says so.
        assert "Record a payment" in page and 'data-audit="invoice.generated"' in page, who
        board = client.get("/app/collections/?overdue=on").content.decode()
        assert board.count("data-aging-row") > 0 and "Send reminder" in board, who
