"""The billing run review (Django test client): the preview has the numbers of
``generate_recurring_invoices --preview``; the change against the previous period; starting
a run (all or selected, issued or drafts) through the billing worker; a run that fails
half-way finishes when started again without billing anything twice; every view for every
role, another company's runs and contracts, bad input."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.billing import recurring, runs
from nestogy.billing.models import BillingRun, Invoice
from nestogy.clients.actions import create_client
from nestogy.contracts.actions import set_item_quantity
from nestogy.core.money import format_money
from tests.billing.helpers import add_usage, fixed_item, make_contract
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
# Monday 15 March 2027 in New York: the run as of 1 April bills January to April.
NOW = datetime(2027, 3, 15, 15, 0, tzinfo=UTC)
RUN = "2027-04-01"


@pytest.fixture
def contracts(personas):
    p = personas
    with time_machine.travel(NOW, tick=False), scope(company=p.company_a.pk):
        acme = make_contract(p.company_a, p.client_a, start="2027-01-01", seats="10",
                             price="25.00", tax="8.25")
        add_usage(acme, [("2027-02-10 10:00", "150"), ("2027-03-03 09:00", "40")],
                  tz=p.company_a.timezone)
        blue = make_contract(p.company_a, p.client_a2, start="2027-02-15", anchor=1, seats="3",
                             price="99.00", metered=False)
    with scope(company=p.company_b.pk):
        theirs = make_contract(p.company_b, p.client_b, start="2027-01-01", metered=False)
    return acme, blue, theirs


def worker(*, real: bool = False) -> None:
    """Run what the billing queue holds. ``real``: through ``db_worker`` as ``nestogy
    worker`` does, which closes the database connection when it is done (for tests that run
    in transactions of their own, like the browser's); otherwise each ready task is run here
    and its row marked as the worker would."""
    if real:
        call_command("db_worker", "--batch", "--queue-name", "billing", "--interval", "0",
                     "--no-startup-delay", stdout=io.StringIO(), stderr=io.StringIO())
        return
    from django_tasks_db.models import DBTaskResult

    from nestogy.billing.tasks import execute_billing_run

    for row in DBTaskResult.objects.filter(queue_name="billing", status="READY",
                                           task_path__endswith="execute_billing_run"):
        status = "SUCCESSFUL"
        try:
            execute_billing_run.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
        except Exception:  # the run records its failure; the queue marks the task failed
            status = "FAILED"
        DBTaskResult.objects.filter(pk=row.pk).update(status=status)


def command_preview(company, day: str) -> list[dict]:
    out = io.StringIO()
    call_command("generate_recurring_invoices", "--preview", "--json", "--date", day,
                 "--company", company.slug, stdout=out)
    return json.loads(out.getvalue())["companies"][0]["invoices"]


def page_rows(body: str) -> list[tuple[str, str]]:
    rows = re.findall(r'data-run-invoice="([^"]+)".*?data-total><strong>([^<]+)</strong>',
                      body, re.S)
    return sorted(rows)


def invoices_of(company) -> list[Invoice]:
    with scopes_disabled():
        return list(Invoice.objects.filter(company=company).order_by("id"))


@time_machine.travel(NOW, tick=True)
def test_the_preview_shows_the_numbers_of_the_command(personas, contracts):
    p = personas
    _acme, _blue, _ = contracts
    expected = command_preview(p.company_a, RUN)
    assert len(expected) == 4 + 3  # Acme: January to April; Blue Ridge: 15 Feb to April
    body = signed_in("billing@alpha.test").get(f"/app/billing/run/?date={RUN}").content.decode()
    wanted = sorted((row["contract_id"], format_money(Decimal(row["total"]), "USD"))
                    for row in expected)
    assert page_rows(body) == wanted
    grand = sum(Decimal(row["total"]) for row in expected)
    assert f'data-run-total="USD"><strong>{format_money(grand, "USD")}</strong>' in body
    assert "7 invoices for 2 clients" in body
    assert "Acme Dental" in body and "Blue Ridge Accounting" in body
    assert "Bravo" not in body
    assert invoices_of(p.company_a) == [], "a preview writes nothing"


@time_machine.travel(NOW, tick=True)
def test_a_contract_drill_in_shows_each_period_line_by_line(personas, contracts):
    acme, blue, _ = contracts
    client = signed_in("billing@alpha.test")
    body = client.get(f"/app/billing/run/contracts/{blue.public_id}/?date={RUN}"
                      ).content.decode()
    # the first period is the partial one from 15 February, prorated by days
    assert "prorated 14/28 days" in body
    assert body.count("data-planned=") == 3
    body = client.get(f"/app/billing/run/contracts/{acme.public_id}/?date={RUN}"
                      ).content.decode()
    assert "Backup storage: 150 GB" in body  # February's usage, billed in arrears in March
    assert "graduated tiers" in body


@time_machine.travel(NOW, tick=True)
def test_the_preview_shows_the_change_against_the_previous_period(personas, contracts):
    p = personas
    acme, blue, _ = contracts
    with scope(company=p.company_a.pk):
        recurring.run_recurring(p.company_a, datetime(2027, 3, 1).date(), issue=True)
        set_item_quantity(fixed_item(blue), "5", "2027-04-01")
    body = signed_in("billing@alpha.test").get(f"/app/billing/run/?date={RUN}").content.decode()
    row = re.search(rf'data-run-invoice="{blue.public_id}".*?data-change>(.*?)</td>', body,
                    re.S).group(1)
    assert "+198.00" in row  # two more seats at 99.00
    row = re.search(rf'data-run-invoice="{acme.public_id}".*?data-change>(.*?)</td>', body,
                    re.S).group(1)
    assert "-" in row or "+" in row  # usage in arrears differs from March's


@time_machine.travel(NOW, tick=True)
def test_starting_the_run_bills_every_due_contract_through_the_worker(
        personas, contracts, django_capture_on_commit_callbacks):
    p = personas
    expected = command_preview(p.company_a, RUN)
    client = signed_in("billing@alpha.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/app/billing/run/start", {"date": RUN, "mode": "issue",
                                                          "scope": "all"})
    assert response.status_code == 302
    with scope(company=p.company_a.pk):
        run = BillingRun.objects.get()
    assert response.url == f"/app/billing/runs/{run.public_id}/"
    assert run.status == "queued"
    assert "Waiting for the billing worker" in client.get(response.url).content.decode()
    worker()
    made = invoices_of(p.company_a)
    assert len(made) == len(expected)
    assert all(inv.status == "issued" and inv.number for inv in made)
    assert sorted(str(inv.total) for inv in made) == sorted(
        str(Decimal(row["total"]).quantize(Decimal("0.0001"))) for row in expected)
    body = client.get(response.url).content.decode()
    assert "Finished: 7 invoices" in body
    assert "7 issued, 0 drafts" in body
    grand = sum(Decimal(row["total"]) for row in expected)
    assert format_money(grand, "USD") in body
    assert body.count("data-run-made=") == 7
    with scope(company=p.company_a.pk):
        actions = list(AuditEntry.objects.filter(object_id=run.public_id)
                       .values_list("action", flat=True).order_by("id"))
    assert actions == ["billing.run_started", "billing.run_finished"]
    # the preview of the same date now has nothing left to bill
    assert "Nothing is due" in client.get(f"/app/billing/run/?date={RUN}").content.decode()


@time_machine.travel(NOW, tick=True)
def test_a_selection_as_drafts_bills_only_the_selected_contracts(
        personas, contracts, django_capture_on_commit_callbacks):
    p = personas
    _acme, blue, _ = contracts
    client = signed_in("owner@alpha.test")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/app/billing/run/start", {"date": RUN, "mode": "draft",
                                               "scope": "selected",
                                               "contract": [blue.public_id]})
    worker()
    made = invoices_of(p.company_a)
    assert {inv.contract_id for inv in made} == {blue.pk}
    assert len(made) == 3 and all(inv.status == "draft" and not inv.number for inv in made)


@time_machine.travel(NOW, tick=True)
def test_a_run_that_fails_half_way_finishes_when_started_again(
        personas, contracts, monkeypatch, django_capture_on_commit_callbacks):
    p = personas
    _acme, _blue, _ = contracts
    expected = command_preview(p.company_a, RUN)
    monkeypatch.setattr(recurring, "BATCH_SIZE", 1)
    real = recurring.plan_batch
    calls = []

    def second_batch_breaks(company, chunk, *args, **kwargs):
        calls.append(chunk[0].pk)
        if len(calls) == 2:
            raise RuntimeError("database connection lost")
        return real(company, chunk, *args, **kwargs)

    monkeypatch.setattr(recurring, "plan_batch", second_batch_breaks)
    client = signed_in("billing@alpha.test")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/app/billing/run/start", {"date": RUN, "mode": "issue", "scope": "all"})
    worker()
    with scope(company=p.company_a.pk):
        run = BillingRun.objects.get()
    assert run.status == "failed" and "connection lost" in run.error
    first = invoices_of(p.company_a)
    assert len(first) == 4 and sorted(run.invoice_ids) == [inv.pk for inv in first]
    body = client.get(f"/app/billing/runs/{run.public_id}/").content.decode()
    assert "The run failed" in body and "Start the run again" in body
    monkeypatch.setattr(recurring, "plan_batch", real)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/app/billing/runs/{run.public_id}/restart")
    worker()
    run.refresh_from_db()
    made = invoices_of(p.company_a)
    assert run.status == "done"
    assert len(made) == len(expected) == len(run.invoice_ids) == len(set(run.invoice_ids))
    assert run.issued == 7
    assert run.totals == {"USD": str(sum(Decimal(r["total"]) for r in expected)
                                     .quantize(Decimal("0.01")))}


@pytest.mark.parametrize("role", ROLES)
@time_machine.travel(NOW, tick=True)
def test_every_billing_run_view_asks_the_role_matrix(personas, contracts, role):
    p = personas
    acme, blue, _ = contracts
    persona = getattr(p, role)
    with scope(company=p.company_a.pk):
        done = runs.start_run(p.company_a, datetime(2027, 2, 1).date(), issue=True,
                              contracts=[acme.public_id])
    cases = [
        ("get", f"/app/billing/run/?date={RUN}", {}, "invoices.view"),
        ("get", f"/app/billing/run/contracts/{acme.public_id}/", {"date": RUN},
         "invoices.view"),
        ("get", f"/app/billing/runs/{done.public_id}/", {}, "invoices.view"),
        ("post", "/app/billing/run/start", {"date": RUN, "mode": "draft", "scope": "selected",
                                            "contract": [blue.public_id]}, "invoices.manage"),
    ]
    client = signed_in(persona.email)
    check_role_matrix(client, persona.role, cases)
    with scope(company=p.company_a.pk):
        started = BillingRun.objects.count() - 1
    assert started == (1 if allowed(persona.role, "invoices.manage") else 0)
    nav = client.get("/app/").content.decode()
    assert ('href="/app/billing/run/"' in nav) == allowed(persona.role, "invoices.view")


@time_machine.travel(NOW, tick=True)
def test_another_companys_runs_and_contracts_are_not_found(personas, contracts):
    p = personas
    _acme, blue, theirs = contracts
    with scope(company=p.company_b.pk):
        their_run = runs.start_run(p.company_b, datetime(2027, 2, 1).date(), issue=True)
    client = signed_in("billing@alpha.test")
    assert client.get(f"/app/billing/runs/{their_run.public_id}/").status_code == 404
    assert client.post(f"/app/billing/runs/{their_run.public_id}/restart").status_code == 404
    assert client.get(f"/app/billing/run/contracts/{theirs.public_id}/").status_code == 404
    response = client.post("/app/billing/run/start", {
        "date": RUN, "mode": "issue", "scope": "selected",
        "contract": [blue.public_id, theirs.public_id]}, follow=True)
    assert f"Contracts: unknown contract {theirs.public_id}." in response.content.decode()
    with scope(company=p.company_a.pk):
        assert not BillingRun.objects.exists()
    # their preview does not show here either
    body = client.get(f"/app/billing/run/?date={RUN}").content.decode()
    assert theirs.public_id not in body


@pytest.mark.parametrize(("data", "message"), [
    ({"mode": "issue", "scope": "all"}, "Run date: Enter the run&#x27;s date."),
    ({"date": "2027-13-01", "mode": "issue", "scope": "all"}, "Run date: Enter a date as"),
    ({"date": "2028-06-01", "mode": "issue", "scope": "all"},
     "Run date: must be at most 366 days after today"),
    ({"date": RUN, "mode": "mail", "scope": "all"}, "Invoices: Select a valid choice."),
    ({"date": RUN, "mode": "issue", "scope": "selected"},
     "Contracts: select at least one contract."),
    ({"date": RUN, "mode": "issue", "scope": "everything"}, "Contracts: Select a valid choice"),
])
@time_machine.travel(NOW, tick=True)
def test_bad_input_to_start_names_the_field_and_writes_nothing(personas, contracts, data,
                                                               message):
    p = personas
    response = signed_in("billing@alpha.test").post("/app/billing/run/start", data,
                                                    follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    with scope(company=p.company_a.pk):
        assert not BillingRun.objects.exists()
    assert invoices_of(p.company_a) == []


@time_machine.travel(NOW, tick=True)
def test_a_bad_preview_date_is_explained_in_place(personas, contracts):
    client = signed_in("billing@alpha.test")
    body = client.get("/app/billing/run/?date=yesterday").content.decode()
    assert "Run date: Enter a date as YYYY-MM-DD." in body
    assert "data-run-preview" not in body
    body = client.get("/app/billing/run/?date=2030-01-01").content.decode()
    assert "must be at most 366 days after today" in body
    body = client.get("/app/billing/run/contracts/ctr_nope/").status_code
    assert body == 404


@time_machine.travel(NOW, tick=True)
def test_the_preview_page_asks_a_bounded_number_of_queries(personas, contracts):
    p = personas
    client = signed_in("billing@alpha.test")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/app/billing/run/?date={RUN}").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    with scope(company=p.company_a.pk):
        for i in range(12):
            extra = create_client(p.company_a, {"name": f"Client {i:02d}"})
            make_contract(p.company_a, extra, start="2027-01-01", seats="2", price="10")
    assert count() == few


@time_machine.travel(NOW, tick=True)
def test_a_mangled_date_comes_back_as_typed_without_breaking_the_page(personas, contracts):
    client = signed_in("billing@alpha.test")
    response = client.post("/app/billing/run/start", {"date": "2027-04-01\r\nX-Evil: 1",
                                                      "mode": "issue", "scope": "all"})
    assert response.status_code == 302 and "\n" not in response.url
    body = client.get(response.url).content.decode()
    assert "Run date: Enter a date as YYYY-MM-DD." in body
    with scope(company=personas.company_a.pk):
        assert not BillingRun.objects.exists()
