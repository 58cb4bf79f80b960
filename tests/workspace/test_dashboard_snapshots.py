"""The dashboards' stored figures (``workspace.snapshots``): a page opens from its stored
figures while they are fresh (under five minutes old, same local day), computes them again
otherwise or on *Refresh now*, and the scheduler refreshes only the pages people read; a
stored page equals the page computed on the same data, decimals and times included."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from django_tasks_db.models import DBTaskResult

from nestogy.workspace import dashboards, snapshots
from nestogy.workspace.models import DashboardSnapshot
from nestogy.workspace.tasks import refresh_company_dashboards, refresh_dashboards
from tests.billing.helpers import make_contract
from tests.workspace.helpers import signed_in
from tests.workspace.test_reports import HOUR, desk, made, table  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def priority_rows(client, days="30"):
    return table(client.get("/app/reports/service/", {"days": days,
                                                      "export": "priority"}).content)


def age(company, key, *, minutes=0, days=0):
    with scopes_disabled():
        row = DashboardSnapshot.objects.get(company=company, key=key)
        DashboardSnapshot.objects.filter(pk=row.pk).update(
            computed_at=row.computed_at - timedelta(minutes=minutes),
            viewed_at=row.viewed_at - timedelta(minutes=minutes),
            local_date=row.local_date - timedelta(days=days))


def opened(company, email, key="service:30"):
    """The stored row of a page ``email`` has just opened."""
    signed_in(email).get("/app/reports/service/", {"days": key.partition(":")[2]})
    with scopes_disabled():
        return DashboardSnapshot.objects.get(company=company, key=key)


def total_tickets(rows):
    return sum(int(r[1]) for r in rows[1:])


@pytest.mark.usefixtures("desk")
def test_a_page_shows_its_stored_figures_until_refreshed(personas):
    p = personas
    client = signed_in("manager@alpha.test")
    page = client.get("/app/reports/service/").content.decode()
    assert "Figures as of" in page and "Refresh now" in page
    before = priority_rows(client)
    made(p, "Late news", days_ago=1, priority="critical", first=300, resolved=HOUR)
    assert priority_rows(client) == before  # stored a moment ago: the same figures
    response = client.post("/app/reports/service/refresh", {"days": "30"})
    assert response.status_code == 302 and response["Location"] == \
        "/app/reports/service/?days=30"
    after = priority_rows(client)
    assert total_tickets(after) == total_tickets(before) + 1
    # the other periods are stored on their own and computed on first view
    assert total_tickets(priority_rows(client, "7")) <= total_tickets(after)


@pytest.mark.usefixtures("desk")
def test_figures_older_than_five_minutes_or_of_another_day_are_computed_again(personas):
    p = personas
    client = signed_in("manager@alpha.test")
    before = total_tickets(priority_rows(client))
    made(p, "Late news", days_ago=1, first=300)
    age(p.company_a, "service:30", minutes=4)
    assert total_tickets(priority_rows(client)) == before  # still fresh
    age(p.company_a, "service:30", minutes=2)
    assert total_tickets(priority_rows(client)) == before + 1  # 6 minutes: computed again
    made(p, "Later news", days_ago=1, first=300)
    age(p.company_a, "service:30", days=1)  # computed "yesterday" (local date)
    assert total_tickets(priority_rows(client)) == before + 2


def test_stored_figures_equal_the_figures_computed_now(personas):
    p = personas
    with scope(company=p.company_a.pk):
        make_contract(p.company_a, p.client_a, start="2026-01-01", seats="7", price="33.30",
                      metered=False)
        computed = dashboards.revenue(p.company_a)
        stored = snapshots.refresh(p.company_a, "revenue",
                                   lambda: dashboards.revenue(p.company_a))
        again = snapshots.current(p.company_a, "revenue", lambda: pytest.fail("recomputed"))
    assert stored.payload == again.payload
    assert again.payload["result"]["mrr"] == computed["result"]["mrr"] == Decimal("233.10")
    assert isinstance(again.payload["today"], date)
    assert again.payload["tables"]["forecast"][1] == [list(r) for r in
                                                      computed["tables"]["forecast"][1]]


def test_tagged_json_keeps_decimals_dates_and_aware_times():
    moment = datetime(2026, 7, 1, 12, 30, tzinfo=ZoneInfo("Europe/London"))
    value = {"amount": Decimal("10.10"), "day": date(2026, 2, 28), "at": moment,
             "plain": {"$decimal": "1", "other": 2}, "n": 0.1}
    back = snapshots.loads(snapshots.dumps(value))
    assert back["amount"] == Decimal("10.10") and str(back["amount"]) == "10.10"
    assert back["day"] == date(2026, 2, 28) and back["at"] == moment
    assert back["at"].utcoffset() == moment.utcoffset()
    assert back["plain"] == {"$decimal": "1", "other": 2} and back["n"] == 0.1


@pytest.mark.usefixtures("desk")
def test_the_scheduler_refreshes_only_pages_read_in_the_last_day(personas):
    p = personas
    signed_in("manager@alpha.test").get("/app/reports/service/", {"days": "7"})
    signed_in("owner@bravo.test").get("/app/reports/service/", {"days": "7"})
    assert refresh_dashboards.call() == {"companies": 0, "pages": 0}  # all fresh
    age(p.company_a, "service:7", minutes=4)
    age(p.company_b, "service:7", minutes=60 * 25)  # nobody has looked for a day
    assert refresh_dashboards.call() == {"companies": 1, "pages": 1}
    with scopes_disabled():
        queued = list(DBTaskResult.objects.filter(
            task_path="nestogy.workspace.tasks.refresh_company_dashboards"))
    assert [q.args_kwargs["args"] for q in queued] == [[p.company_a.pk]]
    made(p, "Late news", days_ago=1, first=300)
    assert refresh_company_dashboards.call(p.company_a.pk) == {"refreshed": ["service:7"]}
    assert refresh_company_dashboards.call(p.company_a.pk) == {"refreshed": []}  # re-run
    with scopes_disabled():
        row = DashboardSnapshot.objects.get(company=p.company_a, key="service:7")
    assert timezone.now() - row.computed_at < timedelta(minutes=1)
    rows = table(signed_in("manager@alpha.test").get(
        "/app/reports/service/", {"days": "7", "export": "priority"}).content)
    # the desk's three tickets of the last seven days, and the late one
    assert total_tickets(rows) == 4


@pytest.mark.usefixtures("desk")
def test_refresh_is_post_only_and_a_bad_period_is_refused():
    client = signed_in("manager@alpha.test")
    assert client.get("/app/reports/service/refresh").status_code == 405
    assert signed_in("owner@alpha.test").get("/app/reports/revenue/refresh").status_code == 405
    for bad in ({"days": "abc"}, {"days": "365"}, {}):
        response = client.post("/app/reports/service/refresh", bad)
        assert response.status_code == 400 and b"days must be one of 7, 30, 90" in \
            response.content
    with scopes_disabled():
        assert not DashboardSnapshot.objects.exists()  # nothing computed, nothing stored
    response = client.post("/app/reports/service/refresh", {"days": "90"})
    assert response["Location"] == "/app/reports/service/?days=90"
    with scopes_disabled():
        assert set(DashboardSnapshot.objects.values_list("key", flat=True)) == {"service:90"}


@pytest.mark.usefixtures("desk")
def test_one_company_refreshing_leaves_the_others_figures(personas):
    p = personas
    alpha = opened(p.company_a, "manager@alpha.test")
    signed_in("owner@bravo.test").post("/app/reports/service/refresh", {"days": "30"})
    with scopes_disabled():
        assert DashboardSnapshot.objects.get(pk=alpha.pk).payload == alpha.payload
        bravo = DashboardSnapshot.objects.get(company=p.company_b, key="service:30")
    assert "Bravo" not in alpha.payload and bravo.payload != alpha.payload
    rows = table(signed_in("owner@bravo.test").get(
        "/app/reports/service/", {"export": "priority"}).content)
    assert total_tickets(rows) == 1


@pytest.mark.usefixtures("desk")
def test_an_operator_sees_which_pages_are_kept_read_only(personas):
    from tests.support.admin_forms import OPERATOR_EMAIL, login, operator

    p = personas
    row = opened(p.company_a, "manager@alpha.test")
    operator()
    http = login(OPERATOR_EMAIL)
    listing = http.get("/admin/workspace/dashboardsnapshot/").content.decode()
    assert "service:30" in listing and "Alpha IT" in listing
    change = http.get(f"/admin/workspace/dashboardsnapshot/{row.pk}/change/")
    assert change.status_code == 200
    assert "Acme Dental" not in change.content.decode()  # the figures stay out of the admin
    assert http.get("/admin/workspace/dashboardsnapshot/add/").status_code == 403
    assert http.post(f"/admin/workspace/dashboardsnapshot/{row.pk}/change/",
                     {"key": "revenue"}).status_code == 403
    with scopes_disabled():
        assert DashboardSnapshot.objects.get(pk=row.pk).key == "service:30"
    # deleting a row is allowed: the page computes its figures again when next opened
    http.post(f"/admin/workspace/dashboardsnapshot/{row.pk}/delete/", {"post": "yes"})
    with scopes_disabled():
        assert not DashboardSnapshot.objects.filter(pk=row.pk).exists()
    page = signed_in("manager@alpha.test").get("/app/reports/service/")
    assert page.status_code == 200 and "Acme Dental" in page.content.decode()
