"""A payment reminder from the billing staff: what a client owes, by e-mail, with its
statement attached, through the notifications outbox (``client.payment_reminder``)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from nestogy.audit.actions import log_action
from nestogy.audit.queries import last_done
from nestogy.billing.queries import days_past_due, open_invoices
from nestogy.core.errors import Conflict
from nestogy.core.events import emit
from nestogy.core.money import money_str
from nestogy.tenancy.queries import company_today

REMINDER = "client.payment_reminder"


@transaction.atomic
def send_payment_reminder(client, *, currency: str | None = None, actor=None) -> dict:
    """Remind ``client`` of its open invoices in ``currency`` (its earliest open invoice's
    currency when not given). Refused (409) when it owes nothing. Returns the event data."""
    invoices = list(open_invoices(client).filter(balance__gt=0))
    if currency:
        invoices = [i for i in invoices if i.currency == currency]
    if not invoices:
        raise Conflict(f"{client.name} owes nothing" + (f" in {currency}" if currency else ""))
    currency = invoices[0].currency
    invoices = [i for i in invoices if i.currency == currency]
    today = company_today(client.company)
    balance = sum((i.balance for i in invoices), Decimal(0))
    late = {i.pk: days_past_due(i, today) for i in invoices}
    data = {
        "client_id": client.pk, "currency": currency, "balance": money_str(balance, currency),
        "count": len(invoices), "overdue_count": sum(1 for d in late.values() if d),
        "oldest_days_late": max(late.values(), default=0),
        "invoices": [{"number": i.number, "due_date": i.due_date.isoformat()
                      if i.due_date else None,
                      "balance": money_str(i.balance, currency),
                      "days_late": late[i.pk]} for i in invoices],
        "attachments": [{"builder": "client_statement", "client_id": client.pk,
                         "currency": currency}],
    }
    log_action(client, REMINDER, actor=actor,
               data={"currency": currency, "balance": data["balance"],
                     "invoices": [i.number for i in invoices]})
    emit(REMINDER, company_id=client.company_id, actor=actor, data=data)
    return data


def last_reminded(public_ids) -> dict[str, object]:
    """When each of these clients (public ids) was last sent a reminder (id → time)."""
    from nestogy.clients.models import Client

    return last_done(REMINDER, Client, list(public_ids))
