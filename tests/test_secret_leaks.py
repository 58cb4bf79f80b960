"""No secret value appears in any log record, audit entry, API response, admin page, delivery
log or command output while the flows that use secrets run: setting them, a Stripe payment
with the company's key against the local stand-in, a Stripe webhook signed with the company's
secret, SMS and Slack deliveries through URLs carrying tokens (one failing first), a signed
outgoing webhook, and key rotation."""

from __future__ import annotations

import json
import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from nestogy.audit.models import AuditEntry
from nestogy.notifications.models import Delivery, DeliveryAttempt, StoredEvent, WebhookEndpoint
from nestogy.notifications.sending import send_due
from tests.conftest import PASSWORD
from tests.notifications.conftest import emit, event_types, receiver  # noqa: F401 (fixtures)
from tests.payments.stripe_standin import StripeStandIn

STRIPE_KEY = "sk_live_51LeakCheckStripeKey0042"
STRIPE_WEBHOOK_SECRET = "whsec_LeakCheckStripeWebhook77"
SMS_TOKEN = "SmsGatewayToken77"
SLACK_TOKEN = "SlackCompanyToken88"
PERSONAL_TOKEN = "PersonalSlackToken99"
HOOK_SECRET = "whsec_OutgoingHookSecret55"
SECRET_VALUES = (STRIPE_KEY, STRIPE_WEBHOOK_SECRET, SMS_TOKEN, SLACK_TOKEN, PERSONAL_TOKEN,
                 HOOK_SECRET)


@pytest.fixture
def stripe_with_company_key(monkeypatch):
    """The stand-in accepts only the company's key; the gateway gets no key of its own, so
    the charge succeeds only if the company's decrypted secret reaches Stripe."""
    from nestogy.payments import gateways

    monkeypatch.delenv("NESTOGY_STRIPE_API_KEY", raising=False)
    monkeypatch.delenv("NESTOGY_STRIPE_WEBHOOK_SECRET", raising=False)
    server = StripeStandIn(api_key=STRIPE_KEY, webhook_secret=STRIPE_WEBHOOK_SECRET).start()
    gateways.configure("stripe", api_base=server.url, timeout=2)
    yield server
    gateways.reset_configuration("stripe")
    server.stop()


def test_no_secret_in_logs_audit_responses_or_outputs(personas, event_types, receiver,  # noqa: F811
                                                      stripe_with_company_key, caplog):
    from nestogy.payments.methods import add_payment_method
    from tests.payments.conftest import issued_invoice

    caplog.set_level(1)  # everything, Apprise's TRACE (below DEBUG) included
    p = personas
    seen: list[str] = []  # every body a user or attacker could read

    def keep(response):
        seen.append(response.content.decode(errors="replace"))
        return response

    # 1. The owner sets every secret through the API, and reads the company back.
    sms_url = f"json://smsuser:{SMS_TOKEN}@127.0.0.1:{receiver.port}/sms/{{phone}}"
    slack_url = f"json://slackuser:{SLACK_TOKEN}@127.0.0.1:{receiver.port}/slack"
    changed = keep(p.owner_a.api.patch("/company/settings", {"settings": {
        "payments.stripe_api_key": STRIPE_KEY,
        "payments.stripe_webhook_secret": STRIPE_WEBHOOK_SECRET,
        "notifications.sms_url": sms_url, "notifications.slack_urls": [slack_url]}}))
    assert changed.status_code == 200, changed.data
    keep(p.owner_a.api.get("/company"))
    keep(p.tech_a.api.get("/company"))
    keep(p.owner_a.api.patch("/company/settings", {"settings": {
        "notifications.sms_url": ["not", SMS_TOKEN]}}))  # a bad value echoes nothing
    # A user may set only fixed-host services (slack://…); the response must not echo it.
    keep(p.tech2_a.api.put("/notification-preferences", {"addresses": {
        "slack": f"slack://T0PERSONAL/B0PERSONAL/{PERSONAL_TOKEN}/#me"}}))
    keep(p.tech2_a.api.get("/notification-preferences"))
    personal = f"json://me:{PERSONAL_TOKEN}@127.0.0.1:{receiver.port}/me"
    with scope(company=p.company_a.pk):
        from nestogy.notifications.models import ChannelAddress

        # A relay address on the local receiver (stored directly: users cannot choose a
        # host), so the personal delivery can be watched end to end.
        address = ChannelAddress.objects.get(user=p.tech2_a.user, channel="slack")
        address.address = personal
        address.save()
        WebhookEndpoint.objects.create(company=p.company_a, name="Bridge",
                                       url=receiver.url("/hook"), secret=HOOK_SECRET)
        ChannelAddress.objects.create(company=p.company_a, user=p.tech_a.user, channel="sms",
                                      address="+15550001111")

    # 2. SMS and Slack deliveries (the first post fails and is retried), and the webhook.
    event_types["technician"] = ("sms", "slack")
    event_types["contact"] = ("sms",)
    receiver.script = [500]
    emit(p.company_a, users=[p.tech_a.user, p.tech2_a.user],
         contacts=[{"email": "dana@acme.test", "name": "Dana", "phone": "+15550002222"}])
    first = send_due()
    assert first.get("queued") == 1, first  # one transient failure, retried later
    with scopes_disabled():  # the retry is due now
        Delivery.objects.filter(status="queued").update(next_attempt_at=timezone.now())
    assert send_due() == {"sent": 1}
    paths = sorted(r.path for r in receiver.requests)
    assert "/slack" in paths and "/me" in paths and "/hook" in paths
    assert "/sms/+15550001111" in paths and "/sms/+15550002222" in paths
    keep(p.owner_a.api.get("/notifications/deliveries"))

    # 3. A Stripe charge with the company's key, and a webhook signed with its secret.
    with scope(company=p.company_a.pk):
        p.client_a.company.refresh_from_db()  # the settings the owner just changed
        add_payment_method(p.client_a, {
            "payment_method_reference": stripe_with_company_key.add_card(),
            "auto_pay": False})
        invoice = issued_invoice(p.client_a, "42.00")
    paid = keep(p.billing_a.api.post(f"/invoices/{invoice.public_id}/retry-payment"))
    assert paid.status_code == 200, paid.data
    assert paid.data["attempt"]["status"] == "succeeded"
    event = stripe_with_company_key.make_event("payment_intent.succeeded", {
        "id": "pi_leak", "metadata": {"nestogy_company": p.company_a.public_id}})
    body, header = stripe_with_company_key.sign(event, secret=STRIPE_WEBHOOK_SECRET)
    hook = keep(HttpClient().post("/api/v1/webhooks/stripe", data=body,
                                  content_type="application/json",
                                  headers={"Stripe-Signature": header}))
    assert hook.status_code == 200, hook.content

    # 4. The admin pages that touch secrets.
    admin = HttpClient()
    assert admin.login(username="owner@alpha.test", password=PASSWORD)
    keep(admin.get(f"/admin/tenancy/company/{p.company_a.pk}/change/"))
    keep(admin.get("/admin/notifications/webhookendpoint/"))
    keep(admin.get("/admin/notifications/delivery/"))
    keep(admin.get("/admin/notifications/channeladdress/"))
    assert_nothing_leaked(caplog, seen)
    # 5. A key rotation (its progress and summary).
    out, err = StringIO(), StringIO()
    call_command("rotate_secrets", stdout=out, stderr=err)
    call_command("rotate_secrets", "--json", stdout=out, stderr=err)
    assert_nothing_leaked(caplog, [out.getvalue(), err.getvalue()])


def assert_nothing_leaked(caplog, seen: list[str]) -> None:
    """Everything an attacker could read or an operator could ship to a log service."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logs = [formatter.format(record) for record in caplog.records]
    assert logs, "the flows ran without a single log record: capture is not working"
    with scopes_disabled():
        audit = [json.dumps(e.data) + e.object_repr + e.actor_label
                 for e in AuditEntry.objects.all()]
        errors = [d.last_error for d in Delivery.objects.all()]
        errors += [a.error for a in DeliveryAttempt.objects.all()]
        assert any(errors), "the failing delivery recorded no error"
        contexts = [json.dumps(e.context, default=str) for e in StoredEvent.objects.all()]
    for label, texts in (("log record", logs), ("audit entry", audit),
                         ("response or output", seen), ("delivery error", errors),
                         ("stored event", contexts)):
        for text in texts:
            for secret in SECRET_VALUES:
                assert secret not in text, f"{secret!r} appears in a {label}: {text[:300]}"
