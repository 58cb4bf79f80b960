"""A checker run's SLA alerts reach each recipient as ONE message per channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django_scopes import scope, scopes_disabled

from nestogy.notifications.models import (
    Delivery,
    Notification,
    Preference,
    StoredEvent,
    WebhookEndpoint,
)
from nestogy.tickets import escalation
from nestogy.tickets.actions import create_ticket
from nestogy.tickets.events import DIGEST_LINES, sla_digest_context

MON_9 = datetime(2025, 3, 3, 14, tzinfo=UTC)  # Monday 09:00 in New York (company A)
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                         "QUEUES": []}}


def _open(p, count, *, spacing=timedelta(seconds=10), assignee=None):
    tickets = []
    for i in range(count):
        with time_machine.travel(MON_9 + i * spacing, tick=False), \
                scope(company=p.company_a.pk):
            tickets.append(create_ticket(p.company_a, {
                "client": p.client_a, "subject": f"Server {i:03d} down", "priority": "high",
                "assignee": assignee}))
    return tickets


def _email_and_inapp(p, *users):
    with scope(company=p.company_a.pk):
        for user in users:
            for event_type in ("sla.warning", "sla.breached", "ticket.escalated"):
                for channel in ("email", "inapp"):
                    Preference.objects.create(company=p.company_a, user=user,
                                              event_type=event_type, channel=channel,
                                              enabled=True)


def _run(p, at, settings, capture):
    settings.TASKS = IMMEDIATE
    with time_machine.travel(at, tick=False), capture(execute=True):
        return escalation.check_company(p.company_a)


def test_500_breaches_give_each_manager_one_message_per_channel(
        personas, settings, django_capture_on_commit_callbacks, mailoutbox):
    p = personas
    _email_and_inapp(p, p.manager_a.user)
    tickets = _open(p, 500)  # opened 10 s apart: the first is the longest overdue
    with scopes_disabled():
        Delivery.objects.all().delete()
    mailoutbox.clear()
    # 11:30: first response (2 h) is breached for the tickets opened before 9:30 (the first
    # 180) and at its warning (96 min) for those opened before 9:54 (the first 325).
    report = _run(p, MON_9 + timedelta(hours=2, minutes=30), settings,
                  django_capture_on_commit_callbacks)
    assert (report.breaches, report.warnings) == (180, 325)
    with scopes_disabled():
        to_manager = Delivery.objects.filter(recipient_user=p.manager_a.user)
        assert sorted(to_manager.values_list("channel", "event_type")) == [
            ("email", "sla.digest"), ("inapp", "sla.digest")]
        assert set(to_manager.values_list("status", flat=True)) == {"sent"}
        inbox = Notification.objects.get(user=p.manager_a.user)
    mails = [m for m in mailoutbox if m.to == ["manager@alpha.test"]]
    assert len(mails) == 1
    # The manager hears of breaches (level 2) and, as a dispatcher, of the unassigned
    # tickets' warnings: breaches first, the longest overdue first, capped with a link.
    assert mails[0].subject == "SLA: 180 breaches, 325 warnings on 325 tickets"
    lines = [line for line in mails[0].body.splitlines() if line.startswith("- #")]
    assert len(lines) == DIGEST_LINES
    numbers = [int(line[3:].split()[0]) for line in lines]
    assert numbers == [t.number for t in tickets[:DIGEST_LINES]]
    assert all("first response breached" in line for line in lines)
    assert "... and 485 more." in mails[0].body
    assert "/app/?view=breached" in mails[0].body
    assert inbox.title == mails[0].subject
    # Owners and admins (dispatchers) get the warnings in one message each, too.
    with scopes_disabled():
        for user in (p.owner_a.user, p.admin_a.user):
            rows = list(Delivery.objects.filter(recipient_user=user)
                        .values_list("channel", "event_type"))
            assert rows and {t for _, t in rows} == {"sla.digest"}
            assert len({c for c, _ in rows}) == len(rows)  # one per channel


def test_a_single_breach_reads_as_a_single_alert(
        personas, settings, django_capture_on_commit_callbacks, mailoutbox):
    p = personas
    (ticket,) = _open(p, 1, assignee=p.tech_a.user)
    with scopes_disabled():
        Delivery.objects.all().delete()
    mailoutbox.clear()
    _run(p, MON_9 + timedelta(minutes=100), settings, django_capture_on_commit_callbacks)
    _run(p, MON_9 + timedelta(hours=2, minutes=1), settings,
         django_capture_on_commit_callbacks)
    with scopes_disabled():
        assert not StoredEvent.objects.filter(type="sla.digest").exists()
        kinds = set(Delivery.objects.values_list("event_type", "recipient_user_id"))
    assert kinds == {("sla.breached", p.manager_a.user.pk), ("sla.warning", p.tech_a.user.pk)}
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert subjects["manager@alpha.test"] == \
        f"[#{ticket.number}] SLA breached (first response): Server 000 down"
    assert subjects["tech1@alpha.test"] == \
        f"[#{ticket.number}] SLA warning (first response): Server 000 down"


def test_webhooks_get_every_alert_of_a_run_in_one_batch_payload(personas):
    p = personas
    with scope(company=p.company_a.pk):
        WebhookEndpoint.objects.create(company=p.company_a, name="PSA bridge",
                                       url="https://hooks.example.test/sla", secret="s3cret")
    _open(p, 30)
    with scopes_disabled():
        Delivery.objects.all().delete()
    with time_machine.travel(MON_9 + timedelta(hours=2, minutes=30), tick=False):
        report = escalation.check_company(p.company_a)
    fired = report.warnings + report.breaches + report.escalations
    with scopes_disabled():
        hooks = Delivery.objects.filter(channel="webhook")
        assert hooks.count() == 1
        payload = hooks.get().event.context
    assert hooks.get().event_type == "sla.digest"
    assert len(payload["items"]) == payload["count"] == fired == 60
    assert payload["items"][0]["kind"] == "breached"


def test_digest_orders_breaches_first_then_longest_overdue():
    alerts = [
        ("sla.warning", {"number": 1, "due_at": "2025-03-03T10:00:00+00:00"}),
        ("sla.breached", {"number": 2, "due_at": "2025-03-03T12:00:00+00:00"}),
        ("ticket.escalated", {"number": 3, "due_at": "2025-03-03T09:00:00+00:00"}),
        ("sla.breached", {"number": 4, "due_at": "2025-03-03T11:00:00+00:00"}),
    ] + [("sla.warning", {"number": 100 + i, "due_at": "2025-03-04T00:00:00+00:00"})
         for i in range(30)]
    context = sla_digest_context(alerts)
    assert [line["number"] for line in context["lines"][:5]] == [3, 4, 2, 1, 100]
    assert len(context["lines"]) == DIGEST_LINES and context["more"] == 34 - DIGEST_LINES
    assert "items" not in context
    assert (context["breaches"], context["escalations"], context["warnings"]) == (2, 1, 31)
