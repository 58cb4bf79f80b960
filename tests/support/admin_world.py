"""A company's worth of objects for the admin suites: at least one row of every model the
admin forms point at (tickets with a public reply and an internal note, a contract with
items, an issued invoice, a payment, a card on file, a webhook endpoint, absences, an
invitation, and the outbox rows the ticket's event wrote)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from django_scopes import scope

INTERNAL_NOTE = "INTERNAL-NOTE: the firewall password is on the sticky note"


def build(company, *, client, contact, tech, invitee_email: str) -> SimpleNamespace:
    from nestogy.accounts.actions import invite_member
    from nestogy.accounts.models import User
    from nestogy.billing.actions import create_invoice, issue_invoice
    from nestogy.clients.actions import create_site
    from nestogy.contracts.actions import create_contract, record_usage, set_item_quantity
    from nestogy.notifications.models import WebhookEndpoint
    from nestogy.payments.models import PaymentMethodOnFile
    from nestogy.payments.recording import record_client_payment
    from nestogy.routing.actions import add_out_of_office, set_technician_calendar
    from nestogy.sla.models import BusinessCalendar
    from nestogy.tickets.actions import add_reply, create_ticket
    from nestogy.timesheets.actions import add_entry, create_work_type, start_timer

    w = SimpleNamespace()
    if not User.objects.filter(email=invitee_email).exists():
        User.objects.create_user(invitee_email)
    with scope(company=company.pk):
        w.site = create_site(client, {"name": f"{company.name} server room"})
        w.ticket = create_ticket(company, {"client": client, "contact": contact,
                                           "site": w.site, "subject": "Printer jam",
                                           "assignee": tech})
        w.reply = add_reply(w.ticket, "We are on it.", public=True, actor=tech)
        w.note = add_reply(w.ticket, INTERNAL_NOTE, public=False, actor=tech)
        w.work_type = create_work_type(company, {"name": "Remote support"})
        w.time = add_entry(company, tech, {"ticket": w.ticket, "work_type": w.work_type,
                                           "started_at": datetime(2025, 1, 6, 9, tzinfo=UTC),
                                           "duration": "45m", "note": "Cleared the jam"})
        w.timer = start_timer(company, tech, ticket=w.ticket).timer
        w.contract = create_contract(company, client, {
            "name": "Managed", "start_date": "2025-01-01", "billing_cycle": "monthly",
            "items": [{"kind": "fixed", "description": "Seats", "quantity": "2",
                       "unit_price": "10"},
                      {"kind": "metered", "description": "Backup", "metric": "GB",
                       "pricing": {"mode": "volume",
                                   "tiers": [{"up_to": None, "unit_price": "0.1"}]}}]})
        fixed, metered = w.contract.items.order_by("position")
        set_item_quantity(fixed, "3", "2025-02-01")
        record_usage(metered, {"quantity": "1.5", "occurred_at": "2025-01-10T10:00:00+00:00",
                               "idempotency_key": f"world-{company.pk}"})
        w.invoice = create_invoice(company, client,
                                   {"items": [{"description": "Setup", "unit_price": "50"}]})
        issue_invoice(w.invoice)
        w.payment = record_client_payment(client, {"amount": "10.00", "method": "check"})
        w.card = PaymentMethodOnFile.objects.create(
            company=company, client=client, customer_reference=f"cus_{company.pk}",
            payment_method_reference=f"pm_{company.pk}", brand="visa", last4="4242")
        w.webhook = WebhookEndpoint.objects.create(company=company, name="Ops",
                                                   url="https://hooks.example.test/n",
                                                   secret="s")
        w.absence = add_out_of_office(tech, company, datetime(2026, 8, 1, tzinfo=UTC),
                                      datetime(2026, 8, 8, tzinfo=UTC))
        set_technician_calendar(company, tech, BusinessCalendar.objects.first())
        w.invitation = invite_member(company, email=invitee_email, role="technician")
    return w
