"""Auto-pay, declines retried on the schedule, timeouts reconciled, exhaustion, the job."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.template.loader import render_to_string

from nestogy.billing.models import Invoice
from nestogy.core.events import REGISTRY
from nestogy.payments import auto_pay, charging, dunning, recording
from nestogy.payments.gateways import get_gateway
from nestogy.payments.models import CollectionsFlag, Payment, PaymentAttempt
from tests.payments.conftest import card_on_file, issued_invoice

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def attempts(invoice):
    return list(PaymentAttempt.objects.filter(invoice=invoice).order_by("attempt_number"))


def test_declined_card_retried_on_default_schedule_succeeds_third_time_paid_once(
        in_a, stripe_configured, clock, events):
    standin = stripe_configured
    invoice = issued_invoice(in_a.client_a, "250.00")
    card_on_file(in_a.client_a, standin)
    standin.decline_next(2, decline_code="insufficient_funds")

    first = auto_pay.charge_invoice(invoice)
    assert first is not None and first.trigger == "auto_pay"
    first = charging.run_attempt(first.pk)
    assert first.status == "declined" and first.error_code == "insufficient_funds"
    assert first.next_retry_at == T0 + DAY

    # Not due a minute early.
    clock.move_to(T0 + DAY - timedelta(minutes=1))
    assert dunning.process_failed_payments().charged == 0

    clock.move_to(T0 + DAY)
    report = dunning.process_failed_payments()
    assert (report.charged, report.declined) == (1, 1)
    second = attempts(invoice)[1]
    assert second.next_retry_at == T0 + DAY + 2 * DAY

    clock.move_to(T0 + 3 * DAY - timedelta(seconds=1))
    assert dunning.process_failed_payments().charged == 0
    clock.move_to(T0 + 3 * DAY)
    report = dunning.process_failed_payments()
    assert (report.charged, report.succeeded) == (1, 1)

    rows = attempts(invoice)
    assert [(a.attempt_number, a.status) for a in rows] == [
        (1, "declined"), (2, "declined"), (3, "succeeded")]
    assert [a.idempotency_key for a in rows] == [
        f"inv_{invoice.public_id}_attempt_{n}" for n in (1, 2, 3)]
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert (invoice.amount_paid, invoice.balance) == (Decimal("250"), Decimal("0"))
    [charge] = standin.succeeded_charges()
    assert charge.amount == 25000 and charge.idempotency_key == rows[2].idempotency_key
    assert Payment.objects.filter(client=in_a.client_a).count() == 1
    # Nothing left to do, ever.
    clock.move_to(T0 + 30 * DAY)
    assert dunning.process_failed_payments().charged == 0
    assert len(standin.succeeded_charges()) == 1
    types = [e.type for e in events if e.type.startswith("payment.")]
    assert types == ["payment.failed", "payment.failed", "payment.succeeded"]


def test_timeout_after_charge_reconciled_by_the_same_key_without_second_charge(
        in_a, stripe_configured, clock):
    standin = stripe_configured
    invoice = issued_invoice(in_a.client_a, "80.00")
    card_on_file(in_a.client_a, standin)
    standin.hang_next(2.0)  # the stand-in charges, then answers after the 1 s client timeout

    attempt = charging.start_charge(invoice, trigger="auto_pay", auto_pay_only=True)
    attempt = charging.run_attempt(attempt.pk)
    assert attempt.status == "unknown"
    assert attempt.next_retry_at == T0 + charging.RECONCILE_DELAY
    assert len(standin.succeeded_charges()) == 1  # the gateway did take the money
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED  # but we do not know yet

    # "Retry now" refuses while the outcome is unknown: it would need a new key.
    from nestogy.core.errors import Conflict

    with pytest.raises(Conflict):
        charging.start_charge(invoice)

    clock.move_to(T0 + charging.RECONCILE_DELAY)
    report = dunning.process_failed_payments()
    assert (report.charged, report.succeeded) == (1, 1)
    attempt.refresh_from_db()
    assert (attempt.status, attempt.sends, attempt.attempt_number) == ("succeeded", 2, 1)
    keys = [key for method, path, _, key in standin.requests if path == "/v1/payment_intents"]
    assert keys == [attempt.idempotency_key] * 2, "reconciled with the same key"
    assert len(standin.succeeded_charges()) == 1, "never a second charge"
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == (Invoice.Status.PAID, Decimal("0"))
    assert Payment.objects.get().gateway_reference == standin.succeeded_charges()[0].payment_intent


def test_five_failures_exhaust_flag_collections_and_notify(in_a, stripe_configured, clock,
                                                           events):
    standin = stripe_configured
    invoice = issued_invoice(in_a.client_a, "60.00")
    card_on_file(in_a.client_a, standin)
    standin.decline_next(5, decline_code="card_declined")
    charging.run_attempt(auto_pay.charge_invoice(invoice).pk)
    elapsed = timedelta(0)
    for delay in (1, 2, 4, 8):
        elapsed += delay * DAY
        clock.move_to(T0 + elapsed)
        assert dunning.process_failed_payments().charged == 1
    rows = attempts(invoice)
    assert [a.status for a in rows] == ["declined"] * 5
    assert rows[-1].next_retry_at is None
    flag = CollectionsFlag.objects.get(invoice=invoice)
    assert flag.failures == 5 and "declined" in flag.last_error.lower()
    exhausted = [e for e in events if e.type == "payment.retries_exhausted"]
    assert len(exhausted) == 1
    assert exhausted[0].data["invoice_id"] == invoice.pk
    # The people who hear of it: the company's owner and billing staff.
    recipients = REGISTRY["payment.retries_exhausted"].recipients(exhausted[0])
    assert {r.email for r in recipients} == {"owner@alpha.test", "billing@alpha.test"}
    context = REGISTRY["payment.retries_exhausted"].context(exhausted[0])
    title = render_to_string("notifications/payment.retries_exhausted/title.txt", context)
    assert title.strip() == f"Invoice {invoice.number} sent to collections after 5 failed payments"
    # Nothing more is tried; the stand-in saw five declines and no charge.
    clock.move_to(T0 + 90 * DAY)
    assert dunning.process_failed_payments().charged == 0
    assert standin.succeeded_charges() == [] and len(standin.ledger) == 5
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("60")
    # The API shows it.
    data = in_a.billing_a.api.get(f"/invoices/{invoice.public_id}/payment-attempts").data
    assert data["in_collections"] is True and len(data["items"]) == 5


def test_company_policy_overrides_and_jitter(in_a, stripe_configured, clock):
    company = in_a.company_a
    company.set_setting("payments.retry_base_hours", 6)
    company.set_setting("payments.max_retries", 1)
    company.save()
    invoice = issued_invoice(in_a.client_a, "10.00")
    card_on_file(in_a.client_a, stripe_configured)
    stripe_configured.decline_next(2)
    attempt = charging.run_attempt(auto_pay.charge_invoice(invoice).pk)
    assert attempt.next_retry_at == T0 + timedelta(hours=6)
    clock.move_to(T0 + timedelta(hours=6))
    dunning.process_failed_payments()
    assert attempts(invoice)[-1].next_retry_at is None
    assert CollectionsFlag.objects.filter(invoice=invoice).exists()


def test_paid_meanwhile_ends_the_chain(in_a, stripe_configured, clock):
    invoice = issued_invoice(in_a.client_a, "40.00")
    card_on_file(in_a.client_a, stripe_configured)
    stripe_configured.decline_next(1)
    charging.run_attempt(auto_pay.charge_invoice(invoice).pk)
    recording.record_invoice_payment(invoice, {"amount": "40.00", "method": "bank_transfer"})
    clock.move_to(T0 + DAY)
    report = dunning.process_failed_payments()
    assert (report.charged, report.cancelled) == (0, 1)
    assert len(attempts(invoice)) == 1 and stripe_configured.succeeded_charges() == []


def test_dry_run_lists_and_changes_nothing(in_a, stripe_configured, clock, capsys):
    invoice = issued_invoice(in_a.client_a, "40.00")
    card_on_file(in_a.client_a, stripe_configured)
    stripe_configured.decline_next(1)
    charging.run_attempt(auto_pay.charge_invoice(invoice).pk)
    clock.move_to(T0 + DAY)
    call_command("process_failed_payments", "--dry-run", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["dry_run"] is True and out["charged"] == 0
    assert out["due"] == [{"company_id": in_a.company_a.pk, "invoice": invoice.number,
                           "attempt": 1, "amount": "40.0000", "action": "retry",
                           "due_at": (T0 + DAY).isoformat()}]
    assert len(attempts(invoice)) == 1 and len(stripe_configured.requests) == 4
    call_command("process_failed_payments")
    assert "1 succeeded" in capsys.readouterr().out
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_auto_pay_backlog_charges_invoices_never_attempted(in_a, stripe_configured, clock):
    card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "33.00")
    other = issued_invoice(in_a.client_a2, "12.00")  # no card: untouched
    report = dunning.process_failed_payments()
    assert (report.auto_pay_started, report.succeeded) == (1, 1)
    invoice.refresh_from_db()
    other.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and other.status == Invoice.Status.ISSUED
    assert dunning.process_failed_payments().auto_pay_started == 0


def test_charge_invoice_enqueues_the_charge_after_commit(in_a, stripe_configured,
                                                         immediate_tasks,
                                                         django_capture_on_commit_callbacks):
    card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "15.00")
    with django_capture_on_commit_callbacks(execute=True):
        attempt = auto_pay.charge_invoice(invoice)
        assert stripe_configured.succeeded_charges() == []  # nothing before commit
    attempt.refresh_from_db()
    assert attempt.status == "succeeded"
    assert auto_pay.charge_invoice(invoice) is None  # paid: nothing more


def test_charge_invoice_without_auto_pay_does_nothing(in_a, stripe_configured):
    card_on_file(in_a.client_a, stripe_configured, auto_pay=False)
    invoice = issued_invoice(in_a.client_a, "15.00")
    assert auto_pay.charge_invoice(invoice) is None
    assert not PaymentAttempt.objects.exists()


def test_permanent_gateway_error_is_not_retried(in_a, stripe_configured, events):
    method = card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "15.00")
    method.payment_method_reference = "pm_gone"
    method.save()
    attempt = charging.run_attempt(auto_pay.charge_invoice(invoice).pk)
    assert attempt.status == "error" and attempt.next_retry_at is None
    assert "No such PaymentMethod" in attempt.error_message
    assert [e.type for e in events if e.type.startswith("payment.")] == ["payment.failed"]


def test_server_error_is_reconciled_like_a_timeout(in_a, stripe_configured, clock):
    card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "15.00")
    stripe_configured.fail_next(1, status=502)
    attempt = charging.run_attempt(auto_pay.charge_invoice(invoice).pk)
    assert attempt.status == "unknown"
    clock.move_to(T0 + charging.RECONCILE_DELAY)
    dunning.process_failed_payments()
    attempt.refresh_from_db()
    assert attempt.status == "succeeded" and len(stripe_configured.succeeded_charges()) == 1


def test_unanswered_past_the_idempotency_window_goes_to_a_person(in_a, stripe_configured,
                                                                  clock):
    card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "15.00")
    stripe_configured.fail_next(1)
    attempt = charging.run_attempt(auto_pay.charge_invoice(invoice).pk)
    clock.move_to(T0 + charging.RECONCILE_WINDOW + timedelta(minutes=1))
    dunning.process_failed_payments()
    attempt.refresh_from_db()
    assert attempt.status == "error" and attempt.error_code == "reconcile_expired"
    assert stripe_configured.succeeded_charges() == []


def test_retry_payment_endpoint_charges_now(in_a, stripe_configured):
    card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "99.99")
    stripe_configured.decline_next(1)
    api = in_a.billing_a.api
    url = f"/invoices/{invoice.public_id}/retry-payment"
    declined = api.post(url)
    assert declined.status_code == 200
    assert declined.data["attempt"]["status"] == "declined"
    assert declined.data["invoice"]["status"] == "issued"
    ok = api.post(url, headers={"Idempotency-Key": "retry-1"})
    assert ok.status_code == 200 and ok.data["attempt"]["status"] == "succeeded"
    assert ok.data["attempt"]["attempt_number"] == 2
    assert ok.data["invoice"]["status"] == "paid" and ok.data["invoice"]["balance"] == "0.00"
    # Same Idempotency-Key: the stored answer, no new attempt.
    again = api.post(url, headers={"Idempotency-Key": "retry-1"})
    assert again.data == ok.data
    assert PaymentAttempt.objects.filter(invoice=invoice).count() == 2
    assert len(stripe_configured.succeeded_charges()) == 1
    # A paid invoice cannot be retried.
    assert api.post(url).status_code == 409


def test_retry_payment_without_card_is_a_conflict_and_writes_nothing(in_a, stripe_configured):
    invoice = issued_invoice(in_a.client_a, "10.00")
    response = in_a.billing_a.api.post(f"/invoices/{invoice.public_id}/retry-payment")
    assert response.status_code == 409
    assert "no payment method" in response.data["error"]["message"]
    assert not PaymentAttempt.objects.exists()


def test_hourly_task_is_scheduled():
    from nestogy.ops.schedule import ENTRIES
    from nestogy.payments.tasks import process_failed_payments_task

    [entry] = [e for e in ENTRIES if e.task is process_failed_payments_task]
    assert entry.cron == "7 * * * *"


def test_stripe_config_from_environment(monkeypatch, in_a):
    monkeypatch.setenv("NESTOGY_STRIPE_API_KEY", "sk_env")
    assert get_gateway("stripe", company=in_a.company_a).api_key == "sk_env"


@pytest.mark.parametrize("due", [2, 6])
def test_job_query_budget_is_constant_per_attempt(in_a, stripe_configured, due,
                                                  django_assert_max_num_queries):
    """Each retry is one network call, so the job is per-row; but its queries per attempt
    are bounded (no N+1 over attempts, allocations or companies)."""
    card_on_file(in_a.client_a, stripe_configured)
    stripe_configured.decline_next(due)
    for _ in range(due):
        invoice = issued_invoice(in_a.client_a, "10.00")
        charging.run_attempt(charging.start_charge(invoice).pk)
    PaymentAttempt.objects.update(next_retry_at=T0 - timedelta(minutes=1))
    # Per attempt: the claim, the charge's bookkeeping and one notification fan-out
    # (payment.succeeded: stored event, recipients, deliveries).
    with django_assert_max_num_queries(8 + 40 * due):
        report = dunning.process_failed_payments(now=T0)
    assert report.succeeded == due


def test_hourly_task_hands_out_one_dunning_task_per_company(in_a, stripe_configured, clock):
    from django_tasks_db.models import DBTaskResult

    from nestogy.payments.tasks import (
        process_failed_payments_for_company,
        process_failed_payments_task,
    )
    from nestogy.tenancy.models import Company

    card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "21.00")
    stripe_configured.decline_next(1)
    charging.run_attempt(auto_pay.charge_invoice(invoice).pk)
    clock.move_to(T0 + DAY)
    DBTaskResult.objects.all().delete()
    active = set(Company.objects.filter(is_active=True).values_list("pk", flat=True))
    summary = process_failed_payments_task.call()
    assert summary == {"companies": len(active), "webhooks_reprocessed": 0}
    queued = DBTaskResult.objects.filter(
        task_path="nestogy.payments.tasks.process_failed_payments_for_company")
    assert {row.args_kwargs["args"][0] for row in queued} == active
    # handing out charges nothing: the retry is still due
    invoice.refresh_from_db()
    assert invoice.status != Invoice.Status.PAID
    assert not any(a.attempt_number == 2 for a in attempts(invoice))
    # the company's task runs the job for that company only
    other = process_failed_payments_for_company.call(in_a.company_b.pk)
    assert other["charged"] == 0
    counts = process_failed_payments_for_company.call(in_a.company_a.pk)
    assert counts["succeeded"] == 1 and "due" not in counts
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    [attempt] = [a for a in attempts(invoice) if a.attempt_number == 2]
    assert attempt.claimed_by.startswith("task:")
