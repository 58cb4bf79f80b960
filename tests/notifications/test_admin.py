"""The delivery log in the admin: operators see every company's, read-only, and retry or
cancel; a company's staff use the workspace's delivery log (tests/workspace)."""

from __future__ import annotations

from django.test import Client as HttpClient
from django_scopes import scopes_disabled

from nestogy.notifications.models import Delivery
from nestogy.notifications.sending import send_due
from tests.conftest import PASSWORD
from tests.notifications.conftest import emit
from tests.support.admin_forms import operator


def login(email):
    http = HttpClient()
    assert http.login(username=email, password=PASSWORD)
    return http


def test_an_operator_sees_every_delivery_log_with_attempts(personas, event_types):
    p = personas
    emit(p.company_a, "test.missing", users=[p.tech_a.user])
    emit(p.company_b, users=[p.tech_b.user], subject="Bravo secret")
    send_due()
    http = operator()
    page = http.get("/admin/notifications/delivery/")
    assert page.status_code == 200
    assert b"tech1@alpha.test" in page.content
    assert b"tech@bravo.test" in page.content
    with scopes_disabled():
        mine = Delivery.objects.filter(company=p.company_a).first()
        theirs = Delivery.objects.filter(company=p.company_b).first()
    detail = http.get(f"/admin/notifications/delivery/{mine.pk}/change/")
    assert detail.status_code == 200
    assert b"no template notifications/test.missing/title.txt" in detail.content
    assert http.get(f"/admin/notifications/delivery/{theirs.pk}/change/").status_code == 200
    with scopes_disabled():
        mine.refresh_from_db()
    assert mine.status == "failed"


def test_a_companys_staff_do_not_see_the_admins_delivery_log(personas):
    for email in ("owner@alpha.test", "tech1@alpha.test"):
        http = login(email)
        assert http.get("/admin/notifications/delivery/").status_code == 302
        assert http.get("/admin/notifications/webhookendpoint/").status_code == 302


def test_an_operator_retries_failed_and_cancels_queued_deliveries(personas, event_types,
                                                                 receiver):
    from django_scopes import scope

    from nestogy.audit.models import AuditEntry
    from nestogy.notifications.models import WebhookEndpoint

    p = personas
    with scope(company=p.company_a.pk):
        WebhookEndpoint.objects.create(company=p.company_a, name="Was down", url=receiver.url(),
                                       secret="s")
    receiver.script = [404]
    emit(p.company_a)
    send_due()
    emit(p.company_a, number="T-2")
    with scopes_disabled():
        failed = Delivery.objects.get(status="failed")
        queued = Delivery.objects.get(status="queued")
    http = operator()
    changelist = "/admin/notifications/delivery/"
    http.post(changelist, {"action": "retry_selected", "_selected_action": [failed.pk,
                                                                            queued.pk]})
    http.post(changelist, {"action": "cancel_selected", "_selected_action": [queued.pk]})
    with scopes_disabled():
        failed.refresh_from_db()
        queued.refresh_from_db()
        actions = sorted(AuditEntry.objects.filter(action__startswith="delivery.")
                         .values_list("action", "object_id"))
    assert (failed.status, queued.status) == ("queued", "cancelled")
    assert actions == sorted([("delivery.retried", failed.public_id),
                              ("delivery.cancelled", queued.public_id)])
    assert send_due() == {"sent": 1}  # the retried one goes through; the cancelled never
    assert len(receiver.requests) == 2
    with scopes_disabled():
        failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("sent", 2)


def test_staff_cannot_run_the_admins_delivery_actions(personas, event_types):
    p = personas
    emit(p.company_a, users=[p.tech_a.user])
    with scopes_disabled():
        queued = Delivery.objects.filter(company=p.company_a).first()
    http = login("owner@alpha.test")
    response = http.post("/admin/notifications/delivery/",
                         {"action": "cancel_selected", "_selected_action": [queued.pk]})
    assert response.status_code == 302
    with scopes_disabled():
        queued.refresh_from_db()
    assert queued.status == "queued"
