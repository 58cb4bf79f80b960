from django_scopes import scope

from nestogy.tickets.actions import create_ticket
from tests.support.admin_forms import login, operator


def test_ticket_admin_lists_sla_state_and_due_times_for_operators(personas):
    p = personas
    with scope(company=p.company_a.pk):
        create_ticket(p.company_a, {"client": p.client_a, "subject": "Alpha printer"})
    with scope(company=p.company_b.pk):
        create_ticket(p.company_b, {"client": p.client_b, "subject": "Bravo printer"})
    http = operator()
    page = http.get("/admin/tickets/ticket/")
    assert page.status_code == 200
    assert b"Alpha printer" in page.content and b"Bravo printer" in page.content
    assert b"Resolution due at" in page.content and b"Sla state" in page.content
    for url in ("/admin/sla/slapolicy/", "/admin/sla/businesscalendar/",
                "/admin/tickets/escalation/"):
        assert http.get(url).status_code == 200, url
    # a company's manager works in the workspace, not here
    assert login("manager@alpha.test").get("/admin/tickets/ticket/").status_code == 302
