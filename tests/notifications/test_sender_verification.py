"""notifications.from_email is used as the sender only once verified (or platform-owned),
with a real SMTP server (aiosmtpd) receiving both the notifications and the link."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email.utils import parseaddr

import time_machine
from django.test import Client as HttpClient
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from nestogy.audit.models import AuditEntry
from nestogy.notifications.models import Delivery, StoredEvent, TemplateOverride
from nestogy.notifications.sending import send_due
from tests.notifications.conftest import emit

CEO = "ceo@acme-dental.test"
LINK = re.compile(r"http://[^/\s]+(/sender-verification/[^/\s]+/)")


def only_email(event_types):
    for role in ("technician", "owner", "billing", "manager", "admin"):
        event_types[role] = ("email",)


def headers(message) -> email.message.Message:
    return email.message_from_bytes(message.content)


def text_of(message) -> str:
    parsed = headers(message)
    for part in parsed.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return ""


def set_from(api, address):
    response = api.patch("/company/settings", {"settings": {
        "notifications.from_email": address}})
    assert response.status_code == 200, response.data
    return response


def sender_state(api) -> dict:
    return api.get("/company").data["sender"]


def notify_tech(p, smtp_server) -> email.message.Message:
    before = len(smtp_server.messages)
    emit(p.company_a, users=[p.tech_a.user])
    send_due()
    assert len(smtp_server.messages) == before + 1
    return headers(smtp_server.messages[-1])


def request_link(p, smtp_server) -> str:
    response = p.owner_a.api.post("/company/sender/verify")
    assert response.status_code == 200, response.data
    assert response.data["sender"]["status"] == "pending"
    assert send_due() == {"sent": 1}
    message = smtp_server.messages[-1]
    assert message.rcpt_tos == [CEO]
    found = LINK.search(text_of(message))
    assert found, text_of(message)
    return found.group(1)


def test_an_unverified_from_address_is_not_used(personas, event_types, smtp_server):
    """The attack: an owner sets the sender to a client's CEO and the product mails as the
    CEO. Until the CEO's mailbox confirms, mail comes from the platform address."""
    p = personas
    only_email(event_types)
    set_from(p.owner_a.api, CEO)
    received = notify_tech(p, smtp_server)
    name, address = parseaddr(received["From"])
    assert address == "nestogy@localhost" and name == "Alpha IT"
    assert parseaddr(received["Reply-To"])[1] == CEO
    assert smtp_server.messages[-1].mail_from == "nestogy@localhost"
    state = sender_state(p.owner_a.api)
    assert state["email"] == CEO and state["status"] == "unverified"
    assert parseaddr(state["sends_as"])[1] == "nestogy@localhost"
    # A support address, when set, is the Reply-To instead.
    p.owner_a.api.patch("/company/settings", {"settings": {
        "branding.support_email": "help@alpha.test"}})
    assert parseaddr(notify_tech(p, smtp_server)["Reply-To"])[1] == "help@alpha.test"


def test_after_the_link_is_confirmed_the_address_is_used(personas, event_types, smtp_server):
    p = personas
    only_email(event_types)
    set_from(p.owner_a.api, CEO)
    path = request_link(p, smtp_server)
    # The link is in no stored row: not the event, not the delivery log.
    token = path.split("/")[2]
    with scopes_disabled():
        for event in StoredEvent.objects.filter(company=p.company_a):
            assert token not in str(event.context)
        for delivery in Delivery.objects.filter(company=p.company_a):
            assert token not in delivery.target + delivery.last_error
    # Opening the link does not confirm (mail scanners open links); the button does.
    visitor = HttpClient(enforce_csrf_checks=True)
    page = visitor.get(path)
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer"
    assert b"Alpha IT" in page.content and CEO.encode() in page.content
    assert sender_state(p.owner_a.api)["status"] == "pending"
    csrf = visitor.cookies["csrftoken"].value
    confirmed = visitor.post(path, {"csrfmiddlewaretoken": csrf})
    assert confirmed.status_code == 200 and b"confirmed" in confirmed.content
    state = sender_state(p.owner_a.api)
    assert state["status"] == "verified" and state["verified_at"]
    with scopes_disabled():
        entry = AuditEntry.objects.get(action="sender.verified")
    assert entry.data == {"email": CEO}
    received = notify_tech(p, smtp_server)
    assert parseaddr(received["From"]) == ("Alpha IT", CEO)
    assert smtp_server.messages[-1].mail_from == CEO
    # Confirming again is harmless.
    assert visitor.post(path, {"csrfmiddlewaretoken": csrf}).status_code == 200


def test_changing_the_address_resets_verification(personas, event_types, smtp_server):
    p = personas
    only_email(event_types)
    set_from(p.owner_a.api, CEO)
    path = request_link(p, smtp_server)
    visitor = HttpClient()
    assert visitor.post(path).status_code == 200
    assert sender_state(p.owner_a.api)["status"] == "verified"
    set_from(p.owner_a.api, "alerts@other-msp.test")
    assert sender_state(p.owner_a.api)["status"] == "unverified"
    assert parseaddr(notify_tech(p, smtp_server)["From"])[1] == "nestogy@localhost"
    # Back to the first address: verification does not come back by itself.
    set_from(p.owner_a.api, CEO)
    assert sender_state(p.owner_a.api)["status"] == "unverified"
    assert parseaddr(notify_tech(p, smtp_server)["From"])[1] == "nestogy@localhost"
    # The old link is void.
    again = visitor.get(path)
    assert again.status_code == 400 and b"cannot be used" in again.content


def test_changing_the_address_does_not_lift_the_request_limit(personas, event_types,
                                                             smtp_server):
    """No mailing arbitrary addresses by switching the setting between requests."""
    p = personas
    set_from(p.owner_a.api, CEO)
    request_link(p, smtp_server)
    set_from(p.owner_a.api, "victim@elsewhere.test")
    response = p.owner_a.api.post("/company/sender/verify")
    assert response.status_code == 409 and response.data["error"]["code"] == "too_soon"
    assert send_due() == {}
    assert [m.rcpt_tos for m in smtp_server.messages] == [[CEO]]


def test_a_link_sent_before_the_address_changed_cannot_confirm_the_new_one(
        personas, event_types, smtp_server):
    p = personas
    set_from(p.owner_a.api, CEO)
    path = request_link(p, smtp_server)
    set_from(p.owner_a.api, "someone@else.test")
    response = HttpClient().post(path)
    assert response.status_code == 400
    from nestogy.notifications.models import SenderVerification

    with scopes_disabled():
        assert not SenderVerification.objects.filter(verified_at__isnull=False).exists()


def test_bad_tampered_and_expired_links_answer_400(personas, event_types, smtp_server):
    p = personas
    set_from(p.owner_a.api, CEO)
    path = request_link(p, smtp_server)
    visitor = HttpClient()
    token = path.split("/")[2]
    for bad in ("garbage", token[:-3] + "abc", token + "x"):
        response = visitor.post(f"/sender-verification/{bad}/")
        assert response.status_code == 400, bad
    with time_machine.travel(timezone.now() + timedelta(hours=49)):
        assert visitor.post(path).status_code == 400
    assert sender_state(p.owner_a.api)["status"] == "pending"
    # A new request voids the earlier link.
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        newer = request_link(p, smtp_server)
        assert visitor.post(path).status_code == 400
        assert visitor.post(newer).status_code == 200


def test_verify_request_bad_input_and_limits(personas, event_types, smtp_server):
    p = personas
    api = p.owner_a.api
    missing = api.post("/company/sender/verify")
    assert missing.status_code == 422
    assert missing.data["error"]["field"] == "settings.notifications.from_email"
    bad = api.patch("/company/settings", {"settings": {
        "notifications.from_email": "Evil <ceo@acme.test>\r\nBcc: all@x.test"}})
    assert bad.status_code == 422
    assert bad.data["error"]["field"] == "settings.notifications.from_email"
    set_from(api, CEO)
    request_link(p, smtp_server)
    too_soon = api.post("/company/sender/verify")
    assert too_soon.status_code == 409 and too_soon.data["error"]["code"] == "too_soon"
    assert p.tech_a.api.post("/company/sender/verify").status_code == 403
    with scopes_disabled():
        assert Delivery.objects.filter(event_type="notifications.sender_verification").count() \
            == 1


def test_each_company_verifies_only_its_own_sender(personas, event_types, smtp_server):
    p = personas
    set_from(p.owner_a.api, CEO)
    set_from(p.owner_b.api, "alerts@bravo.test")
    path = request_link(p, smtp_server)
    assert HttpClient().post(path).status_code == 200
    assert sender_state(p.owner_a.api)["status"] == "verified"
    assert sender_state(p.owner_b.api)["status"] == "unverified"
    # B's owner cannot reach A's state or mail: B's request goes to B's address only.
    assert p.owner_b.api.post("/company/sender/verify").status_code == 200
    assert send_due() == {"sent": 1}
    assert smtp_server.messages[-1].rcpt_tos == ["alerts@bravo.test"]
    assert sender_state(p.owner_a.api)["status"] == "verified"


def test_platform_addresses_need_no_verification(personas, event_types, smtp_server,
                                                 settings):
    p = personas
    only_email(event_types)
    settings.NESTOGY_SENDER_DOMAINS = ["mail.platform.test"]
    set_from(p.owner_a.api, "alpha@mail.platform.test")
    assert sender_state(p.owner_a.api)["status"] == "platform"
    assert parseaddr(notify_tech(p, smtp_server)["From"]) == ("Alpha IT",
                                                              "alpha@mail.platform.test")
    response = p.owner_a.api.post("/company/sender/verify")
    assert response.status_code == 409
    set_from(p.owner_a.api, "nestogy@localhost")  # DEFAULT_FROM_EMAIL itself
    assert sender_state(p.owner_a.api)["status"] == "platform"
    # Another address in the platform's own domain is not implied.
    set_from(p.owner_a.api, "billing@localhost")
    assert sender_state(p.owner_a.api)["status"] == "unverified"


def test_company_template_overrides_do_not_apply_to_the_verification_mail(
        personas, event_types, smtp_server):
    p = personas
    with scope(company=p.company_a.pk):
        TemplateOverride.objects.create(company=p.company_a,
                                        event_type="notifications.sender_verification",
                                        part="body", content="Please click: evil.example")
    set_from(p.owner_a.api, CEO)
    request_link(p, smtp_server)
    assert "evil.example" not in text_of(smtp_server.messages[-1])


def test_verification_is_not_a_user_preference(personas, event_types):
    items = personas.tech_a.api.get("/notification-preferences").data["items"]
    assert "notifications.sender_verification" not in {i["event"] for i in items}
    response = personas.tech_a.api.put("/notification-preferences", {"preferences": [
        {"event": "notifications.sender_verification", "channel": "email",
         "enabled": False}]})
    assert response.status_code == 422
