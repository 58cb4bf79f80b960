"""MRR movements per month (billing.mrr, GET /revenue/mrr-movements): new, expansion,
contraction and churn client by client, adding up from opening to closing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django_scopes import scope

from nestogy.billing.mrr import mrr_movements
from nestogy.clients.actions import create_client
from nestogy.contracts.actions import set_item_quantity
from tests.billing.helpers import fixed_item, make_contract

TODAY = date(2025, 4, 15)


@pytest.fixture
def book(in_a):
    """Alpha's clients over January to April 2025:
    - Acme: 10 seats × 25 monthly from before January; 14 seats from 1 March (expansion 100);
    - Blue Ridge: quarterly 600 (200 a month) from 1 February (new), ending 31 March (churn);
    - Cedar: annual 2,400 (200 a month) from before; 2 seats -> 1 from 1 April (contraction);
    - a EUR contract (another currency) and a draft: not counted."""
    p = in_a
    acme = make_contract(p.company_a, p.client_a, start="2024-06-01", metered=False)
    set_item_quantity(fixed_item(acme), "14", "2025-03-01")
    make_contract(p.company_a, p.client_a2, start="2025-02-01", cycle="quarterly",
                  seats="1", price="600", metered=False, end="2025-03-31")
    cedar_client = create_client(p.company_a, {"name": "Cedar Law"})
    cedar = make_contract(p.company_a, cedar_client, start="2024-05-01", cycle="annual",
                          seats="2", price="1200", metered=False)
    set_item_quantity(fixed_item(cedar), "1", "2025-04-01")
    other = create_client(p.company_a, {"name": "Euro client"})
    make_contract(p.company_a, other, start="2024-01-01", currency="EUR", seats="3",
                  price="99", metered=False)
    draft = make_contract(p.company_a, other, start="2024-01-01", seats="5", price="10",
                          metered=False)
    draft.status = "draft"
    draft.save()
    return p


def test_each_month_moves_from_opening_to_closing(book):
    p = book
    result = mrr_movements(p.company_a, TODAY, 4)
    months = {m["month"]: m for m in result["months"]}
    assert list(months) == ["2025-01", "2025-02", "2025-03", "2025-04"]
    jan, feb, mar, apr = (months[k] for k in months)
    assert (jan["opening"], jan["closing"]) == (Decimal("450.00"), Decimal("450.00"))
    assert feb["new"] == Decimal("200.00") and feb["clients"]["new"] == 1
    assert feb["closing"] == Decimal("650.00")
    assert mar["expansion"] == Decimal("100.00") and mar["closing"] == Decimal("750.00")
    assert apr["churn"] == Decimal("200.00") and apr["contraction"] == Decimal("100.00")
    assert apr["closing"] == Decimal("450.00") and apr["to"] == TODAY
    for m in result["months"]:
        assert m["opening"] + m["new"] + m["expansion"] - m["contraction"] - m["churn"] \
            == m["closing"]
    assert result["months"][1]["opening"] == result["months"][0]["closing"]


def test_the_closing_of_today_is_the_forecasts_mrr(book):
    from nestogy.billing.forecast import forecast

    p = book
    assert mrr_movements(p.company_a, TODAY, 1)["months"][-1]["closing"] == forecast(
        p.company_a, TODAY, 1)["mrr"]


def test_the_api_answers_the_same_and_refuses_bad_input(personas):
    p = personas
    with scope(company=p.company_a.pk):
        make_contract(p.company_a, p.client_a, start="2025-02-10", metered=False)
    with scope(company=p.company_b.pk):
        make_contract(p.company_b, p.client_b, start="2025-01-01", seats="99",
                      metered=False)
    with time_machine.travel("2025-03-20 12:00:00+00:00", tick=False):
        response = p.billing_a.api.get("/revenue/mrr-movements", months=3)
        with scope(company=p.company_a.pk):
            direct = mrr_movements(p.company_a, date(2025, 3, 20), 3)
    assert response.status_code == 200, response.data
    assert [m["month"] for m in response.data["months"]] == ["2025-01", "2025-02", "2025-03"]
    feb = response.data["months"][1]
    assert feb["new"] == "250.00" and feb["clients"]["new"] == 1  # Bravo's is not counted
    assert [m["closing"] for m in response.data["months"]] == [
        f"{m['closing']:.2f}" for m in direct["months"]]
    for bad in (0, 37):
        answer = p.billing_a.api.get("/revenue/mrr-movements", months=bad)
        assert answer.status_code == 422 and "months" in str(answer.data)
    assert p.manager_a.api.get("/revenue/mrr-movements").status_code == 403
    assert p.tech_a.api.get("/revenue/mrr-movements").status_code == 403
