"""Demo saved queue views: each demo technician and manager starts with a few of their own,
chosen from the demo's open tickets so that each one lists something."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlencode

from nestogy.tickets.models import CLOSED_STATUSES, Ticket
from nestogy.workspace import actions, filters


def seed_saved_views(company, context: dict, rng, report) -> None:
    """Saved views for the company's technicians and manager (after the service desk)."""
    by_client, by_priority = Counter(), Counter()
    for client_id, priority in (Ticket.objects.exclude(status__in=CLOSED_STATUSES)
                                .values_list("client_id", "priority")):
        by_client[client_id] += 1
        by_priority[priority] += 1
    wanted = []
    for priority, label in (("critical", "Critical"), ("high", "High priority")):
        if by_priority[priority]:
            wanted.append((f"{label}, all open", {"view": "all", "priority": priority}))
            break
    clients = {c.pk: c for c in context.get("clients", [])}
    for client_id, _ in by_client.most_common(2):
        if client_id in clients:
            name = f"{clients[client_id].name}: open"[:actions.NAME_LENGTH]
            wanted.append((name, {"view": "all", "client": clients[client_id].public_id}))
    sources = filters.Sources()
    made = 0
    for membership in context.get("staff", []):
        if membership.role not in ("technician", "manager"):
            continue
        for name, query in wanted:
            actions.create_saved_view(company, membership.user, name, urlencode(query),
                                      sources=sources)
            made += 1
    report(f"  {company.name}: {made} saved queue views")
