"""Saved queue views: save the filters on screen, see them with live counts under the
built-in views, rename, reorder, delete; private to their owner and company."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.workspace.models import SavedView
from tests.workspace.helpers import signed_in, ticket

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def _views(company, user=None):
    with scope(company=company.pk):
        qs = SavedView.objects.all() if user is None else SavedView.objects.filter(user=user)
        return list(qs.order_by("position", "id"))


def _save(client, name, query):
    return client.post("/app/views/new", {"name": name, "query": query})


def _count(body: str, view: SavedView) -> str:
    found = re.search(rf'data-count="saved-{view.public_id}">([^<]*)<', body)
    assert found, f"no count for {view.name}"
    return found.group(1)


def test_save_the_filters_on_screen_and_find_them_with_a_live_count(personas):
    p = personas
    ticket(p.company_a, p.client_a, "Printer jam", priority="high")
    ticket(p.company_a, p.client_a, "Printer toner", priority="high")
    ticket(p.company_a, p.client_a, "Printer cable", priority="low")
    client = signed_in("tech1@alpha.test")
    offer = "<summary>Save this view</summary>"
    assert offer not in client.get("/app/?view=all").content.decode()  # a built-in view
    page = client.get("/app/?view=all&priority=high").content.decode()
    assert offer in page  # offered for filters that are not saved yet

    # the query is stored normalised: form order, empty fields and the page left out
    response = _save(client, "  Hot printers ", "q=printer&page=3&status=&priority=high&view=all")
    assert response.status_code == 302
    assert response["Location"] == "/app/?view=all&priority=high&q=printer"
    [saved] = _views(p.company_a, p.tech_a.user)
    assert (saved.name, saved.query) == ("Hot printers", "view=all&priority=high&q=printer")

    body = client.get(response["Location"]).content.decode()
    assert "Saved the view “Hot printers”." in body
    assert "My saved views" in body
    assert _count(body, saved) == "2"
    assert re.search(r'aria-current="page"[^>]*>\s*<span>Hot printers</span>', body)
    assert "<h1 id=\"queue-title\">Hot printers</h1>" in body
    assert "Saved view: All open · Priority: High · Search: printer" in body
    assert "Printer jam" in body and "Printer toner" in body and "Printer cable" not in body
    assert "Rename, move or delete this saved view" in body

    # the count is live: another high-priority printer ticket shows up on the next page
    ticket(p.company_a, p.client_a2, "Printer on fire", priority="high")
    assert _count(client.get("/app/").content.decode(), saved) == "3"


def test_a_query_without_a_view_is_saved_as_my_work(personas):
    client = signed_in("tech1@alpha.test")
    _save(client, "Mine, critical", "priority=critical")
    [saved] = _views(personas.company_a)
    assert saved.query == "view=mine&priority=critical"


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "   ", "query": "view=all"}, "Name: Give the view a name."),
    ({"name": "x" * 81, "query": "view=all"},
     "Name: Ensure this value has at most 80 characters (it has 81)."),
    ({"name": "Bad", "query": "view=all&priority=urgent"},
     "Filters: Priority: Select a valid choice. urgent is not one of the available choices."),
    ({"name": "Bad", "query": "view=everything"},
     "Filters: View: Select a valid choice. everything is not one of the available choices."),
    ({"name": "Bad", "query": "view=all&client=cli_not_ours"},
     "Filters: Client: Select a valid choice."),
    ({"name": "Long", "query": "view=all&q=" + "x" * 4000},
     "Filters: Ensure this value has at most 4000 characters"),
])
def test_bad_input_names_the_field_and_saves_nothing(personas, data, message):
    client = signed_in("tech1@alpha.test")
    response = client.post("/app/views/new", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _views(personas.company_a) == []


def test_names_are_unique_per_user_ignoring_case_but_not_across_users(personas):
    p = personas
    tech1, tech2 = signed_in("tech1@alpha.test"), signed_in("tech2@alpha.test")
    assert _save(tech1, "Printers", "view=all&q=printer").status_code == 302
    clash = _save(tech1, "PRINTERS", "view=all&q=toner")
    assert clash.status_code == 400
    assert "Name: you already have a saved view called “PRINTERS”" in clash.content.decode()
    assert _save(tech2, "Printers", "view=all&q=printer").status_code == 302
    assert len(_views(p.company_a, p.tech_a.user)) == 1
    assert len(_views(p.company_a, p.tech2_a.user)) == 1


def test_rename_move_and_delete(personas):
    p = personas
    client = signed_in("manager@alpha.test")
    for name, query in (("First", "view=all&priority=low"), ("Second", "view=all&priority=high"),
                        ("Third", "view=unassigned")):
        _save(client, name, query)
    first, second, third = _views(p.company_a)
    assert [v.position for v in (first, second, third)] == [1, 2, 3]

    response = client.post(f"/app/views/{second.public_id}/rename", {"name": "Hot"})
    assert response.status_code == 302
    assert response["Location"] == "/app/?view=all&priority=high"
    assert "Renamed the view to “Hot”." in client.get(response["Location"]).content.decode()
    empty = client.post(f"/app/views/{second.public_id}/rename", {"name": ""})
    assert empty.status_code == 400 and "Name: Give the view a name." in empty.content.decode()
    clash = client.post(f"/app/views/{second.public_id}/rename", {"name": "first"})
    assert clash.status_code == 400
    assert "Name: you already have a saved view called “first”" in clash.content.decode()
    assert [v.name for v in _views(p.company_a)] == ["First", "Hot", "Third"]

    client.post(f"/app/views/{third.public_id}/move", {"direction": "up"})
    assert [v.name for v in _views(p.company_a)] == ["First", "Third", "Hot"]
    client.post(f"/app/views/{first.public_id}/move", {"direction": "up"})  # already first
    client.post(f"/app/views/{first.public_id}/move", {"direction": "down"})
    assert [v.name for v in _views(p.company_a)] == ["Third", "First", "Hot"]
    body = client.get("/app/").content.decode()
    assert body.index("<span>Third</span>") < body.index("<span>First</span>") < \
        body.index("<span>Hot</span>")
    bad = client.post(f"/app/views/{first.public_id}/move", {"direction": "sideways"})
    assert bad.status_code == 400 and "Direction: must be up or down" in bad.content.decode()

    response = client.post(f"/app/views/{first.public_id}/delete")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Deleted the saved view “First”." in page
    assert [v.name for v in _views(p.company_a)] == ["Third", "Hot"]


def test_another_users_or_companys_saved_view_is_404_and_untouched(personas):
    p = personas
    from nestogy.accounts.actions import add_member

    with scope(company=p.company_b.pk):
        add_member(p.company_b, email="tech1@alpha.test", role="technician",
                   attach_existing=True)
    owner = signed_in("tech2@alpha.test")
    _save(owner, "Tech2's view", "view=all")
    [theirs] = _views(p.company_a)
    bravo = signed_in("owner@bravo.test")
    _save(bravo, "Bravo view", "view=all")
    [bravo_view] = _views(p.company_b)

    tech1 = signed_in("tech1@alpha.test")
    tech1.post("/app/company/", {"company": p.company_a.public_id})
    for view in (theirs, bravo_view):
        base = f"/app/views/{view.public_id}"
        assert tech1.post(base + "/rename", {"name": "Mine now"}).status_code == 404
        assert tech1.post(base + "/move", {"direction": "up"}).status_code == 404
        assert tech1.post(base + "/delete").status_code == 404
    body = tech1.get("/app/?view=all").content.decode()
    assert "Tech2&#x27;s view" not in body and "Bravo view" not in body

    # tech1's own view in company B is not listed while they work in company A
    tech1.post("/app/company/", {"company": p.company_b.public_id})
    tech1.get(_save(tech1, "Tech1 at Bravo", "view=all")["Location"])  # reads the message
    tech1.post("/app/company/", {"company": p.company_a.public_id})
    assert "Tech1 at Bravo" not in tech1.get("/app/").content.decode()
    with scopes_disabled():
        assert SavedView.objects.get(pk=theirs.pk).name == "Tech2's view"
        assert SavedView.objects.get(pk=bravo_view.pk).name == "Bravo view"
        assert SavedView.objects.filter(user=p.tech_a.user).count() == 1


def test_a_view_whose_filters_stopped_working_says_why(personas):
    p = personas
    client = signed_in("manager@alpha.test")
    _save(client, "Tech2's tickets", f"view=all&assignee={p.tech2_a.user.public_id}")
    [saved] = _views(p.company_a)
    with scopes_disabled():
        p.tech2_a.membership.is_active = False
        p.tech2_a.membership.save()
    body = client.get("/app/").content.decode()
    assert _count(body, saved) == "–"
    assert "These filters no longer work: Assignee: Select a valid choice." in body


def test_saved_view_names_are_escaped_everywhere(personas):
    p = personas
    client = signed_in("tech1@alpha.test")
    response = _save(client, XSS, "view=all&category=%3Cb%3Ex%3C%2Fb%3E")
    assert response.status_code == 302
    body = client.get(response["Location"]).content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body and "<b>x</b>" not in body
    assert "&lt;script&gt;alert" in body
    assert 'data-confirm="Delete the saved view “&lt;script&gt;' in body
    [saved] = _views(p.company_a)
    clash = _save(client, XSS, "view=all")
    assert "<script>alert" not in clash.content.decode()
    rename = client.post(f"/app/views/{saved.public_id}/rename", {"name": XSS + "!"})
    assert "<script>alert" not in client.get(rename["Location"]).content.decode()


def test_the_queue_takes_the_same_queries_with_no_or_many_saved_views(personas):
    p = personas
    for n in range(4):
        ticket(p.company_a, p.client_a, f"Ticket {n}", priority="high" if n % 2 else "low",
               assignee=p.tech_a.user if n % 3 else None)
    client = signed_in("tech1@alpha.test")
    client.get("/app/?view=all")  # warm the session
    with CaptureQueriesContext(connection) as none:
        assert client.get("/app/?view=all").status_code == 200
    queries = ["view=all&priority=high", "view=unassigned",
               f"view=all&client={p.client_a.public_id}",
               f"view=all&assignee={p.tech_a.user.public_id}", "view=mine&q=Ticket",
               "view=all&category=network&sla_state=running&status=new"]
    for n, query in enumerate(queries):
        assert _save(client, f"View {n}", query).status_code == 302
    with CaptureQueriesContext(connection) as many:
        response = client.get("/app/?view=all")
    assert len(many) == len(none), [q["sql"][:150] for q in many.captured_queries]
    body = response.content.decode()
    counts = [_count(body, v) for v in _views(p.company_a)]
    assert counts == ["2", "2", "4", "2", "2", "0"]


@pytest.mark.parametrize("role", ROLES)
def test_every_saved_view_page_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    client = signed_in(persona.email)
    may = allowed(persona.role, "tickets.view")
    response = _save(client, "Mine", "view=all")
    assert response.status_code == (302 if may else 403)
    if not may:
        assert "does not allow this page" in response.content.decode()
        assert _views(p.company_a) == []
        with scope(company=p.company_a.pk):
            SavedView.objects.create(company=p.company_a, user=persona.user, name="Mine",
                                     query="view=all", position=1)
    [saved] = _views(p.company_a)
    base = f"/app/views/{saved.public_id}"
    for url, data in ((base + "/rename", {"name": "Renamed"}),
                      (base + "/move", {"direction": "down"}), (base + "/delete", {})):
        response = client.post(url, data)
        assert response.status_code == (302 if may else 403), (role, url)
    assert (_views(p.company_a) == []) is may


def test_saved_view_pages_take_posts_only_with_the_csrf_token(personas):
    client = signed_in("tech1@alpha.test", csrf=True)
    assert _save(client, "Mine", "view=all").status_code == 403
    assert client.get("/app/views/new").status_code in (403, 405)
    assert _views(personas.company_a) == []
