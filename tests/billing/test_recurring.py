"""The recurring run: periods, advance/arrears, proration, catch-up, idempotency, crashes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from nestogy.billing import recurring
from nestogy.billing.models import Invoice, InvoiceLine
from nestogy.clients.actions import create_client
from nestogy.contracts.actions import set_item_quantity
from tests.billing.helpers import add_usage, fixed_item, make_contract


def run(company, as_of, **kw):
    return recurring.run_recurring(company, date.fromisoformat(as_of), **kw)


def test_first_run_bills_fixed_in_advance_and_prorates_partial_first_period(in_a):
    p = in_a
    contract = make_contract(p.company_a, p.client_a, start="2022-03-15", anchor=1,
                             seats="1", price="1.00", metered=False)
    result = run(p.company_a, "2022-03-15")
    assert len(result.invoices) == 1
    invoice = Invoice.objects.get(contract=contract)
    assert (invoice.period_start, invoice.period_end) == (date(2022, 3, 15), date(2022, 4, 1))
    assert invoice.total == Decimal("0.55")  # public vector: 17/31 of 1.00
    assert invoice.status == "issued" and invoice.number == "INV-00001"
    assert invoice.issue_date == date(2022, 3, 15)
    assert invoice.due_date == date(2022, 4, 14)  # 30 days payment terms
    line = invoice.lines.get()
    assert "prorated 17/31 days" in line.description


def test_metered_usage_in_arrears_on_the_next_invoice(in_a):
    p = in_a
    contract = make_contract(p.company_a, p.client_a, start="2025-01-01", seats="10",
                             price="25.00", tax="10")
    add_usage(contract, [("2025-01-03 10:00", "60"), ("2025-01-31 23:59", "90.5"),
                         ("2025-02-01 00:00", "1000")], tz=p.company_a.timezone)
    run(p.company_a, "2025-02-01")
    jan, feb = Invoice.objects.filter(contract=contract).order_by("period_start")
    # January: fixed in advance; usage of no previous period
    assert [ln.kind for ln in jan.lines.all()] == ["fixed"]
    assert jan.subtotal == Decimal("250.00") and jan.tax == Decimal("25.00")
    # February: fixed for February + January's usage (150.5 GB graduated) in arrears
    usage = feb.lines.get(kind="usage")
    assert usage.quantity == Decimal("150.5")
    # 100 × 0.10 + 5 flat + 50.5 × 0.05 = 17.525 -> 17.53 (half-up, once at line level)
    assert usage.amount == Decimal("17.53")
    assert (usage.service_start, usage.service_end) == (date(2025, 1, 1), date(2025, 2, 1))
    assert feb.subtotal == Decimal("267.53")
    assert feb.tax == Decimal("26.75")  # 10% of 267.53 = 26.753 -> one rounding
    assert feb.total == Decimal("294.28")


def test_usage_boundaries_are_local_midnight_of_the_company(in_a):
    p = in_a  # company A is America/New_York
    contract = make_contract(p.company_a, p.client_a, start="2025-01-01")
    # 23:30 New York on Jan 31 is Feb 1 in UTC: still January's usage
    add_usage(contract, [("2025-01-31 23:30", "10")], tz="America/New_York")
    run(p.company_a, "2025-02-01")
    feb = Invoice.objects.get(contract=contract, period_start=date(2025, 2, 1))
    assert feb.lines.get(kind="usage").quantity == Decimal("10")


def test_zero_usage_still_charges_first_graduated_flat_fee(in_a):
    p = in_a
    contract = make_contract(p.company_a, p.client_a, start="2025-01-01")
    run(p.company_a, "2025-02-01")
    feb = Invoice.objects.get(contract=contract, period_start=date(2025, 2, 1))
    assert feb.lines.get(kind="usage").amount == Decimal("5.00")


def test_catch_up_bills_every_missed_period_once_and_rerun_creates_nothing(in_a):
    p = in_a
    contract = make_contract(p.company_a, p.client_a, start="2025-01-31", anchor=31,
                             metered=False)
    first = run(p.company_a, "2025-05-30")
    starts = sorted(i.period_start for i in Invoice.objects.filter(contract=contract))
    assert starts == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31),
                      date(2025, 4, 30)]
    assert len(first.invoices) == 4
    again = run(p.company_a, "2025-05-30")
    assert again.invoices == [] and Invoice.objects.filter(contract=contract).count() == 4
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == ["INV-00001", "INV-00002", "INV-00003", "INV-00004"]


def test_preview_computes_the_same_invoices_and_writes_nothing(in_a):
    p = in_a
    make_contract(p.company_a, p.client_a, start="2025-01-01")
    add_usage(make_contract(p.company_a, p.client_a2, start="2025-01-10"),
              [("2025-01-20 10:00", "250")])
    preview = run(p.company_a, "2025-03-01", preview=True)
    assert Invoice.objects.count() == 0 and InvoiceLine.objects.count() == 0
    real = run(p.company_a, "2025-03-01")
    assert [(i.contract.pk, i.period_start, i.total) for i in preview.invoices] == \
        [(i.contract.pk, i.period_start, i.total) for i in real.invoices]


def test_contract_ending_mid_period_prorates_and_closes_with_last_usage(in_a):
    p = in_a
    contract = make_contract(p.company_a, p.client_a, start="2025-01-01", end="2025-03-10",
                             seats="1", price="31.00")
    add_usage(contract, [("2025-03-05 12:00", "20")])
    run(p.company_a, "2025-06-01")
    invoices = list(Invoice.objects.filter(contract=contract).order_by("period_start"))
    assert [(i.period_start, i.period_end) for i in invoices] == [
        (date(2025, 1, 1), date(2025, 2, 1)), (date(2025, 2, 1), date(2025, 3, 1)),
        (date(2025, 3, 1), date(2025, 3, 11)), (date(2025, 3, 11), date(2025, 3, 11))]
    assert invoices[2].lines.get(kind="fixed").amount == Decimal("10.00")  # 10/31 of 31
    closing = invoices[3]
    assert [ln.kind for ln in closing.lines.all()] == ["usage"]
    assert closing.lines.get().quantity == Decimal("20")
    assert run(p.company_a, "2025-07-01").invoices == []


def test_seat_changes_bill_per_period(in_a):
    p = in_a
    contract = make_contract(p.company_a, p.client_a, start="2025-01-01", seats="10",
                             price="20", metered=False)
    set_item_quantity(fixed_item(contract), "14", "2025-02-01")
    set_item_quantity(fixed_item(contract), "12", "2025-03-15")  # mid-period: from April
    run(p.company_a, "2025-04-01")
    totals = list(Invoice.objects.filter(contract=contract).order_by("period_start")
                  .values_list("total", flat=True))
    assert totals == [Decimal("200.00"), Decimal("280.00"), Decimal("280.00"),
                      Decimal("240.00")]


def test_quarterly_and_annual_contracts(in_a):
    p = in_a
    quarterly = make_contract(p.company_a, p.client_a, start="2025-03-16", cycle="quarterly",
                              anchor=1, seats="1", price="920", metered=False)
    annual = make_contract(p.company_a, p.client_a2, start="2024-07-01", cycle="annual",
                           seats="1", price="1200", metered=False, end="2025-03-31")
    run(p.company_a, "2025-12-31")
    q = list(Invoice.objects.filter(contract=quarterly).order_by("period_start")
             .values_list("period_start", "total"))
    assert q == [(date(2025, 3, 16), Decimal("770.00")), (date(2025, 6, 1), Decimal("920.00")),
                 (date(2025, 9, 1), Decimal("920.00")), (date(2025, 12, 1), Decimal("920.00"))]
    a = Invoice.objects.get(contract=annual)
    assert (a.period_start, a.period_end, a.total) == (date(2024, 7, 1), date(2025, 4, 1),
                                                       Decimal("900.82"))


def test_company_setting_leaves_drafts_for_review(in_a):
    p = in_a
    p.company_a.set_setting("billing.issue_recurring_immediately", False)
    p.company_a.save()
    make_contract(p.company_a, p.client_a, start="2025-01-01")
    run(p.company_a, "2025-02-01")
    assert set(Invoice.objects.values_list("status", "number")) == {("draft", None)}


def test_crash_mid_run_leaves_no_half_invoice_and_next_run_finishes(in_a, monkeypatch):
    p = in_a
    for i in range(5):
        client = create_client(p.company_a, {"name": f"Crash client {i}"})
        make_contract(p.company_a, client, start="2025-01-01")

    real_log = recurring.log_actions_bulk
    calls = {"n": 0}

    def crash(entries):
        # the second batch fails after its invoices and lines were inserted
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real_log(entries)

    monkeypatch.setattr(recurring, "log_actions_bulk", crash)
    with pytest.raises(RuntimeError):
        recurring.run_recurring(p.company_a, date(2025, 1, 1), batch_size=2)
    # the first batch (2 contracts) committed whole; the crashed batch left nothing
    assert Invoice.objects.count() == 2
    for invoice in Invoice.objects.all():
        assert invoice.lines.count() == 1 and invoice.total == Decimal("250.00")
    monkeypatch.setattr(recurring, "log_actions_bulk", real_log)
    result = recurring.run_recurring(p.company_a, date(2025, 1, 1), batch_size=2)
    assert len(result.invoices) == 3 and Invoice.objects.count() == 5
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        f"INV-0000{i}" for i in range(1, 6)]  # no number lost to the crash


def test_duplicate_period_is_refused_by_the_database(in_a):
    from django.db import IntegrityError, transaction

    p = in_a
    contract = make_contract(p.company_a, p.client_a, start="2025-01-01", metered=False)
    run(p.company_a, "2025-01-01")
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(company=p.company_a, client=p.client_a, contract=contract,
                               currency="USD", period_start=date(2025, 1, 1))


def _queries_for(company, as_of, n_contracts, start_index, client_factory):
    for i in range(n_contracts):
        client = client_factory(start_index + i)
        contract = make_contract(company, client, start="2025-01-01")
        add_usage(contract, [("2025-01-05 10:00", "42")], prefix=f"q{start_index}")
    from django.core.cache import cache

    cache.clear()  # notification preferences are cached per company: start both runs cold
    with CaptureQueriesContext(connection) as ctx:
        result = recurring.run_recurring(company, date.fromisoformat(as_of), batch_size=100)
    return len(ctx.captured_queries), len(result.invoices)


def test_query_count_grows_with_batches_not_contracts(personas, django_assert_max_num_queries):
    from django_scopes import scope

    from nestogy.tenancy.models import Company

    def factory(company):
        return lambda i: create_client(company, {"name": f"Load {i}"})

    with scope(company=personas.company_a.pk):
        small, n_small = _queries_for(personas.company_a, "2025-02-01", 3, 0,
                                      factory(personas.company_a))
    with scope(company=personas.company_b.pk):
        company_b = Company.objects.get(pk=personas.company_b.pk)
        big, n_big = _queries_for(company_b, "2025-02-01", 40, 100, factory(company_b))
    assert (n_small, n_big) == (6, 80)  # January + February per contract
    assert big == small, (small, big)
    # The run's own statements plus the notification fan-out of its one summary event.
    assert big <= 32


def test_renewal_after_mid_period_end_bills_the_rest_of_the_period_once(in_a):
    from nestogy.contracts.renewals import process_renewals

    p = in_a
    contract = make_contract(p.company_a, p.client_a, start="2025-01-01", end="2025-03-10",
                             seats="1", price="31.00", auto_renew=True,
                             renewal_term_months=1)
    add_usage(contract, [("2025-03-05 12:00", "10"), ("2025-03-20 12:00", "30")])
    run(p.company_a, "2025-03-05")
    process_renewals(p.company_a, date(2025, 3, 10))
    contract.refresh_from_db()
    assert contract.end_date == date(2025, 4, 10)
    run(p.company_a, "2025-04-01")
    rows = [(i.period_start, i.period_end, i.lines.get(kind="fixed").amount,
             i.lines.filter(kind="usage").first())
            for i in Invoice.objects.filter(contract=contract).order_by("period_start")]
    assert [(a, b, amount) for a, b, amount, _ in rows] == [
        (date(2025, 1, 1), date(2025, 2, 1), Decimal("31.00")),
        (date(2025, 2, 1), date(2025, 3, 1), Decimal("31.00")),
        (date(2025, 3, 1), date(2025, 3, 11), Decimal("10.00")),
        (date(2025, 3, 11), date(2025, 4, 1), Decimal("21.00")),
        (date(2025, 4, 1), date(2025, 4, 11), Decimal("10.33"))]
    usage = [(u.service_start, u.service_end, u.quantity) for *_, u in rows[2:]]
    assert usage == [(date(2025, 2, 1), date(2025, 3, 1), Decimal("0")),
                     (date(2025, 3, 1), date(2025, 3, 11), Decimal("10")),
                     (date(2025, 3, 11), date(2025, 4, 1), Decimal("30"))]
