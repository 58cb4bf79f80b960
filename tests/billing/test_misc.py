"""Smaller guarantees: frozen billing shape, admin read-only invoices, event templates,
weekly and zero-decimal currencies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.template.loader import render_to_string
from django.test import Client as HttpClient
from django_scopes import scope, scopes_disabled

from nestogy.billing.actions import create_invoice, issue_invoice
from nestogy.billing.models import Invoice
from nestogy.billing.recurring import run_recurring
from nestogy.contracts.renewals import process_renewals
from nestogy.core import events
from tests.billing.helpers import make_contract
from tests.conftest import PASSWORD


def test_billing_shape_is_frozen_once_invoiced(personas):
    with scope(company=personas.company_a.pk):
        contract = make_contract(personas.company_a, personas.client_a, start="2025-01-01",
                                 metered=False)
        run_recurring(personas.company_a, date(2025, 1, 1))
    api = personas.owner_a.api
    refused = api.patch(f"/contracts/{contract.public_id}", {"billing_anchor_day": 15})
    assert refused.status_code == 409
    allowed = api.patch(f"/contracts/{contract.public_id}", {"end_date": "2025-12-31"})
    assert allowed.status_code == 200 and allowed.data["end_date"] == "2025-12-31"


def test_admin_shows_issued_invoices_read_only(personas):
    with scope(company=personas.company_a.pk):
        draft = create_invoice(personas.company_a, personas.client_a,
                               {"items": [{"description": "A", "unit_price": "5"}]})
        issued = create_invoice(personas.company_a, personas.client_a,
                                {"items": [{"description": "B", "unit_price": "5"}]})
        issue_invoice(issued)
    from tests.support.admin_forms import operator

    http = operator()  # the admin is the operators'; clerks use the workspace's invoices
    assert http.get("/admin/billing/invoice/").status_code == 200
    page = http.get(f"/admin/billing/invoice/{issued.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    editable = http.get(f"/admin/billing/invoice/{draft.pk}/change/")
    assert b'name="_save"' in editable.content
    clerk = HttpClient()
    assert clerk.login(username="billing@alpha.test", password=PASSWORD)
    assert clerk.get("/admin/billing/invoice/").status_code == 302


def test_renewal_events_reach_billing_staff_and_render(personas):
    seen: list[events.Event] = []
    events.subscribe(seen.append)
    try:
        with scope(company=personas.company_a.pk):
            make_contract(personas.company_a, personas.client_a, start="2025-01-01",
                          end="2025-06-30", auto_renew=True, renewal_uplift_percent="5",
                          renewal_notice_days=10, metered=False)
            process_renewals(personas.company_a, date(2025, 6, 25))
            process_renewals(personas.company_a, date(2025, 6, 30))
    finally:
        events._subscribers.remove(seen.append)
    assert [e.type for e in seen] == ["contract.renewal_upcoming", "contract.renewed"]
    for event in seen:
        spec = events.REGISTRY[event.type]
        recipients = spec.recipients(event)
        assert {r.email for r in recipients} == {"owner@alpha.test", "billing@alpha.test"}
        context = spec.context(event)
        title = render_to_string(f"notifications/{event.type}/title.txt", context)
        body = render_to_string(f"notifications/{event.type}/body.txt", context)
        assert "MSA Acme Dental" in title and "Acme Dental" in body
    assert "5%" in render_to_string("notifications/contract.renewed/body.txt",
                                    events.REGISTRY["contract.renewed"].context(seen[1]))


def test_weekly_contract_in_a_zero_decimal_currency(in_a):
    p = in_a
    contract = make_contract(p.company_a, p.client_a, start="2022-06-22", cycle="weekly",
                             anchor=1, seats="1", price="1000", metered=False,
                             currency="JPY")
    run_recurring(p.company_a, date(2022, 7, 4))
    rows = list(Invoice.objects.filter(contract=contract).order_by("period_start")
                .values_list("period_start", "period_end", "total"))
    assert rows == [(date(2022, 6, 22), date(2022, 6, 27), Decimal("714")),  # 5/7 of 1000
                    (date(2022, 6, 27), date(2022, 7, 4), Decimal("1000")),
                    (date(2022, 7, 4), date(2022, 7, 11), Decimal("1000"))]


def test_daily_tasks_run_per_company_on_local_dates(personas):
    import time_machine

    from nestogy.api import tasks as api_tasks
    from nestogy.billing import tasks
    from nestogy.contracts import tasks as contract_tasks

    company = personas.company_a.pk
    with scope(company=company):
        make_contract(personas.company_a, personas.client_a, start="2025-01-01",
                      end="2025-01-31", metered=False, payment_terms_days=0)
    # 2025-02-01 03:00 UTC is still Jan 31 in New York (company A)
    with time_machine.travel("2025-02-01 03:00:00+00:00", tick=False):
        created = tasks.generate_recurring_invoices.call(company)
        renewals = contract_tasks.process_contract_renewals.call(company)
    assert created == 1
    assert renewals["ended"] == 0  # not past its end date locally
    with time_machine.travel("2025-02-02 12:00:00+00:00", tick=False):
        marked = tasks.mark_overdue_invoices.call(company)
        renewals = contract_tasks.process_contract_renewals.call(company)
    assert marked == 1
    assert renewals["ended"] == 1
    with time_machine.travel("2025-02-05 12:00:00+00:00", tick=False):
        assert api_tasks.prune_idempotency_records.call() == 0


def test_daily_jobs_hand_out_one_task_per_active_company(personas):
    from django_tasks_db.models import DBTaskResult

    from nestogy.billing import tasks
    from nestogy.contracts import tasks as contract_tasks
    from nestogy.tenancy.models import Company

    active = sorted(Company.objects.filter(is_active=True).values_list("pk", flat=True))
    assert len(active) >= 2
    Company.objects.filter(pk=personas.company_b.pk).update(is_active=False)
    DBTaskResult.objects.all().delete()
    assert tasks.generate_recurring_invoices_daily.call() == {"companies": len(active) - 1}
    assert contract_tasks.process_contract_renewals_daily.call() == {
        "companies": len(active) - 1}
    queued = DBTaskResult.objects.order_by("id")
    paths = [row.task_path for row in queued]
    assert paths.count("nestogy.billing.tasks.generate_recurring_invoices") == len(active) - 1
    companies = {row.args_kwargs["args"][0] for row in queued}
    assert personas.company_b.pk not in companies
    assert personas.company_a.pk in companies
    # nothing ran yet: the scheduler's job only hands work out
    with scopes_disabled():
        assert not Invoice.objects.exists()
