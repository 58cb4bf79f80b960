"""Demo service desk: a 24x7 premium policy and tickets with realistic history per client.

Tickets are created through the import path (``import_ticket``), replaying a history of
replies and status changes, so their SLA figures come from the same clock engine as live
tickets: some were answered and resolved on time, some late, some are still open.
"""

from __future__ import annotations

from datetime import timedelta

from nestogy.core.timeutil import now as utc_now
from nestogy.sla.actions import create_calendar, create_policy, set_client_policy
from nestogy.tickets.actions import import_ticket

SUBJECTS = [
    ("Outlook keeps asking for password", "microsoft365", "medium"),
    ("Printer on 2nd floor offline", "printers", "low"),
    ("VPN drops every 10 minutes", "networking", "high"),
    ("Server room UPS beeping", "hardware", "high"),
    ("New starter needs laptop and accounts", "windows", "medium"),
    ("Phishing email clicked by staff", "security", "critical"),
    ("Backup job failed last night", "backup", "high"),
    ("Shared drive very slow", "networking", "medium"),
    ("Cannot print PDFs from accounting app", "printers", "low"),
    ("Firewall blocking supplier portal", "firewall", "high"),
]
PREMIUM_TARGETS = {
    "critical": {"first_response_minutes": 15, "resolution_minutes": 120},
    "high": {"first_response_minutes": 30, "resolution_minutes": 240},
    "medium": {"first_response_minutes": 60, "resolution_minutes": 480},
    "low": {"first_response_minutes": 120, "resolution_minutes": 960},
}


def _history(rng, opened, now, story) -> list[dict]:
    """A plausible history for one of the stories (times never pass ``now``)."""
    events: list[dict] = []
    t = opened

    def at(minutes):
        nonlocal t
        t = min(t + timedelta(minutes=minutes), now)
        return t.isoformat()

    if story == "unanswered":
        return events
    reply_after = rng.randint(5, 90) if story != "slow" else rng.randint(300, 2000)
    if rng.random() < 0.3:
        events.append({"at": at(rng.randint(1, 5)), "type": "reply", "public": False,
                       "body": "Looking into it (internal)."})
    events.append({"at": at(reply_after), "type": "reply", "public": True,
                   "body": "Thanks, we're on it."})
    events.append({"at": at(rng.randint(1, 30)), "type": "status", "status": "in_progress"})
    if story == "open":
        return events
    if story == "awaiting":  # asked the client something; paused until they answer
        events.append({"at": at(rng.randint(10, 120)), "type": "reply", "public": True,
                       "body": "Could you send us a screenshot of the error?"})
        events.append({"at": at(1), "type": "status", "status": "waiting_on_client"})
        return events
    if story in {"waiting", "reopened"}:
        events.append({"at": at(rng.randint(30, 240)), "type": "status",
                       "status": "waiting_on_client"})
        events.append({"at": at(rng.randint(60, 1500)), "type": "reply", "public": True,
                       "author": "contact", "body": "Here is the info you asked for."})
        events.append({"at": at(1), "type": "status", "status": "in_progress"})
    resolve_after = rng.randint(60, 600) if story != "slow" else rng.randint(900, 4000)
    events.append({"at": at(resolve_after), "type": "status", "status": "resolved"})
    if story == "reopened":
        events.append({"at": at(rng.randint(60, 900)), "type": "status", "status": "open"})
        events.append({"at": at(rng.randint(60, 600)), "type": "status", "status": "resolved"})
    if rng.random() < 0.5:
        events.append({"at": at(rng.randint(600, 3000)), "type": "status", "status": "closed"})
    return events


def seed_service_desk(company, context, rng, report) -> None:
    owner = context["owner"]
    clients = context["clients"]
    technicians = [m.user for m in context["staff"] if m.role == "technician"]
    calendar = create_calendar(company, {"name": "24x7 NOC", "timezone": company.timezone,
                                         "is_24x7": True}, actor=owner.user)
    premium = create_policy(company, {"name": "Premium 24x7", "calendar": calendar,
                                      "targets": PREMIUM_TARGETS, "warning_percent": 75},
                            actor=owner.user)
    for client in clients[:3]:
        set_client_policy(client, premium, actor=owner.user)
    now = utc_now()
    count = 0
    for client in clients:
        contact = client.contacts.order_by("id").first()
        for _ in range(rng.randint(2, 5)):
            subject, category, priority = rng.choice(SUBJECTS)
            story = rng.choices(["fast", "slow", "waiting", "reopened", "open", "unanswered",
                                 "awaiting"], weights=[5, 2, 2, 1, 3, 1, 1])[0]
            if story in {"open", "unanswered", "awaiting"}:  # recent, still open
                opened = now - timedelta(minutes=rng.randint(20, 3 * 24 * 60))
            else:
                opened = now - timedelta(minutes=rng.randint(3 * 24 * 60, 30 * 24 * 60))
            events = _history(rng, opened, now, story)
            import_ticket(company, {
                "client": client, "contact": contact, "subject": subject,
                "category": category, "priority": priority, "opened_at": opened,
                "assignee": rng.choice(technicians) if technicians and rng.random() < 0.8
                else None,
            }, events, actor=owner.user)
            count += 1
    context["counts"]["tickets"] = context["counts"].get("tickets", 0) + count
    report(f"  {company.name}: {count} tickets with SLA history")
