"""Notification secrets are encrypted at rest and write-only: webhook signing secrets (shown
once), users' channel addresses, and delivery targets that are URLs."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django_scopes import scope, scopes_disabled

from nestogy.audit.models import AuditEntry
from nestogy.notifications.models import ChannelAddress, Delivery, WebhookEndpoint
from nestogy.notifications.sending import send_due
from nestogy.notifications.transports.webhook import verify
from tests.conftest import PASSWORD
from tests.netlab import FakeDNS
from tests.notifications.conftest import emit
from tests.support.admin_forms import operator

HOOK_SECRET = "whsec_DoNotShowThisSigningSecret"
PERSONAL_SLACK = "json://relay:PersonalSlackToken@127.0.0.1:{port}/me"


def login(email):
    http = HttpClient()
    assert http.login(username=email, password=PASSWORD)
    return http


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_webhook_secret_is_encrypted_and_still_signs(personas, event_types, receiver):
    p = personas
    with scope(company=p.company_a.pk):
        hook = WebhookEndpoint.objects.create(company=p.company_a, name="Bridge",
                                              url=receiver.url("/in"), secret=HOOK_SECRET)
    stored = raw("notifications_webhookendpoint", "secret", hook.pk)
    assert HOOK_SECRET not in stored and stored.startswith("enc:v1:")
    emit(p.company_a)
    assert send_due() == {"sent": 1}
    [request] = receiver.requests
    assert verify(HOOK_SECRET, request.headers["X-Nestogy-Signature"], request.raw)


def test_webhook_admin_shows_the_secret_once_and_never_again(monkeypatch, personas):
    """The attack: an admin opens a webhook's change page and reads its signing secret."""
    FakeDNS(monkeypatch, {"example.com": ["93.184.215.14"]})  # the URL check resolves it
    p = personas
    with scope(company=p.company_a.pk):
        old = WebhookEndpoint.objects.create(company=p.company_a, name="Old",
                                             url="https://example.com/old", secret=HOOK_SECRET)
    http = operator()
    page = http.get(f"/admin/notifications/webhookendpoint/{old.pk}/change/")
    assert page.status_code == 200
    assert HOOK_SECRET not in page.content.decode()
    assert "set, ends in …cret" in page.content.decode()
    assert HOOK_SECRET not in http.get("/admin/notifications/webhookendpoint/").content.decode()
    # Creating one: a secret is generated and shown on the answer to the save, only there.
    created = http.post("/admin/notifications/webhookendpoint/add/", {
        "company": p.company_a.pk, "name": "PSA bridge", "url": "https://example.com/in",
        "event_types": "[]", "is_active": "on", "new_secret": ""})
    assert created.status_code == 200, created.content[:500]
    shown = re.search(r'id="webhook-secret"[^>]*>(whsec_[\w-]+)<', created.content.decode())
    assert shown, created.content.decode()[:2000]
    secret = shown.group(1)
    assert "no-store" in created["Cache-Control"]
    with scopes_disabled():
        hook = WebhookEndpoint.objects.get(name="PSA bridge")
        assert hook.secret == secret and hook.company_id == p.company_a.pk
        assert AuditEntry.objects.filter(action="webhook.secret_changed",
                                         object_id=hook.public_id).count() == 1
    assert secret not in raw("notifications_webhookendpoint", "secret", hook.pk)
    change_url = f"/admin/notifications/webhookendpoint/{hook.pk}/change/"
    assert secret not in http.get(change_url).content.decode()
    # Saving with the secret field left blank keeps it (and shows nothing).
    kept = http.post(change_url, {"company": p.company_a.pk, "name": "PSA bridge 2", "url": "https://example.com/in",
                                  "event_types": "[]", "is_active": "on", "new_secret": ""})
    assert kept.status_code == 302
    with scopes_disabled():
        assert WebhookEndpoint.objects.get(pk=hook.pk).secret == secret
    # Regenerating shows the new one once.
    regenerated = http.post(change_url, {"company": p.company_a.pk, "name": "PSA bridge 2", "url": "https://example.com/in",
                                         "event_types": "[]", "is_active": "on",
                                         "new_secret": "", "regenerate_secret": "on"})
    assert regenerated.status_code == 200
    with scopes_disabled():
        new = WebhookEndpoint.objects.get(pk=hook.pk).secret
    assert new != secret and new in regenerated.content.decode()
    assert new not in http.get(change_url).content.decode()


def test_webhook_admin_is_the_operators_and_refuses_a_short_secret(personas):
    with scope(company=personas.company_b.pk):
        theirs = WebhookEndpoint.objects.create(company=personas.company_b, name="Theirs",
                                                url="https://example.com/b", secret=HOOK_SECRET)
    change = f"/admin/notifications/webhookendpoint/{theirs.pk}/change/"
    assert login("owner@alpha.test").get(change).status_code == 302  # staff: the workspace
    http = operator()
    response = http.get(change)
    assert response.status_code == 200 and HOOK_SECRET not in response.content.decode()
    short = http.post("/admin/notifications/webhookendpoint/add/", {
        "company": personas.company_a.pk, "name": "Short", "url": "https://example.com/in",
        "event_types": "[]", "new_secret": "too-short"})
    assert short.status_code == 200
    assert "16 to 200 characters" in short.content.decode()
    assert "too-short" not in short.content.decode()
    with scopes_disabled():
        assert not WebhookEndpoint.objects.filter(name="Short").exists()


def test_channel_addresses_are_encrypted_and_write_only(personas, event_types, receiver):
    p = personas
    chosen = "slack://T0PERSONAL/B0PERSONAL/PersonalSlackToken/#me"
    response = p.tech_a.api.put("/notification-preferences", {"addresses": {"slack": chosen}})
    assert response.status_code == 200, response.data
    assert "PersonalSlackToken" not in response.content.decode()
    assert response.data["addresses"]["slack"]["set"] is True
    assert "PersonalSlackToken" not in p.tech_a.api.get(
        "/notification-preferences").content.decode()
    with scopes_disabled():
        address = ChannelAddress.objects.get(user=p.tech_a.user, channel="slack")
    assert address.address == chosen
    # Users may only choose fixed-host services; to watch the delivery end to end, point the
    # stored address at a relay on the local receiver.
    url = PERSONAL_SLACK.format(port=receiver.port)
    address.address = url
    with scope(company=p.company_a.pk):
        address.save()
    assert "PersonalSlackToken" not in raw("notifications_channeladdress", "address",
                                           address.pk)
    # The admin shows the state, not the address.
    http = operator()
    page = http.get(f"/admin/notifications/channeladdress/{address.pk}/change/").content
    assert b"PersonalSlackToken" not in page
    assert b"PersonalSlackToken" not in http.get(
        "/admin/notifications/channeladdress/").content
    # The delivery still reaches the personal address; its stored target is encrypted.
    event_types["technician"] = ("slack",)
    emit(p.company_a, users=[p.tech_a.user])
    assert send_due() == {"sent": 1}
    [request] = receiver.requests
    assert request.path == "/me"
    with scopes_disabled():
        delivery = Delivery.objects.get(channel="slack")
    assert delivery.target == url
    assert "PersonalSlackToken" not in raw("notifications_delivery", "target", delivery.pk)
    listed = p.owner_a.api.get("/notifications/deliveries").data["items"]
    assert listed[0]["target"] == f"json://127.0.0.1:{receiver.port}/…"


def test_channel_address_admin_validates_and_keeps_blank(personas):
    with scope(company=personas.company_a.pk):
        address = ChannelAddress.objects.create(company=personas.company_a,
                                                user=personas.tech_a.user, channel="sms",
                                                address="+15550001111")
    http = operator()
    change = f"/admin/notifications/channeladdress/{address.pk}/change/"
    base = {"company": personas.company_a.pk, "user": personas.tech_a.user.pk,
            "channel": "sms"}
    bad = http.post(change, {**base, "new_address": "call me maybe"})
    assert bad.status_code == 200 and b"international form" in bad.content
    assert http.post(change, {**base, "new_address": ""}).status_code == 302
    with scopes_disabled():
        assert ChannelAddress.objects.get(pk=address.pk).address == "+15550001111"
    assert http.post(change, {**base, "new_address": "+1 555 000 2222"}).status_code == 302
    with scopes_disabled():
        assert ChannelAddress.objects.get(pk=address.pk).address == "+15550002222"


def test_email_targets_stay_readable_url_targets_do_not(personas, event_types):
    p = personas
    event_types["technician"] = ("email", "slack")
    with scope(company=p.company_a.pk):
        p.company_a.set_setting("notifications.slack_urls",
                                ["slack://T0AAA/B0BBB/CompanySlackTokenC"])
        p.company_a.save()
    emit(p.company_a, users=[p.tech_a.user])
    with scopes_disabled():
        email_row = Delivery.objects.get(channel="email")
        slack_row = Delivery.objects.get(channel="slack")
    assert raw("notifications_delivery", "target", email_row.pk) == "tech1@alpha.test"
    stored = raw("notifications_delivery", "target", slack_row.pk)
    assert stored.startswith("enc:v1:") and "CompanySlackTokenC" not in stored
    assert slack_row.target == "slack://T0AAA/B0BBB/CompanySlackTokenC"
    assert slack_row.shown_target == "slack://…"  # the "host" of a Slack URL is a token
    admin_page = operator().get(
        f"/admin/notifications/delivery/{slack_row.pk}/change/").content
    assert b"T0AAA" not in admin_page and b"CompanySlackTokenC" not in admin_page


@pytest.mark.parametrize(("url", "shown"), [
    ("slack://TokenA/TokenB/TokenC/#alerts", "slack://…"),
    ("twilio://SID:Token@+15550001111/+15552223333", "twilio://…"),
    ("json://user:secret@127.0.0.1:8080/x?token=1", "json://127.0.0.1:8080/…"),
    ("https://hooks.example.com/services/T0/B0/XYZ", "https://hooks.example.com/…"),
    ("tgram://123456:ABC-BotToken/987", "tgram://…"),
    ("mailto://user:pass@gmail.com", "mailto://gmail.com/…"),
])
def test_redact_url_shows_no_token(url, shown):
    from nestogy.notifications.models import redact_url

    assert redact_url(url) == shown


def test_a_failed_send_does_not_write_the_urls_token_into_the_delivery_log(personas,
                                                                         event_types):
    """A relay URL with the token in its path, unreachable: the error Apprise reports
    (which quotes the request path) must not carry the token into last_error or the API."""
    from tests.notifications.conftest import free_port

    p = personas
    event_types["technician"] = ("slack",)
    url = f"json://127.0.0.1:{free_port()}/hooks/T0/B0/RelayPathToken1234"
    with scope(company=p.company_a.pk):
        p.company_a.set_setting("notifications.slack_urls", [url])
        p.company_a.save()
    emit(p.company_a, users=[p.tech_a.user])
    assert send_due() == {"queued": 1}  # connection refused: retried later
    with scopes_disabled():
        delivery = Delivery.objects.get(channel="slack")
        attempt_errors = list(delivery.attempt_log.values_list("error", flat=True))
    assert delivery.last_error  # the failure is explained ...
    for text in [delivery.last_error, *attempt_errors,
                 p.owner_a.api.get("/notifications/deliveries").content.decode()]:
        assert "RelayPathToken1234" not in text  # ... without the token


def test_an_unexpected_error_quoting_the_url_is_logged_and_stored_without_it(
        personas, event_types, monkeypatch, caplog):
    from nestogy.notifications.transports.apprise import AppriseTransport

    def explode(self, delivery, rendered):
        raise RuntimeError(f"could not post to {delivery.target}")

    monkeypatch.setattr(AppriseTransport, "send", explode)
    p = personas
    event_types["technician"] = ("slack",)
    with scope(company=p.company_a.pk):
        p.company_a.set_setting("notifications.slack_urls",
                                ["slack://T0AAAA/B0BBBB/UnexpectedToken777"])
        p.company_a.save()
    emit(p.company_a, users=[p.tech_a.user])
    caplog.set_level(1)
    assert send_due() == {"queued": 1}
    with scopes_disabled():
        delivery = Delivery.objects.get(channel="slack")
    assert delivery.last_error.startswith("RuntimeError: could not post to")
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "failed unexpectedly" in logged
    for text in (delivery.last_error, logged):
        assert "UnexpectedToken777" not in text and "T0AAAA" not in text
