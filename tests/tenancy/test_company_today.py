"""The company's "today" is its local date: at 23:30 in New York (UTC-5) it is already the
next day in UTC, and nothing a New York company sees may jump to that next day."""

from __future__ import annotations

from datetime import date

import time_machine
from django_scopes import scope

from nestogy.contracts.actions import update_contract
from nestogy.contracts.models import ContractItemQuantity
from nestogy.portal.queries import has_active_contract
from nestogy.tenancy.queries import company_today
from tests.billing.helpers import make_contract

LATE_EVENING_NY = "2025-01-16 04:30:00+00:00"  # 2025-01-15 23:30 in America/New_York


def test_company_today_is_the_local_date_not_the_utc_date(personas):
    with time_machine.travel(LATE_EVENING_NY, tick=False):
        assert company_today(personas.company_a) == date(2025, 1, 15)  # New York
        assert company_today(personas.company_b) == date(2025, 1, 16)  # Berlin, 05:30


def test_a_seat_added_late_in_the_evening_counts_from_the_local_day(personas):
    with scope(company=personas.company_a.pk):
        contract = make_contract(personas.company_a, personas.client_a, start="2025-01-01",
                                 metered=False)
        with time_machine.travel(LATE_EVENING_NY, tick=False):
            update_contract(contract, {"items": [
                {"kind": "fixed", "description": "Firewall", "quantity": "1",
                 "unit_price": "40.00"}]})
        added = ContractItemQuantity.objects.get(item__description="Firewall")
    assert added.effective_from == date(2025, 1, 15)


def test_portal_sees_a_contract_on_its_last_local_day(personas):
    with scope(company=personas.company_a.pk):
        make_contract(personas.company_a, personas.client_a, start="2025-01-01",
                      end="2025-01-15", metered=False)
        with time_machine.travel(LATE_EVENING_NY, tick=False):
            assert has_active_contract(personas.client_a)
        with time_machine.travel("2025-01-16 05:30:00+00:00", tick=False):
            assert not has_active_contract(personas.client_a)
