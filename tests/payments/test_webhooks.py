"""POST /webhooks/stripe: verified, stored once, processed in a task, replays change nothing."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from django.test import Client as HttpClient

from nestogy.billing.models import Invoice
from nestogy.payments import auto_pay, charging, dunning, refunds
from nestogy.payments.models import Payment, PaymentAttempt, Refund, WebhookEvent
from tests.payments.conftest import card_on_file, issued_invoice
from tests.payments.stripe_standin import visit

URL = "/api/v1/webhooks/stripe"
# Every verification failure gets this one answer (the reason is only logged).
REFUSED = {"error": {"code": "invalid_signature",
                     "message": "the webhook signature could not be verified",
                     "field": None, "errors": []}}


def post(body: bytes, header: str | None):
    headers = {"Stripe-Signature": header} if header is not None else {}
    # Stripe sends no CSRF token: the endpoint must work with CSRF checks enforced.
    response = HttpClient(enforce_csrf_checks=True).post(
        URL, data=body, content_type="application/json", headers=headers)
    response.data = response.json()
    return response


def snapshot():
    from django_scopes import scopes_disabled

    with scopes_disabled():
        return (WebhookEvent.objects.count(), Payment.objects.count(),
                list(Invoice.objects.order_by("id").values_list("status", "amount_paid")))


@pytest.fixture
def paid_by_card(in_a, stripe_configured):
    """An invoice paid by an auto-pay charge; returns (invoice, payment intent)."""
    card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "120.00")
    attempt = charging.run_attempt(auto_pay.charge_invoice(invoice).pk)
    assert attempt.status == "succeeded"
    return invoice, stripe_configured.intents[attempt.gateway_reference]


def test_forged_signature_is_400_and_changes_nothing(in_a, stripe_configured, paid_by_card):
    standin = stripe_configured
    before = snapshot()
    event = standin.make_event("charge.refunded", {
        "id": "ch_x", "object": "charge", "payment_intent": paid_by_card[1]["id"],
        "amount_refunded": 12000, "metadata": {}})
    body, header = standin.sign(event, secret="whsec_forger")
    response = post(body, header)
    assert response.status_code == 400
    assert response.data == REFUSED
    assert snapshot() == before


def test_stale_timestamp_is_400_and_changes_nothing(in_a, stripe_configured, paid_by_card):
    standin = stripe_configured
    before = snapshot()
    event = standin.make_event("charge.refunded", {
        "id": "ch_x", "object": "charge", "payment_intent": paid_by_card[1]["id"],
        "amount_refunded": 12000})
    body, header = standin.sign(event, timestamp=int(time.time()) - 301)
    response = post(body, header)
    assert response.status_code == 400
    assert response.data == REFUSED
    assert snapshot() == before


@pytest.mark.parametrize("header", [None, "nonsense", "t=1,v0=abc"])
def test_malformed_header_is_400(stripe_configured, db, header):
    event = stripe_configured.make_event("payment_intent.succeeded", {"id": "pi_1"})
    response = post(json.dumps(event).encode(), header)
    assert response.status_code == 400
    assert response.data == REFUSED
    assert WebhookEvent.objects.count() == 0


def test_refusal_does_not_tell_whether_a_company_has_its_own_secret(personas,
                                                                      stripe_configured):
    """Attack: send forged events naming one company after another and compare the 400s.
    They used to say "no webhook secret is configured" for a company without its own secret
    and "no signature matches" for one with it."""
    from django_scopes import scope

    from nestogy.payments import gateways

    gateways.configure("stripe", **{**stripe_configured.client_options(), "webhook_secret": ""})
    with scope(company=personas.company_a.pk):
        personas.company_a.set_setting("payments.stripe_webhook_secret", "whsec_alpha")
        personas.company_a.save()
    answers = []
    for company in (personas.company_a, personas.company_b):
        event = stripe_configured.make_event("payment_intent.succeeded", {
            "id": "pi_probe", "metadata": {"nestogy_company": company.public_id}})
        body, header = stripe_configured.sign(event, secret="whsec_guess")
        response = post(body, header)
        answers.append((response.status_code, response.data))
    assert answers == [(400, REFUSED), (400, REFUSED)]
    assert WebhookEvent.objects.count() == 0


def test_refund_event_processed_once_and_duplicate_id_changes_nothing(
        in_a, stripe_configured, paid_by_card, immediate_tasks,
        django_capture_on_commit_callbacks):
    invoice, intent = paid_by_card
    standin = stripe_configured
    event = standin.make_event("charge.refunded", {
        "id": intent["latest_charge"], "object": "charge", "payment_intent": intent["id"],
        "amount": 12000, "amount_refunded": 2000, "metadata": intent["metadata"]})
    body, header = standin.sign(event)
    with django_capture_on_commit_callbacks(execute=True):
        first = post(body, header)
    assert first.status_code == 200
    assert first.data == {"received": True, "duplicate": False, "event_id": event["id"]}
    stored = WebhookEvent.objects.get()
    assert (stored.status, stored.company_id) == ("processed", in_a.company_a.pk)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == (Invoice.Status.PARTIALLY_PAID, Decimal("20"))
    after_first = snapshot()

    # Stripe retries the same event (same id, new signature time): stored once, no change.
    body2, header2 = standin.sign(event, timestamp=int(time.time()) + 1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = post(body2, header2)
    assert second.status_code == 200 and second.data["duplicate"] is True
    assert callbacks == [], "a duplicate enqueues nothing"
    assert snapshot() == after_first
    assert Refund.objects.count() == 1
    # Processing the stored event again (a re-run task) changes nothing either.
    from nestogy.payments.webhooks import process_event

    assert process_event(stored.pk) == "processed"
    assert snapshot() == after_first and Refund.objects.count() == 1


def test_a_new_event_with_the_same_refund_total_changes_nothing(in_a, stripe_configured,
                                                               paid_by_card):
    """Idempotent processing, not only dedup by id: a full refund done from Nestogy, then
    Stripe's charge.refunded (new event id) for the same total, refunds nothing more."""
    from nestogy.payments.webhook_intake import receive
    from nestogy.payments.webhooks import process_event

    invoice, intent = paid_by_card
    payment = Payment.objects.get()
    refunds.refund_payment(payment, {"amount": "120.00", "reason": "cancelled"})
    assert stripe_configured.ledger[-1].amount_refunded == 12000
    event = stripe_configured.make_event("charge.refunded", {
        "id": intent["latest_charge"], "object": "charge", "payment_intent": intent["id"],
        "amount": 12000, "amount_refunded": 12000, "metadata": intent["metadata"]})
    body, header = stripe_configured.sign(event)
    stored, created = receive("stripe", body, {"Stripe-Signature": header})
    assert created
    assert process_event(stored.pk) == "processed"
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("120"))
    assert Refund.objects.count() == 1
    assert (invoice.status, invoice.balance) == (Invoice.Status.ISSUED, Decimal("120"))


def test_payment_succeeded_webhook_settles_an_unanswered_attempt(in_a, stripe_configured,
                                                                 events):
    from nestogy.payments.webhook_intake import receive
    from nestogy.payments.webhooks import process_event

    card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "45.00")
    stripe_configured.hang_next(2.0)
    attempt = charging.run_attempt(auto_pay.charge_invoice(invoice).pk)
    assert attempt.status == "unknown"
    charge = stripe_configured.succeeded_charges()[0]
    intent = stripe_configured.intents[charge.payment_intent]
    body, header = stripe_configured.sign(
        stripe_configured.make_event("payment_intent.succeeded", dict(intent)))
    stored, _ = receive("stripe", body, {"Stripe-Signature": header})
    assert process_event(stored.pk) == "processed"
    attempt.refresh_from_db()
    assert attempt.status == "succeeded" and attempt.next_retry_at is None
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    # Then the job has nothing to reconcile.
    assert dunning.process_failed_payments(
        now=attempt.updated_at + charging.RECONCILE_DELAY * 2).charged == 0
    assert len(stripe_configured.succeeded_charges()) == 1
    assert [e.type for e in events if e.type == "payment.succeeded"] == ["payment.succeeded"]


def test_payment_failed_webhook_for_unanswered_attempt_schedules_retry(in_a, stripe_configured):
    from nestogy.payments.webhook_intake import receive
    from nestogy.payments.webhooks import process_event

    card_on_file(in_a.client_a, stripe_configured)
    invoice = issued_invoice(in_a.client_a, "45.00")
    stripe_configured.fail_next(1)
    attempt = charging.run_attempt(auto_pay.charge_invoice(invoice).pk)
    assert attempt.status == "unknown"
    obj = {"id": "pi_failed", "object": "payment_intent", "status": "requires_payment_method",
           "metadata": {"nestogy_company": in_a.company_a.public_id,
                        "nestogy_attempt": attempt.public_id},
           "last_payment_error": {"code": "card_declined", "decline_code": "expired_card",
                                  "message": "Your card has expired."}}
    body, header = stripe_configured.sign(
        stripe_configured.make_event("payment_intent.payment_failed", obj))
    stored, _ = receive("stripe", body, {"Stripe-Signature": header})
    assert process_event(stored.pk) == "processed"
    attempt.refresh_from_db()
    assert (attempt.status, attempt.error_code) == ("declined", "expired_card")
    assert attempt.next_retry_at is not None


def test_dispute_marks_the_payment_and_notifies(in_a, stripe_configured, paid_by_card, events):
    from nestogy.payments.webhook_intake import receive
    from nestogy.payments.webhooks import process_event

    _, intent = paid_by_card
    dispute = {"id": "dp_1", "object": "dispute", "amount": 12000, "currency": "usd",
               "charge": intent["latest_charge"], "payment_intent": intent["id"],
               "reason": "fraudulent", "status": "needs_response"}
    body, header = stripe_configured.sign(
        stripe_configured.make_event("charge.dispute.created", dispute))
    stored, _ = receive("stripe", body, {"Stripe-Signature": header})
    assert process_event(stored.pk) == "processed"
    assert WebhookEvent.objects.get().company_id == in_a.company_a.pk  # found via the payment
    assert Payment.objects.get().status == "disputed"
    [disputed] = [e for e in events if e.type == "payment.disputed"]
    assert disputed.data["reason"] == "fraudulent"


def test_unknown_types_and_objects_are_stored_and_ignored(in_a, stripe_configured):
    from nestogy.payments.webhook_intake import receive
    from nestogy.payments.webhooks import process_event

    for type_, obj in (("customer.created", {"id": "cus_1"}),
                       ("payment_intent.succeeded", {"id": "pi_nobody", "amount": 100,
                                                     "currency": "usd", "metadata": {}})):
        body, header = stripe_configured.sign(stripe_configured.make_event(type_, obj))
        stored, _ = receive("stripe", body, {"Stripe-Signature": header})
        assert process_event(stored.pk) == "ignored"
    assert Payment.objects.count() == 0


def test_checkout_redirect_pays_the_invoice_through_the_webhook(
        in_a, stripe_configured, immediate_tasks, django_capture_on_commit_callbacks):
    invoice = issued_invoice(in_a.client_a, "75.50")
    url = charging.start_checkout(invoice, success_url="http://portal.test/paid",
                                 cancel_url="http://portal.test/invoice")
    assert url.startswith(stripe_configured.url)
    assert visit(url)["redirect"] == "http://portal.test/paid"
    with django_capture_on_commit_callbacks(execute=True):
        responses = [post(body, header) for body, header in stripe_configured.webhooks]
    assert [r.status_code for r in responses] == [200, 200]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == (Invoice.Status.PAID, Decimal("75.5"))
    payment = Payment.objects.get()
    assert (payment.method, payment.gateway) == ("card", "stripe")
    statuses = sorted(WebhookEvent.objects.values_list("type", "status"))
    assert statuses == [("checkout.session.completed", "ignored"),
                        ("payment_intent.succeeded", "processed")]


def test_company_webhook_secret_is_accepted(in_a, stripe_configured):
    from nestogy.payments import gateways
    from nestogy.payments.webhook_intake import receive

    gateways.configure("stripe", **{**stripe_configured.client_options(),
                                    "webhook_secret": ""})
    company = in_a.company_a
    company.set_setting("payments.stripe_webhook_secret", "whsec_alpha")
    company.save()
    event = stripe_configured.make_event("payment_intent.succeeded", {
        "id": "pi_1", "metadata": {"nestogy_company": company.public_id}})
    body, header = stripe_configured.sign(event, secret="whsec_alpha")
    _, created = receive("stripe", body, {"Stripe-Signature": header})
    assert created
    # Another company's secret does not pass for it.
    body, header = stripe_configured.sign(
        stripe_configured.make_event("payment_intent.succeeded", {
            "id": "pi_2", "metadata": {"nestogy_company": company.public_id}}),
        secret="whsec_bravo")
    from nestogy.payments.signature import VerificationFailed

    with pytest.raises(VerificationFailed) as refused:
        receive("stripe", body, {"Stripe-Signature": header})
    assert refused.value.code == "invalid_signature"


def test_webhook_answers_quickly_without_processing_inline(in_a, stripe_configured,
                                                           paid_by_card):
    """Without the after-commit task running, the request stores the event and returns."""
    _, intent = paid_by_card
    event = stripe_configured.make_event("charge.refunded", {
        "id": "ch", "object": "charge", "payment_intent": intent["id"],
        "amount_refunded": 12000})
    body, header = stripe_configured.sign(event)
    started = time.monotonic()
    response = post(body, header)
    assert response.status_code == 200 and time.monotonic() - started < 1
    assert WebhookEvent.objects.get().status == "received"
    assert PaymentAttempt.objects.get().status == "succeeded"
    assert Refund.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_checkout_over_real_http_with_webhook_to_a_live_server(personas, stripe_configured,
                                                               immediate_tasks, live_server):
    """The whole loop over sockets: the stand-in's checkout page pays and POSTs the signed
    webhooks to Nestogy's live server, whose task records the payment."""
    from django_scopes import scope

    stripe_configured.webhook_url = f"{live_server.url}{URL}"
    with scope(company=personas.company_a.pk):
        invoice = issued_invoice(personas.client_a, "64.00")
        url = charging.start_checkout(invoice, success_url="http://portal.test/ok",
                                     cancel_url="http://portal.test/no")
    visit(url)
    with scope(company=personas.company_a.pk):
        invoice.refresh_from_db()
        assert (invoice.status, invoice.balance) == (Invoice.Status.PAID, Decimal("0"))
        assert Payment.objects.get().amount == Decimal("64")
    assert WebhookEvent.objects.filter(status="processed").count() == 1


def test_stale_and_failed_events_are_reprocessed_by_the_hourly_task(in_a, stripe_configured,
                                                                    paid_by_card):
    from datetime import timedelta

    from django.utils import timezone

    from nestogy.payments.tasks import process_failed_payments_task
    from nestogy.payments.webhook_intake import receive

    _, intent = paid_by_card
    event = stripe_configured.make_event("charge.refunded", {
        "id": intent["latest_charge"], "object": "charge", "payment_intent": intent["id"],
        "amount_refunded": 5000, "metadata": intent["metadata"]})
    body, header = stripe_configured.sign(event)
    stored, _ = receive("stripe", body, {"Stripe-Signature": header})  # task never ran
    fresh = process_failed_payments_task.call()
    assert fresh["webhooks_reprocessed"] == 0  # not stale yet
    WebhookEvent.objects.filter(pk=stored.pk).update(
        received_at=timezone.now() - timedelta(minutes=16))
    assert process_failed_payments_task.call()["webhooks_reprocessed"] == 1
    stored.refresh_from_db()
    assert stored.status == "processed"
    assert Payment.objects.get().amount_refunded == Decimal("50")
    assert process_failed_payments_task.call()["webhooks_reprocessed"] == 0
