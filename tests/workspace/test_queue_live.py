"""The queue's self-refresh: an unchanged queue answers 204 cheaply, a changed one redraws
the list and the counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from nestogy.core.timeutil import now as utc_now
from nestogy.tickets.actions import change_priority
from nestogy.tickets.models import Ticket
from nestogy.workspace import queries as q
from nestogy.workspace import views_queue
from nestogy.workspace.models import SavedView
from tests.workspace.helpers import signed_in, ticket

pytestmark = pytest.mark.django_db


def _stamp(body: str) -> str:
    return re.search(r'data-stamp="([0-9a-f]+)"', body).group(1)


def _poll(client, url: str, stamp: str):
    return client.get(url, headers={"HX-Request": "true", "X-Queue-Stamp": stamp})


def test_the_queue_polls_every_five_seconds_with_its_stamp(personas):
    body = signed_in("tech1@alpha.test").get("/app/?view=all").content.decode()
    assert 'hx-trigger="every 5s"' in body
    assert 'hx-get="/app/?view=all"' in body
    assert f'hx-headers=\'{{"X-Queue-Stamp": "{_stamp(body)}"}}\'' in body


def test_an_unchanged_queue_answers_204_with_a_few_queries_whatever_its_size(personas):
    p = personas
    client = signed_in("tech1@alpha.test")
    for n in range(3):
        ticket(p.company_a, p.client_a, f"Few {n}")
    stamp = _stamp(client.get("/app/?view=all").content.decode())
    with CaptureQueriesContext(connection) as few:
        response = _poll(client, "/app/?view=all", stamp)
    assert response.status_code == 204 and response.content == b""
    for n in range(30):
        ticket(p.company_a, p.client_a2, f"Many {n}", assignee=p.tech_a.user)
    stamp = _stamp(client.get("/app/?view=all").content.decode())
    with CaptureQueriesContext(connection) as many:
        assert _poll(client, "/app/?view=all", stamp).status_code == 204
    assert len(many) == len(few) <= 6, [x["sql"][:120] for x in many.captured_queries]
    # a plain page load never answers 204
    assert client.get("/app/?view=all", headers={"X-Queue-Stamp": stamp}).status_code == 200


def test_a_change_by_someone_else_redraws_the_list_and_the_counts(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Printer offline")
    tech = signed_in("tech1@alpha.test")
    stamp = _stamp(tech.get("/app/?view=all").content.decode())
    manager = signed_in("manager@alpha.test")
    manager.post(f"/app/tickets/{t.public_id}/assign", {"assignee": p.tech_a.user.public_id})
    ticket(p.company_a, p.client_a2, "Brand new ticket")
    response = _poll(tech, "/app/?view=all", stamp)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body  # only the queue body and the counts
    assert body.lstrip().startswith('<div id="queue-body"')
    assert "Brand new ticket" in body and "Tech1" in body
    assert _stamp(body) != stamp
    assert re.search(r'<span class="count" id="count-mine" data-count="mine" '
                     r'hx-swap-oob="true">1</span>', body)
    assert 'id="count-all" data-count="all" hx-swap-oob="true">2</span>' in body
    # and the next poll with the new stamp is quiet again
    assert _poll(tech, "/app/?view=all", _stamp(body)).status_code == 204


def test_saved_view_counts_are_refreshed_too(personas):
    p = personas
    tech = signed_in("tech1@alpha.test")
    tech.post("/app/views/new", {"name": "Critical", "query": "view=all&priority=critical"})
    stamp = _stamp(tech.get("/app/").content.decode())
    t = ticket(p.company_a, p.client_a, "Server down")
    with scope(company=p.company_a.pk):
        change_priority(t, "critical")
        saved = SavedView.objects.get(user=p.tech_a.user)
    body = _poll(tech, "/app/", stamp).content.decode()
    assert (f'id="count-saved-{saved.public_id}" data-count="saved-{saved.public_id}" '
            'hx-swap-oob="true">1</span>') in body


def test_the_stamp_follows_edits_sla_recomputes_and_the_clock(personas):
    p = personas
    t = ticket(p.company_a, p.client_a, "Printer offline")
    now = utc_now()
    with scope(company=p.company_a.pk):
        first = q.queue_stamp(now)
        assert q.queue_stamp(now) == first
        assert q.queue_stamp(now + timedelta(seconds=61)) != first  # once a minute at least
        Ticket.objects.filter(pk=t.pk).update(sla_computed_at=now + timedelta(seconds=1))
        second = q.queue_stamp(now)  # the breach checker writes SLA columns only
        assert second != first
        change_priority(t, "high")
        assert q.queue_stamp(now) != second
        third = q.queue_stamp(now)
        Ticket.objects.filter(pk=t.pk).delete()
        assert q.queue_stamp(now) != third


def test_a_poll_after_a_minute_redraws_even_without_changes(personas, monkeypatch):
    p = personas
    ticket(p.company_a, p.client_a, "Printer offline")
    client = signed_in("tech1@alpha.test")
    stamp = _stamp(client.get("/app/?view=all").content.decode())
    later = utc_now() + timedelta(minutes=1)
    monkeypatch.setattr(views_queue, "utc_now", lambda: later)
    response = _poll(client, "/app/?view=all", stamp)
    assert response.status_code == 200 and "Printer offline" in response.content.decode()
