"""Sending: real SMTP (aiosmtpd), real HTTP receivers for Slack-format and webhook JSON,
retries with backoff, permanent failures, rendering and template overrides, attachments."""

from __future__ import annotations

import email
import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from nestogy.core import attachments
from nestogy.notifications.models import (
    ChannelAddress,
    Delivery,
    DeliveryAttempt,
    Notification,
    TemplateOverride,
    WebhookEndpoint,
)
from nestogy.notifications.sending import backoff, claim, send_due
from nestogy.notifications.transports.webhook import verify
from tests.notifications.conftest import emit

SLACK_SHAPE = "?:message=text&:title=&:version=&:type=&:attachments="


def deliveries(company, **filters):
    with scopes_disabled():
        return list(Delivery.objects.filter(company=company, **filters).order_by("id"))


def attempts_of(delivery):
    with scopes_disabled():
        return list(DeliveryAttempt.objects.filter(delivery=delivery)
                    .values_list("number", "outcome"))


def only_email(event_types):
    for role in ("technician", "owner", "billing", "manager", "admin"):
        event_types[role] = ("email",)


def test_real_email_over_smtp_with_text_html_and_attachment(personas, event_types,
                                                            smtp_server):
    p = personas
    only_email(event_types)
    attachments.register("test_pdf", lambda number: attachments.Attachment(
        f"{number}.pdf", b"%PDF-1.4 test " + number.encode(), "application/pdf"))
    with scope(company=p.company_a.pk):
        p.company_a.set_setting("branding.support_email", "help@alpha.test")
        p.company_a.save()
    emit(p.company_a, users=[p.tech_a.user], attachments=[{"builder": "test_pdf",
                                                           "number": "INV-7"}])
    assert send_due() == {"sent": 1}
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["tech1@alpha.test"]
    message = email.message_from_bytes(received.content)
    assert message["Subject"] == "Ticket T-1001: Printer on fire"
    assert message["Reply-To"] == "help@alpha.test"
    assert message["From"] == "Alpha IT <nestogy@localhost>"
    assert message["X-Nestogy-Event"] == "test.ping"
    parts = {part.get_content_type(): part for part in message.walk()}
    text = parts["text/plain"].get_payload(decode=True).decode()
    html = parts["text/html"].get_payload(decode=True).decode()
    assert 'Ticket T-1001 "Printer on fire" was opened for Acme Dental.' in text
    assert "Hello Tech1," in text
    assert "<b>T-1001</b>" in html
    pdf = parts["application/pdf"]
    assert pdf.get_filename() == "INV-7.pdf"
    assert pdf.get_payload(decode=True) == b"%PDF-1.4 test INV-7"
    [d] = deliveries(p.company_a)
    assert (d.status, d.attempts, d.last_error) == ("sent", 1, "")
    assert attempts_of(d) == [(1, "sent")]


def test_html_part_is_the_escaped_text_when_no_html_template(personas, event_types,
                                                             mailoutbox):
    p = personas
    only_email(event_types)
    emit(p.company_a, "test.plain", users=[p.tech_a.user], number="INV-9",
         amount="54.84")
    send_due()
    [message] = mailoutbox
    assert message.subject == "Invoice INV-9 & co"  # text parts are not HTML-escaped
    assert message.body == "Amount due: 54.84 <USD>\nThanks, Alpha IT"
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "54.84 &lt;USD&gt;<br>Thanks, Alpha IT" in html


def test_smtp_refusal_is_permanent(personas, event_types, smtp_server):
    p = personas
    only_email(event_types)
    smtp_server.refuse["tech1@alpha.test"] = "550 5.1.1 no such mailbox"
    emit(p.company_a, users=[p.tech_a.user, p.tech2_a.user])
    assert send_due() == {"failed": 1, "sent": 1}
    failed, sent = deliveries(p.company_a, status="failed")[0], deliveries(p.company_a,
                                                                            status="sent")[0]
    assert failed.target == "tech1@alpha.test" and "550" in failed.last_error
    assert failed.attempts == 1 and failed.next_attempt_at is None
    assert sent.target == "tech2@alpha.test"
    assert [m.rcpt_tos for m in smtp_server.messages] == [["tech2@alpha.test"]]


def test_smtp_deferral_is_transient_and_retried(personas, event_types, smtp_server):
    p = personas
    only_email(event_types)
    smtp_server.refuse["tech1@alpha.test"] = "450 4.2.1 mailbox busy, try later"
    emit(p.company_a, users=[p.tech_a.user])
    start = timezone.now()
    assert send_due() == {"queued": 1}
    [d] = deliveries(p.company_a)
    assert "recipient deferred" in d.last_error and "450" in d.last_error
    del smtp_server.refuse["tech1@alpha.test"]
    with time_machine.travel(start + timedelta(seconds=61)):
        assert send_due() == {"sent": 1}
    assert [m.rcpt_tos for m in smtp_server.messages] == [["tech1@alpha.test"]]


def test_mail_server_down_is_transient(personas, event_types, settings):
    from tests.notifications.conftest import free_port

    p = personas
    only_email(event_types)
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": free_port(),
                                                "timeout": 2}}}
    emit(p.company_a, users=[p.tech_a.user])
    before = timezone.now()
    assert send_due() == {"queued": 1}
    [d] = deliveries(p.company_a)
    assert d.attempts == 1 and "connect" in d.last_error
    assert d.next_attempt_at >= before + timedelta(seconds=60)


def test_slack_format_json_through_apprise_to_a_local_receiver(personas, event_types,
                                                               receiver):
    p = personas
    event_types["technician"] = ("slack",)
    with scope(company=p.company_a.pk):
        p.company_a.set_setting("notifications.slack_urls",
                                [f"json://127.0.0.1:{receiver.port}/slack{SLACK_SHAPE}"])
        p.company_a.save()
    emit(p.company_a, users=[p.tech_a.user, p.tech2_a.user])
    assert send_due() == {"sent": 1}  # one post to the company channel, not one per user
    [request] = receiver.requests
    assert request.path == "/slack"
    assert request.json == {"text": "*Ticket T-1001: Printer on fire*\nHello company Slack,\n\n"
                                    'Ticket T-1001 "Printer on fire" was opened for Acme Dental.'
                                    "\nPriority: high"}


def test_sms_uses_the_channel_template_and_the_users_number(personas, event_types, receiver):
    p = personas
    event_types["technician"] = ("sms",)
    with scope(company=p.company_a.pk):
        p.company_a.set_setting("notifications.sms_url",
                                f"json://127.0.0.1:{receiver.port}/sms/{{phone}}")
        p.company_a.save()
        ChannelAddress.objects.create(company=p.company_a, user=p.tech_a.user, channel="sms",
                                      address="+15550001111")
    emit(p.company_a, users=[p.tech_a.user])
    assert send_due() == {"sent": 1}
    [request] = receiver.requests
    assert request.path == "/sms/+15550001111"
    assert request.json["message"] == "NEW T-1001 Printer on fire (high)"


def test_signed_webhook_json(personas, event_types, receiver):
    p = personas
    with scope(company=p.company_a.pk):
        hook = WebhookEndpoint.objects.create(company=p.company_a, name="Bridge",
                                              url=receiver.url("/in"), secret="whsec_abc")
    emit(p.company_a)  # no user recipients: only the webhook
    assert send_due() == {"sent": 1}
    [request] = receiver.requests
    [d] = deliveries(p.company_a)
    assert request.json["event"] == "test.ping"
    assert request.json["id"] == d.public_id == request.headers["X-Nestogy-Delivery"]
    assert request.json["company_id"] == p.company_a.public_id
    assert request.json["data"]["subject"] == "Printer on fire"
    assert "user_ids" not in request.json["data"]
    signature = request.headers["X-Nestogy-Signature"]
    assert signature.startswith("t=") and ",v1=" in signature
    assert verify(hook.secret, signature, request.raw)
    assert not verify("wrong", signature, request.raw)
    assert not verify(hook.secret, signature, request.raw + b" ")


def test_receiver_failing_twice_then_succeeding_ends_sent_after_three_attempts(
        personas, event_types, receiver):
    p = personas
    with scope(company=p.company_a.pk):
        WebhookEndpoint.objects.create(company=p.company_a, name="Flaky", url=receiver.url(),
                                       secret="s")
    receiver.script = [503, 500]
    emit(p.company_a)
    start = timezone.now()
    assert send_due() == {"queued": 1}
    [d] = deliveries(p.company_a)
    assert d.attempts == 1 and "HTTP 503" in d.last_error
    assert send_due() == {}  # not due yet: backoff of one minute
    with time_machine.travel(start + timedelta(seconds=61)):
        assert send_due() == {"queued": 1}
        assert send_due() == {}  # next backoff is two minutes
    with time_machine.travel(start + timedelta(seconds=61 + 121)):
        assert send_due() == {"sent": 1}
    [d] = deliveries(p.company_a)
    assert (d.status, d.attempts, d.last_error) == ("sent", 3, "")
    assert attempts_of(d) == [(1, "transient"), (2, "transient"), (3, "sent")]
    assert len(receiver.requests) == 3
    # Every retry carries the same delivery id, so the receiver can drop duplicates.
    assert {r.headers["X-Nestogy-Delivery"] for r in receiver.requests} == {d.public_id}


def test_slack_receiver_failing_twice_then_succeeding(personas, event_types, receiver):
    p = personas
    event_types["technician"] = ("slack",)
    with scope(company=p.company_a.pk):
        ChannelAddress.objects.create(
            company=p.company_a, user=p.tech_a.user, channel="slack",
            address=f"json://127.0.0.1:{receiver.port}/me{SLACK_SHAPE}")
    receiver.script = [500, 429]
    emit(p.company_a, users=[p.tech_a.user])
    start = timezone.now()
    for minutes in (0, 1.1, 3.2):
        with time_machine.travel(start + timedelta(minutes=minutes)):
            send_due()
    [d] = deliveries(p.company_a)
    assert (d.status, d.attempts) == ("sent", 3)
    assert attempts_of(d) == [(1, "transient"), (2, "transient"), (3, "sent")]
    assert [r.json["text"].split("\n")[0] for r in receiver.requests] == [
        "*Ticket T-1001: Printer on fire*"] * 3


def test_permanent_failure_stops_after_one_attempt(personas, event_types, receiver):
    p = personas
    with scope(company=p.company_a.pk):
        WebhookEndpoint.objects.create(company=p.company_a, name="Gone", url=receiver.url(),
                                       secret="s")
    receiver.script = [410]
    emit(p.company_a)
    assert send_due() == {"failed": 1}
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert send_due() == {}
    [d] = deliveries(p.company_a)
    assert (d.status, d.attempts, d.next_attempt_at) == ("failed", 1, None)
    assert "HTTP 410" in d.last_error
    assert len(receiver.requests) == 1


def test_apprise_4xx_is_permanent(personas, event_types, receiver):
    p = personas
    event_types["technician"] = ("slack",)
    with scope(company=p.company_a.pk):
        ChannelAddress.objects.create(company=p.company_a, user=p.tech_a.user,
                                      channel="slack",
                                      address=f"json://127.0.0.1:{receiver.port}/x")
    receiver.script = [404]
    emit(p.company_a, users=[p.tech_a.user])
    assert send_due() == {"failed": 1}
    [d] = deliveries(p.company_a)
    assert d.attempts == 1 and "HTTP 404" in d.last_error


def test_transient_failures_give_up_at_the_attempt_limit(personas, event_types, receiver,
                                                         settings):
    p = personas
    settings.NESTOGY_NOTIFY_MAX_ATTEMPTS = 3
    with scope(company=p.company_a.pk):
        WebhookEndpoint.objects.create(company=p.company_a, name="Down", url=receiver.url(),
                                       secret="s")
    receiver.script = [502] * 10
    emit(p.company_a)
    start = timezone.now()
    for hour in range(5):
        with time_machine.travel(start + timedelta(hours=hour)):
            send_due()
    [d] = deliveries(p.company_a)
    assert (d.status, d.attempts) == ("failed", 3)
    assert d.last_error.startswith("gave up after 3 attempts")
    assert len(receiver.requests) == 3


def test_backoff_doubles_and_is_capped(settings):
    settings.NESTOGY_NOTIFY_BACKOFF_SECONDS = 60
    settings.NESTOGY_NOTIFY_BACKOFF_CAP_SECONDS = 600
    assert [backoff(n).total_seconds() for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]


def test_missing_template_fails_the_delivery_and_sends_nothing(personas, event_types,
                                                              mailoutbox):
    p = personas
    emit(p.company_a, "test.missing", users=[p.tech_a.user])
    assert send_due() == {"failed": 2}
    assert mailoutbox == []
    for d in deliveries(p.company_a):
        assert d.attempts == 1
        assert d.last_error == "no template notifications/test.missing/title.txt"
    with scopes_disabled():
        assert Notification.objects.count() == 0


def test_template_errors_and_empty_results_are_reported_not_sent(personas, event_types,
                                                                mailoutbox):
    p = personas
    only_email(event_types)
    emit(p.company_a, "test.broken", users=[p.tech_a.user])
    emit(p.company_a, "test.empty", users=[p.tech_a.user])
    assert send_due() == {"failed": 2}
    assert mailoutbox == []
    broken, empty = deliveries(p.company_a)
    assert "invalid" in broken.last_error and "test.broken/body.txt" in broken.last_error
    assert empty.last_error == "notifications/test.empty: the body rendered empty"


def test_company_override_wins_over_files(personas, event_types, mailoutbox):
    p = personas
    with scope(company=p.company_a.pk):
        TemplateOverride.objects.create(company=p.company_a, event_type="test.ping",
                                        channel="", part="title",
                                        content="[Alpha] {{ number }} needs you")
        TemplateOverride.objects.create(company=p.company_a, event_type="test.ping",
                                        channel="inapp", part="body",
                                        content="In-app: {{ subject }}")
    emit(p.company_a, users=[p.tech_a.user])
    emit(p.company_b, users=[p.tech_b.user])
    send_due()
    subjects = sorted(m.subject for m in mailoutbox)
    assert subjects == ["Ticket T-1001: Printer on fire", "[Alpha] T-1001 needs you"]
    with scopes_disabled():
        inbox_a = Notification.objects.get(user=p.tech_a.user)
        inbox_b = Notification.objects.get(user=p.tech_b.user)
    assert (inbox_a.title, inbox_a.body) == ("[Alpha] T-1001 needs you", "In-app: Printer on fire")
    assert inbox_b.title == "Ticket T-1001: Printer on fire"
    assert inbox_b.body.startswith("Hello Tech,")
    email_a = next(m for m in mailoutbox if m.to == ["tech1@alpha.test"])
    assert email_a.body.startswith("Hello Tech1,")  # the in-app body override is in-app only


def test_broken_override_is_reported(personas, event_types, mailoutbox):
    p = personas
    only_email(event_types)
    with scope(company=p.company_a.pk):
        TemplateOverride.objects.create(company=p.company_a, event_type="test.ping",
                                        channel="email", part="body", content="{% for %}")
    emit(p.company_a, users=[p.tech_a.user])
    assert send_due() == {"failed": 1}
    assert mailoutbox == []


def test_missing_attachment_builder_is_permanent(personas, event_types, mailoutbox):
    p = personas
    only_email(event_types)
    emit(p.company_a, users=[p.tech_a.user], attachments=[{"builder": "nope"}])
    assert send_due() == {"failed": 1}
    [d] = deliveries(p.company_a)
    assert "attachment 'nope' could not be built" in d.last_error


def test_two_claims_never_share_a_delivery(personas, event_types, settings):
    p = personas
    only_email(event_types)
    settings.NESTOGY_NOTIFY_BATCH_SIZE = 3
    emit(p.company_a, users=[p.tech_a.user, p.tech2_a.user, p.owner_a.user,
                             p.manager_a.user, p.admin_a.user])
    first, second, third = claim(), claim(), claim()
    assert len(first) == 3 and len(second) == 2 and third == []
    assert not {d.pk for d in first} & {d.pk for d in second}
    # A claimed batch whose sender died becomes due again when the lease expires.
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert len(claim(limit=10)) == 5


def test_inapp_entries_are_written_per_batch(personas, event_types):
    p = personas
    event_types["technician"] = ("inapp",)
    emit(p.company_a, users=[p.tech_a.user, p.tech2_a.user])
    assert send_due() == {"sent": 2}
    with scopes_disabled():
        entries = list(Notification.objects.order_by("user__email").values_list(
            "user__email", "event_type", "title"))
    assert entries == [("tech1@alpha.test", "test.ping", "Ticket T-1001: Printer on fire"),
                       ("tech2@alpha.test", "test.ping", "Ticket T-1001: Printer on fire")]


def test_webhook_payload_is_json_serialisable_context(personas, event_types, receiver):
    from decimal import Decimal

    p = personas
    with scope(company=p.company_a.pk):
        WebhookEndpoint.objects.create(company=p.company_a, name="B", url=receiver.url(),
                                       secret="s")
    emit(p.company_a, amount=Decimal("54.84"), due=timezone.now().date())
    send_due()
    data = receiver.requests[0].json["data"]
    assert data["amount"] == "54.84"
    assert json.dumps(data)


def test_private_network_targets_are_refused_unless_the_operator_allows_them(
        personas, event_types, receiver, settings):
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = []
    p = personas
    event_types["technician"] = ("slack",)
    with scope(company=p.company_a.pk):
        WebhookEndpoint.objects.create(company=p.company_a, name="Internal",
                                       url=receiver.url(), secret="s")
        ChannelAddress.objects.create(company=p.company_a, user=p.tech_a.user,
                                      channel="slack",
                                      address=f"json://127.0.0.1:{receiver.port}/x")
    emit(p.company_a, users=[p.tech_a.user])
    assert send_due() == {"failed": 2}
    assert receiver.requests == []
    for d in deliveries(p.company_a):
        assert "127.0.0.1 is a non-public address" in d.last_error
    response = p.owner_a.api.patch("/company/settings", {"settings": {
        "notifications.slack_urls": ["json://169.254.169.254/latest"]}})
    assert response.status_code == 422
    assert response.data["error"]["field"] == "settings.notifications.slack_urls"
    assert "non-public" in response.data["error"]["message"]

    # An on-premise operator allows the relay's network: the same targets go through.
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = ["127.0.0.1/32"]
    emit(p.company_a, users=[p.tech_a.user])
    assert send_due() == {"sent": 2}
    assert len(receiver.requests) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_never_claim_one_delivery_twice(personas, event_types):
    """Four threads (four database connections) claim from the same outbox at once."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers (SKIP LOCKED is the point)")
    from nestogy.accounts.models import Membership, User

    p = personas
    only_email(event_types)
    users = User.objects.bulk_create([User(email=f"c{i}@alpha.test") for i in range(300)])
    with scope(company=p.company_a.pk):
        Membership.objects.bulk_create([Membership(company=p.company_a, user=u,
                                                   role="technician") for u in users])
    emit(p.company_a, users=users)
    claimed: list[list[int]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def worker(slot):
        try:
            start.wait()
            while batch := claim(limit=7):
                claimed[slot].extend(d.pk for d in batch)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    all_ids = [pk for ids in claimed for pk in ids]
    assert len(all_ids) == 300 == len(set(all_ids))
    assert sum(1 for ids in claimed if ids) >= 2, "the claims should interleave"


def test_send_notifications_command(personas, event_types, mailoutbox):
    from io import StringIO

    from django.core.management import call_command

    p = personas
    only_email(event_types)
    emit(p.company_a, users=[p.tech_a.user, p.tech2_a.user])
    emit(p.company_a, "test.missing", users=[p.owner_a.user])
    out = StringIO()
    call_command("send_notifications", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"sent": 2, "failed": 1, "retry_later": 0,
                                          "queued_total_by_channel": {}}
    assert len(mailoutbox) == 2
    out = StringIO()
    call_command("send_notifications", stdout=out)
    assert "Sent 0, failed 0, 0 to retry later; still queued: none" in out.getvalue()


def test_prune_delivery_log_keeps_recent_pending_and_inbox(personas, event_types):
    from nestogy.notifications.models import StoredEvent
    from nestogy.notifications.tasks import prune_delivery_log

    p = personas
    emit(p.company_a, users=[p.tech_a.user])  # old, sent
    send_due()
    emit(p.company_a, "test.plain", users=[p.tech2_a.user])  # old, still queued
    with scopes_disabled():
        StoredEvent.objects.update(occurred_at=timezone.now() - timedelta(days=100))
    emit(p.company_a, "test.empty", users=[p.owner_a.user])  # recent
    assert prune_delivery_log.call() == 1
    with scopes_disabled():
        assert sorted(StoredEvent.objects.values_list("type", flat=True)) == ["test.empty",
                                                                              "test.plain"]
        assert not Delivery.objects.filter(event_type="test.ping").exists()
        entry = Notification.objects.get(user=p.tech_a.user)
    assert entry.delivery_id is None and entry.title.startswith("Ticket T-1001")
