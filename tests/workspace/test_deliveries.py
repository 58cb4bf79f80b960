"""The delivery log in the workspace (Django test client): filters, one delivery with its
attempts, retrying failed and cancelling queued deliveries (audited), every role, another
company's deliveries, bad input."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.notifications.models import Delivery, DeliveryAttempt, StoredEvent
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
URL = "/app/settings/deliveries/"


def delivery(company, status, *, channel="email", event_type="ticket.created", error=""):
    with scope(company=company.pk):
        event = StoredEvent.objects.create(company=company, type=event_type, context={},
                                           occurred_at=timezone.now())
        d = Delivery.objects.create(company=company, event=event, event_type=event_type,
                                    channel=channel, target="dana@acme.test",
                                    recipient_name="Dana", status=status, attempts=1,
                                    last_error=error,
                                    next_attempt_at=timezone.now() if status == "queued"
                                    else None)
        DeliveryAttempt.objects.create(company=company, delivery=d, number=1,
                                       attempted_at=timezone.now(),
                                       outcome="permanent" if error else "sent", error=error)
    return d


def state(d) -> str:
    with scopes_disabled():
        return Delivery.objects.get(pk=d.pk).status


def test_the_log_filters_and_shows_a_delivery_with_its_attempts(personas):
    p = personas
    failed = delivery(p.company_a, "failed", error="550 mailbox unavailable")
    delivery(p.company_a, "sent", channel="sms")
    client = signed_in("admin@alpha.test")
    body = client.get(URL).content.decode()
    assert body.count("data-delivery=") == 2
    body = client.get(URL, {"status": "failed"}).content.decode()
    assert body.count("data-delivery=") == 1 and "550 mailbox unavailable" in body
    body = client.get(URL, {"channel": "sms"}).content.decode()
    assert body.count('data-delivery="sent"') == 1
    body = client.get(f"{URL}{failed.public_id}/").content.decode()
    assert "Permanent failure" in body and "Retry" in body


def test_retry_and_cancel_are_audited_and_only_touch_what_fits(personas):
    p = personas
    failed = delivery(p.company_a, "failed", error="timeout")
    queued = delivery(p.company_a, "queued")
    sent = delivery(p.company_a, "sent")
    client = signed_in("owner@alpha.test")
    body = client.post(f"{URL}action", {"action": "retry",
                                        "delivery": [failed.public_id, sent.public_id]},
                       follow=True).content.decode()
    assert "1 failed delivery queued again; 1 had not failed." in body
    assert state(failed) == "queued" and state(sent) == "sent"
    body = client.post(f"{URL}action", {"action": "cancel", "delivery": [queued.public_id]},
                       follow=True).content.decode()
    assert "1 queued delivery cancelled." in body
    assert state(queued) == "cancelled"
    with scope(company=p.company_a.pk):
        actions = sorted(AuditEntry.objects.filter(action__startswith="delivery.")
                         .values_list("action", flat=True))
    assert actions == ["delivery.cancelled", "delivery.retried"]


def test_bad_input_changes_nothing(personas):
    p = personas
    failed = delivery(p.company_a, "failed", error="x")
    client = signed_in("owner@alpha.test")
    body = client.post(f"{URL}action", {"action": "retry"}, follow=True).content.decode()
    assert "Select at least one delivery." in body
    body = client.post(f"{URL}action", {"action": "explode", "delivery": [failed.public_id]},
                       follow=True).content.decode()
    assert "Choose to retry or to cancel." in body
    assert state(failed) == "failed"
    body = client.get(URL, {"status": "bogus", "channel": "pigeon"}).content.decode()
    assert body.count("data-delivery=") == 1  # unknown filters are ignored
    response = client.post(f"{URL}action", {"action": "retry", "delivery": [failed.public_id],
                                            "back": "https://evil.example/"})
    assert response.url == URL  # never sent elsewhere


def test_another_companys_deliveries_are_not_found_or_touched(personas):
    p = personas
    theirs = delivery(p.company_b, "failed", error="theirs")
    client = signed_in("owner@alpha.test")
    assert "theirs" not in client.get(URL).content.decode()
    assert client.get(f"{URL}{theirs.public_id}/").status_code == 404
    body = client.post(f"{URL}action", {"action": "retry", "delivery": [theirs.public_id]},
                       follow=True).content.decode()
    assert "Select at least one delivery." in body
    assert state(theirs) == "failed"


@pytest.mark.parametrize("role", ROLES)
def test_the_log_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    failed = delivery(p.company_a, "failed", error="x")
    check_role_matrix(signed_in(persona.email), persona.role, [
        ("get", URL, {}, "notifications.deliveries"),
        ("get", f"{URL}{failed.public_id}/", {}, "notifications.deliveries"),
        ("post", f"{URL}action", {"action": "retry", "delivery": [failed.public_id]},
         "notifications.deliveries"),
    ])
    assert (state(failed) == "queued") == allowed(persona.role, "notifications.deliveries")


def test_the_way_back_never_leaves_the_log(personas):
    client = signed_in("owner@alpha.test")
    for back in ("https://evil.example/", "//evil.example/", "/app/settings/deliveries/\r\nX: y"):
        response = client.post(f"{URL}action", {"action": "retry", "back": back})
        assert response.status_code == 302 and response.url == URL
