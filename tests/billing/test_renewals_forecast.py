"""Renewals (notices, uplift, history, idempotency), the forecast, and the commands."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django_scopes import scope, scopes_disabled

from nestogy.billing.forecast import forecast
from nestogy.billing.models import Invoice
from nestogy.contracts.models import Contract, RenewalRecord
from nestogy.contracts.renewals import process_renewals, renewed_end, uplifted
from nestogy.core import events
from tests.billing.helpers import add_usage, fixed_item, make_contract


@pytest.fixture
def captured():
    seen: list[events.Event] = []
    events.subscribe(seen.append)
    yield seen
    events._subscribers.remove(seen.append)


def test_renewed_end_and_uplift_rounding():
    assert renewed_end(date(2025, 12, 31), 12) == date(2026, 12, 31)
    assert renewed_end(date(2025, 2, 28), 12) == date(2026, 2, 28)
    assert renewed_end(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert renewed_end(date(2025, 1, 30), 1) == date(2025, 2, 27)
    assert uplifted(Decimal("19.99"), Decimal("3"), "USD") == Decimal("20.59")  # 20.5897
    assert uplifted(Decimal("10.05"), Decimal("5"), "USD") == Decimal("10.55")  # 10.5525
    assert uplifted(Decimal("12.50"), Decimal("4"), "USD") == Decimal("13.00")
    assert uplifted(Decimal("1001"), Decimal("2.5"), "JPY") == Decimal("1026")  # 1026.025


def test_notice_once_then_renewal_with_uplift_recorded(in_a, captured):
    p = in_a
    contract = make_contract(p.company_a, p.client_a, start="2025-01-01", end="2025-12-31",
                             price="19.99", metered=False, auto_renew=True,
                             renewal_term_months=12, renewal_uplift_percent="3",
                             renewal_notice_days=30)
    assert process_renewals(p.company_a, date(2025, 11, 30)).notices == []
    first = process_renewals(p.company_a, date(2025, 12, 1))
    assert first.notices == [contract.public_id]
    assert process_renewals(p.company_a, date(2025, 12, 2)).notices == []  # once
    assert [e.type for e in captured] == ["contract.renewal_upcoming"]
    renewed = process_renewals(p.company_a, date(2025, 12, 31))
    assert renewed.renewed == [(contract.public_id, date(2025, 12, 31), date(2026, 12, 31))]
    contract.refresh_from_db()
    assert contract.end_date == date(2026, 12, 31)
    assert fixed_item(contract).unit_price == Decimal("20.59")
    record = RenewalRecord.objects.get(contract=contract, kind="renewed")
    assert record.price_changes[0]["from"] == "19.9900" and \
        record.price_changes[0]["to"] == "20.59"
    # idempotent: the same day again changes nothing
    again = process_renewals(p.company_a, date(2025, 12, 31))
    assert again.renewed == [] and RenewalRecord.objects.filter(kind="renewed").count() == 1
    assert fixed_item(contract).unit_price == Decimal("20.59")
    assert "contract.renewed" in [e.type for e in captured]
    # the next term bills the uplifted price
    from nestogy.billing.recurring import run_recurring

    run_recurring(p.company_a, date(2026, 1, 1))
    jan = Invoice.objects.get(contract=contract, period_start=date(2026, 1, 1))
    assert jan.total == Decimal("205.90")  # 10 seats × 20.59


def test_dry_run_and_catch_up_of_several_terms(in_a):
    p = in_a
    contract = make_contract(p.company_a, p.client_a, start="2023-01-01", end="2023-06-30",
                             price="100", metered=False, auto_renew=True,
                             renewal_term_months=6, renewal_uplift_percent="10")
    dry = process_renewals(p.company_a, date(2024, 7, 15), dry_run=True)
    assert [r[2] for r in dry.renewed] == [date(2023, 12, 31), date(2024, 6, 30),
                                           date(2024, 12, 31)]
    contract.refresh_from_db()
    assert contract.end_date == date(2023, 6, 30) and not RenewalRecord.objects.exists()
    process_renewals(p.company_a, date(2024, 7, 15))
    contract.refresh_from_db()
    assert contract.end_date == date(2024, 12, 31)
    assert fixed_item(contract).unit_price == Decimal("133.10")  # 100 × 1.1³


def test_non_renewing_contract_ends(in_a):
    p = in_a
    contract = make_contract(p.company_a, p.client_a, start="2025-01-01", end="2025-03-31",
                             metered=False)
    assert process_renewals(p.company_a, date(2025, 3, 31)).ended == []
    assert process_renewals(p.company_a, date(2025, 4, 1)).ended == [contract.public_id]
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ENDED


def test_forecast_is_frequency_aware_applies_renewals_ends_and_usage_trend(in_a):
    p = in_a
    make_contract(p.company_a, p.client_a, start="2025-01-01", cycle="quarterly", seats="1",
                  price="300", metered=False)
    make_contract(p.company_a, p.client_a, start="2025-01-01", seats="1", price="100",
                  metered=False, end="2025-04-30", auto_renew=True, renewal_term_months=12,
                  renewal_uplift_percent="10")
    make_contract(p.company_a, p.client_a2, start="2025-01-01", seats="2", price="50",
                  metered=False, end="2025-03-15")
    usage = make_contract(p.company_a, p.client_a2, start="2024-10-01", seats="0",
                          price="0")
    # billed usage grows: Oct 200 GB, Nov 300 GB, Dec 400 GB (tiered) -> linear trend
    add_usage(usage, [("2024-10-10 10:00", "200"), ("2024-11-10 10:00", "300"),
                      ("2024-12-10 10:00", "400")])
    from nestogy.billing.recurring import run_recurring

    run_recurring(p.company_a, date(2025, 1, 1))
    result = forecast(p.company_a, date(2025, 1, 20), 6)
    months = {m["month"]: m for m in result["months"]}
    assert [m["month"] for m in result["months"]] == ["2025-01", "2025-02", "2025-03",
                                                      "2025-04", "2025-05", "2025-06"]
    assert months["2025-01"]["recurring"] == Decimal("500.00")  # 300 + 100 + 100
    assert months["2025-02"]["recurring"] == Decimal("200.00")
    assert months["2025-03"]["recurring"] == Decimal("148.39")  # 100 + 100 × 15/31
    assert months["2025-04"]["recurring"] == Decimal("400.00")  # quarterly lands here
    assert months["2025-05"]["recurring"] == Decimal("110.00")  # renewed with uplift
    # usage amounts billed: 200 GB -> 10+5+5 = 20, 300 -> 25, 400 -> 30: +5 per month
    assert months["2025-02"]["usage"] == Decimal("35.00")
    assert months["2025-03"]["usage"] == Decimal("40.00")
    assert months["2025-02"]["total"] == Decimal("235.00")
    # MRR today: 300/3 + 100 + 2 × 50 = 300
    assert result["mrr"] == Decimal("300.00") and result["arr"] == Decimal("3600.00")


def test_commands_generate_and_renew(personas):
    with scope(company=personas.company_a.pk):
        make_contract(personas.company_a, personas.client_a, start="2025-01-01",
                      end="2025-02-28", auto_renew=True, metered=False)
    out = StringIO()
    call_command("generate_recurring_invoices", "--date", "2025-02-01", "--preview", "--json",
                 stdout=out)
    preview = json.loads(out.getvalue())
    assert preview["invoices"] == 2 and preview["preview"] is True
    with scopes_disabled():
        assert Invoice.objects.count() == 0
    out = StringIO()
    call_command("generate_recurring_invoices", "--date", "2025-02-01", stdout=out)
    assert "created 2 invoice(s)" in out.getvalue()
    out = StringIO()
    call_command("process_contract_renewals", "--date", "2025-02-28", "--dry-run", "--json",
                 stdout=out)
    report = json.loads(out.getvalue())
    alpha = next(c for c in report["companies"] if c["company"] == personas.company_a.slug)
    assert alpha["renewed"][0]["new_end_date"] == "2026-02-28"
    with scopes_disabled():
        assert Contract.objects.get().end_date == date(2025, 2, 28)
    call_command("process_contract_renewals", "--date", "2025-02-28", stdout=StringIO())
    with scopes_disabled():
        assert Contract.objects.get().end_date == date(2026, 2, 28)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("generate_recurring_invoices", "--date", "tomorrow")


def test_daily_tasks_are_scheduled():
    from nestogy.ops.schedule import ENTRIES

    names = {e.task.name if hasattr(e.task, "name") else str(e.task): e.cron for e in ENTRIES}
    crons = sorted(names.values())
    assert "30 0 * * *" in crons and "15 0 * * *" in crons and "45 0 * * *" in crons


def test_forecast_range_is_the_trends_prediction_interval(in_a):
    """Usage billed 20, 30, 25 (Oct, Nov, Dec): the line 22.5 + 2.5x leaves residuals
    -2.5, 5, -2.5, so s² = 37.5 / (3 - 2). February's projection (x = 3) is 30 with variance
    37.5 × (1 + 1/3 + (3 - 1)²/2) = 125: 30 ± 1.645 × √125 = 30 ± 18.39. January is already
    invoiced: certain."""
    p = in_a
    usage = make_contract(p.company_a, p.client_a2, start="2024-10-01", seats="0", price="0")
    add_usage(usage, [("2024-10-10 10:00", "200"), ("2024-11-10 10:00", "400"),
                      ("2024-12-10 10:00", "300")])
    from nestogy.billing.recurring import run_recurring

    run_recurring(p.company_a, date(2025, 1, 1))
    months = {m["month"]: m for m in forecast(p.company_a, date(2025, 1, 20), 3)["months"]}
    january, february, march = months["2025-01"], months["2025-02"], months["2025-03"]
    assert january["usage"] == january["low"] == january["high"] == Decimal("25.00")
    assert february["usage"] == Decimal("30.00")
    assert (february["low"], february["high"]) == (Decimal("11.61"), Decimal("48.39"))
    # March (x = 4): 32.5, variance 37.5 × (1 + 1/3 + 9/2) = 218.75: ± 24.33
    assert march["usage"] == Decimal("32.50")
    assert (march["low"], march["high"]) == (Decimal("8.17"), Decimal("56.83"))


def test_forecast_range_without_enough_history_spans_zero_to_twice(in_a):
    p = in_a
    usage = make_contract(p.company_a, p.client_a2, start="2024-11-01", seats="1",
                          price="100")
    add_usage(usage, [("2024-11-10 10:00", "200"), ("2024-12-10 10:00", "300")])
    from nestogy.billing.recurring import run_recurring

    run_recurring(p.company_a, date(2025, 1, 1))
    february = forecast(p.company_a, date(2025, 1, 20), 2)["months"][1]
    # two billed periods (20, 25): projection 30 with no measurable spread
    assert february["usage"] == Decimal("30.00") and february["recurring"] == Decimal("100.00")
    assert (february["low"], february["high"]) == (Decimal("100.00"), Decimal("160.00"))
