"""Demo time: the four usual work types and two weeks of technicians' time on demo tickets.

Each demo technician logs a working day's worth of entries (about five to seven and a half
hours, in 15-minute to 2-hour blocks, on tickets opened before the work) on every weekday of
the last two weeks in the company's time zone, with the occasional on-site visit, project
block, evening after-hours call and non-billable warranty rework. The first technician has
a timer running on one of their open tickets. Everything goes through the actions (validated
and audited), with its own seeded random generator so the other demo steps stay as they are.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from nestogy.core.timeutil import now as utc_now
from nestogy.core.timeutil import today_in
from nestogy.tickets.models import CLOSED_STATUSES, Ticket
from nestogy.timesheets import actions
from nestogy.timesheets.models import RunningTimer, TimeEntry

NOTES = {
    "Remote support": ["Remote session: cleared the print queue and reinstalled the driver",
                       "Reset MFA and walked the user through sign-in",
                       "Checked mailbox rules, removed a forwarding rule",
                       "Patched and rebooted the server after hours window was agreed",
                       "Reviewed the backup job log, re-ran the failed job",
                       "Called the user back, confirmed the fix", ""],
    "On-site": ["On site: replaced the switch in the comms cabinet",
                "On site: set up the new reception PC and label printer",
                "Traced the cabling fault to a damaged patch lead"],
    "Project": ["Microsoft 365 migration: moved five mailboxes",
                "Firewall replacement: staged the config",
                "Documented the network for the handover"],
    "After hours": ["Evening call: VPN down for the remote team, restarted the tunnel",
                    "After-hours server restore from last night's backup"],
}


def seed_time(company, context, _rng, report) -> None:
    rng = random.Random(f"time-{company.slug}")
    types = {w.name: w for w in actions.ensure_standard_work_types(company)}
    technicians = [m.user for m in context["staff"] if m.role == "technician"]
    tickets = list(Ticket.objects.select_related("client").order_by("opened_at", "id"))
    if not technicians or not tickets:
        return
    tz = company.timezone or "UTC"
    zone = ZoneInfo(tz)
    now = utc_now()
    today = today_in(tz)
    count = 0
    for tech in technicians:
        theirs = [t for t in tickets if t.assignee_id == tech.pk] or tickets
        for back in range(14, -1, -1):
            day = today - timedelta(days=back)
            if day.weekday() >= 5:
                continue
            moment = datetime.combine(day, time(8, rng.choice((0, 15, 30))), zone)
            budget = rng.randint(20, 30) * 15 * 60  # 5 h to 7.5 h of logged work
            while budget > 0:
                minutes = rng.choice((15, 15, 20, 30, 30, 45, 60, 60, 90, 120))
                started = moment
                finished = started + timedelta(minutes=minutes)
                if finished > now or started.astimezone(zone).hour >= 18:
                    break
                open_before = [t for t in theirs if t.opened_at <= started] or \
                    [t for t in tickets if t.opened_at <= started]
                if not open_before:
                    moment = finished + timedelta(minutes=15)
                    continue
                ticket = rng.choice(open_before[-25:])
                kind = rng.choices(["Remote support", "On-site", "Project"],
                                   weights=[75, 12, 13])[0]
                billable = True
                note = rng.choice(NOTES[kind])
                if rng.random() < 0.1:
                    billable, note = False, "Warranty rework: redid the earlier fix"
                actions.add_entry(company, tech, {
                    "ticket": ticket, "started_at": started, "duration": minutes * 60,
                    "work_type": types[kind], "billable": billable, "note": note},
                    actor=tech)
                count += 1
                budget -= minutes * 60
                moment = finished + timedelta(minutes=rng.choice((5, 10, 15, 30, 45)))
            evening = datetime.combine(day, time(20, 30), zone)
            earlier = [t for t in tickets if t.opened_at <= evening]
            if rng.random() < 0.15 and earlier and evening + timedelta(hours=2) <= now:
                actions.add_entry(company, tech, {
                    "ticket": rng.choice(earlier[-40:]), "started_at": evening,
                    "duration": rng.choice((45, 60, 90)) * 60,
                    "work_type": types["After hours"],
                    "note": rng.choice(NOTES["After hours"])}, actor=tech)
                count += 1
    first = technicians[0]
    open_tickets = [t for t in tickets if t.assignee_id == first.pk
                    and t.status not in CLOSED_STATUSES]
    if open_tickets and not RunningTimer.objects.filter(user=first).exists():
        started = actions.start_timer(company, first, ticket=open_tickets[-1],
                                      work_type=types["Remote support"], actor=first)
        RunningTimer.objects.filter(pk=started.timer.pk).update(
            started_at=now - timedelta(minutes=25))
    context["counts"]["time entries"] = context["counts"].get("time entries", 0) + count
    report(f"  {company.name}: {TimeEntry.objects.count()} time entries, "
           f"{len(types)} work types")
