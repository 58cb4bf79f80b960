"""The client statement: invoices, credit notes, payments and refunds with a running balance.

Amounts the client owes are debits (invoices, refunds paid out to them), amounts in their
favour are credits (payments, credit notes). The running balance is debits minus credits:
positive = the client owes that much; negative = the client has that much credit.
Draft and void invoices are not on a statement. Rendered to PDF with WeasyPrint from
``payments/statement.html``; also registered as attachment builder ``client_statement``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string

from nestogy.billing.models import Invoice
from nestogy.core import attachments
from nestogy.core.money import money_str
from nestogy.core.pdf import render_pdf
from nestogy.payments.models import Payment, Refund
from nestogy.tenancy.queries import logo_data_url

ZERO = Decimal(0)


@dataclass(frozen=True)
class Line:
    date: date
    kind: str
    reference: str
    description: str
    debit: Decimal
    credit: Decimal


def statement_lines(client, currency: str) -> list[Line]:
    tz = ZoneInfo(client.company.timezone or "UTC")
    lines: list[Line] = []
    invoices = (Invoice.objects.filter(client=client, currency=currency)
                .exclude(status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])
                .values_list("kind", "number", "issue_date", "total", "due_date"))
    for kind, number, issued, total, due in invoices:
        if kind == Invoice.Kind.CREDIT_NOTE:
            lines.append(Line(issued, "credit_note", number or "", "Credit note", ZERO, total))
        else:
            lines.append(Line(issued, "invoice", number or "",
                              f"Invoice, due {due:%Y-%m-%d}" if due else "Invoice", total, ZERO))
    for received, method, reference, amount, public_id in (
            Payment.objects.filter(client=client, currency=currency)
            .values_list("received_at", "method", "reference", "amount", "public_id")):
        label = Payment.Method(method).label
        lines.append(Line(received.astimezone(tz).date(), "payment", reference or public_id,
                          f"Payment ({label})", ZERO, amount))
    for created, amount, public_id, reason in (
            Refund.objects.filter(payment__client=client, payment__currency=currency)
            .values_list("created_at", "amount", "public_id", "reason")):
        lines.append(Line(created.astimezone(tz).date(), "refund", public_id,
                          f"Refund{': ' + reason if reason else ''}", amount, ZERO))
    order = {"invoice": 0, "credit_note": 1, "refund": 2, "payment": 3}
    lines.sort(key=lambda ln: (ln.date, order[ln.kind], ln.reference))
    return lines


def statement_context(client, currency: str | None = None, *,
                      today: date | None = None) -> dict:
    from nestogy.tenancy.queries import company_today

    company = client.company
    currency = (currency or company.currency).upper()
    balance = ZERO
    rows = []
    for line in statement_lines(client, currency):
        balance += line.debit - line.credit
        rows.append({"date": line.date, "kind": line.kind, "reference": line.reference,
                     "description": line.description,
                     "debit": money_str(line.debit, currency) if line.debit else "",
                     "credit": money_str(line.credit, currency) if line.credit else "",
                     "balance": money_str(balance, currency)})
    return {"company": company, "client": client, "currency": currency, "rows": rows,
            "balance": money_str(balance, currency), "owes": balance > 0,
            "credit": money_str(-balance, currency) if balance < 0 else "",
            "today": today or company_today(company),
            "logo_data_url": logo_data_url(company)}


def statement_html(client, currency: str | None = None) -> str:
    return render_to_string("payments/statement.html", statement_context(client, currency))


def statement_pdf(client, currency: str | None = None) -> bytes:
    """The statement as PDF (nothing fetched but embedded data and static files)."""
    return render_pdf(statement_html(client, currency))


def _build(client_id: int, currency: str | None = None) -> attachments.Attachment:
    from nestogy.clients.models import Client

    client = Client.objects.select_related("company").get(pk=client_id)
    return attachments.Attachment(filename=f"statement-{client.public_id}.pdf",
                                  content=statement_pdf(client, currency),
                                  mimetype="application/pdf")


attachments.register("client_statement", _build)
