import pytest
from django_scopes import scopes_disabled

from nestogy.ops.demo import seed_demo
from nestogy.tickets.models import Ticket


@pytest.mark.django_db
def test_demo_seeds_tickets_with_sla_history():
    lines = []
    result = seed_demo(report=lines.append)
    assert result.counts["tickets"] >= 2 * 31
    with scopes_disabled():
        states = set(Ticket.objects.values_list("sla_state", flat=True))
        assert {"met", "running"} <= states or {"met", "warning"} <= states
        assert Ticket.objects.filter(first_response_breached=True).exists()
        assert Ticket.objects.filter(status__in=["resolved", "closed"]).exists()
        assert Ticket.objects.filter(policy__name="Premium 24x7").exists()
    assert any("tickets with SLA history" in line for line in lines)
