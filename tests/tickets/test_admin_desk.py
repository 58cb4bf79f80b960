from django_scopes import scope

from nestogy.tickets.actions import create_ticket
from tests.support.admin_forms import login


def test_ticket_admin_lists_sla_state_and_due_times_of_own_company(personas):
    p = personas
    with scope(company=p.company_a.pk):
        create_ticket(p.company_a, {"client": p.client_a, "subject": "Alpha printer"})
    with scope(company=p.company_b.pk):
        create_ticket(p.company_b, {"client": p.client_b, "subject": "Bravo printer"})
    http = login("manager@alpha.test")
    page = http.get("/admin/tickets/ticket/")
    assert page.status_code == 200
    assert b"Alpha printer" in page.content and b"Bravo printer" not in page.content
    assert b"Resolution due at" in page.content and b"Sla state" in page.content
    for url in ("/admin/sla/slapolicy/", "/admin/sla/businesscalendar/",
                "/admin/tickets/escalation/"):
        assert http.get(url).status_code == 200, url
    assert login("tech1@alpha.test").get("/admin/sla/slapolicy/add/").status_code == 403
