"""Demo dispatch: what the dispatch board needs to be worth opening.

- the skills each ticket category requires (routing's category table);
- working calendars for the technicians: two on the 24x7 NOC rota, the others on a day or a
  late weekday shift in the company's time zone;
- absences: one technician away for a few hours today (training), one on holiday this week;
- fresh work: unassigned tickets that just came in, one unassigned ticket that has already
  breached, and an assigned critical ticket on a premium client that is about to breach.

Runs after the service desk (it reuses the 24x7 calendar and the premium clients).
"""

from __future__ import annotations

from datetime import timedelta

from nestogy.core.timeutil import now as utc_now
from nestogy.routing.actions import add_out_of_office, set_category_table, set_technician_calendar
from nestogy.sla.actions import create_calendar
from nestogy.sla.models import BusinessCalendar
from nestogy.tickets.actions import create_ticket

CATEGORY_SKILLS = {
    "networking": {"networking": 3},
    "firewall": {"firewall": 3},
    "security": {"security": 3},
    "backup": {"backup": 2},
    "printers": {"printers": 2},
    "microsoft365": {"microsoft365": 2},
    "windows": {"windows": 2},
    "hardware": {"hardware": 2},
    "linux": {"linux": 3},
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

# (subject, category, priority, minutes ago, client index)
FRESH = [
    ("Wi-Fi drops in the meeting rooms", "networking", "high", 12, 3),
    ("New hire needs a Microsoft 365 licence", "microsoft365", "medium", 25, 4),
    ("Label printer prints blank pages", "printers", "low", 40, 5),
    ("Nightly backup to the NAS failed", "backup", "high", 8, 6),
    ("Suspicious sign-in alert for the CFO", "security", "critical", 5, 0),
    ("Laptop fan very loud", "hardware", "low", 55, 7),
    ("Firewall rule for the new VoIP provider", "firewall", "medium", 18, 1),
]


def seed_dispatch(company, context, rng, report) -> None:
    owner = context["owner"].user
    clients = context["clients"]
    technicians = [m.user for m in context["staff"] if m.role == "technician"]
    set_category_table(company, sorted(CATEGORY_SKILLS.items()), actor=owner)
    tz = company.timezone
    noc = BusinessCalendar.objects.filter(is_24x7=True).order_by("id").first()
    day = create_calendar(company, {"name": "Day shift", "timezone": tz,
                                    "hours": {d: [["08:00", "17:00"]] for d in WEEKDAYS}},
                          actor=owner)
    late = create_calendar(company, {"name": "Late shift", "timezone": tz,
                                     "hours": {d: [["12:00", "21:00"]] for d in WEEKDAYS}},
                           actor=owner)
    for i, user in enumerate(technicians):
        calendar = noc if i < 2 and noc is not None else (day if i % 2 == 0 else late)
        set_technician_calendar(company, user, calendar, actor=owner)
    now = utc_now()
    if len(technicians) >= 4:
        add_out_of_office(technicians[3], company, now - timedelta(hours=1),
                          now + timedelta(hours=3), "Firewall vendor training", actor=owner)
    if len(technicians) >= 6:
        add_out_of_office(technicians[-1], company, now - timedelta(days=1),
                          now + timedelta(days=5), "Holiday", actor=owner)
    count = 0
    for subject, category, priority, minutes, index in FRESH:
        client = clients[index % len(clients)]
        create_ticket(company, {"client": client, "contact": client.contacts.order_by("id")
                                .first(), "subject": subject, "category": category,
                                "priority": priority,
                                "opened_at": now - timedelta(minutes=minutes)}, actor=owner)
        count += 1
    # Already breached and still nobody's: the board puts it first.
    premium = clients[0]
    create_ticket(company, {"client": premium, "contact": premium.contacts.order_by("id")
                            .first(), "subject": "Email server rejecting all mail",
                            "category": "microsoft365", "priority": "high",
                            "opened_at": now - timedelta(hours=3)}, actor=owner)
    # Assigned, but the premium first-response clock is about to run out: at risk.
    if technicians:
        create_ticket(company, {"client": clients[1 % len(clients)], "subject":
                                "Point-of-sale terminals offline",
                                "category": "networking", "priority": "critical",
                                "assignee": technicians[0],
                                "opened_at": now - timedelta(minutes=10)}, actor=owner)
        count += 1
    count += 1
    context["counts"]["tickets"] = context["counts"].get("tickets", 0) + count
    report(f"  {company.name}: dispatch board ready ({count} fresh tickets, shifts, absences)")
