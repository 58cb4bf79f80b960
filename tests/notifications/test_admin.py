"""The delivery log in the admin: owners and admins of the company see it, read-only."""

from __future__ import annotations

from django.test import Client as HttpClient
from django_scopes import scopes_disabled

from nestogy.notifications.models import Delivery
from nestogy.notifications.sending import send_due
from tests.conftest import PASSWORD
from tests.notifications.conftest import emit


def login(email):
    http = HttpClient()
    assert http.login(username=email, password=PASSWORD)
    return http


def test_owner_sees_own_delivery_log_with_attempts(personas, event_types):
    p = personas
    emit(p.company_a, "test.missing", users=[p.tech_a.user])
    emit(p.company_b, users=[p.tech_b.user], subject="Bravo secret")
    send_due()
    http = login("owner@alpha.test")
    page = http.get("/admin/notifications/delivery/")
    assert page.status_code == 200
    assert b"tech1@alpha.test" in page.content
    assert b"tech@bravo.test" not in page.content
    with scopes_disabled():
        mine = Delivery.objects.filter(company=p.company_a).first()
        theirs = Delivery.objects.filter(company=p.company_b).first()
    detail = http.get(f"/admin/notifications/delivery/{mine.pk}/change/")
    assert detail.status_code == 200
    assert b"no template notifications/test.missing/title.txt" in detail.content
    assert http.get(f"/admin/notifications/delivery/{theirs.pk}/change/").status_code in (302,
                                                                                          404)
    # read-only: no add, no edit
    assert http.get("/admin/notifications/delivery/add/").status_code == 403
    response = http.post(f"/admin/notifications/delivery/{mine.pk}/change/",
                         {"status": "sent"})
    assert response.status_code == 403
    with scopes_disabled():
        mine.refresh_from_db()
    assert mine.status == "failed"


def test_technicians_do_not_see_the_delivery_log(personas):
    http = login("tech1@alpha.test")
    assert http.get("/admin/notifications/delivery/").status_code == 403
    assert http.get("/admin/notifications/webhookendpoint/").status_code == 403
