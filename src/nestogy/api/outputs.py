"""Response bodies shared by several routers (an invoice is answered by /invoices and by the
payment endpoints), so no router imports another."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema

from nestogy.billing.models import Invoice
from nestogy.core.money import money_str


class LineOut(Schema):
    id: str
    kind: str
    description: str
    quantity: str
    unit_price: str
    amount: str
    taxable: bool
    tax_rate: str
    service_start: date | None
    service_end: date | None


class InvoiceOut(Schema):
    id: str
    number: str | None
    kind: str
    status: str
    client_id: str
    contract_id: str | None
    credits_id: str | None
    currency: str
    issue_date: date | None
    due_date: date | None
    period_start: date | None
    period_end: date | None
    lines: list[LineOut]
    subtotal: str
    tax: str
    total: str
    amount_paid: str
    balance: str
    sent_at: datetime | None
    created_at: datetime


def plain_number(value) -> str:
    """A decimal without exponent or trailing zeros (``1.50`` -> ``1.5``)."""
    return format(value.normalize(), "f")


def invoice_out(invoice: Invoice) -> dict:
    cur = invoice.currency
    return {
        "id": invoice.public_id, "number": invoice.number, "kind": invoice.kind,
        "status": invoice.status, "client_id": invoice.client.public_id,
        "contract_id": invoice.contract.public_id if invoice.contract_id else None,
        "credits_id": invoice.credits.public_id if invoice.credits_id else None,
        "currency": cur, "issue_date": invoice.issue_date, "due_date": invoice.due_date,
        "period_start": invoice.period_start, "period_end": invoice.period_end,
        "lines": [{"id": ln.public_id, "kind": ln.kind, "description": ln.description,
                   "quantity": plain_number(ln.quantity), "unit_price": plain_number(ln.unit_price),
                   "amount": money_str(ln.amount, cur), "taxable": ln.taxable,
                   "tax_rate": plain_number(ln.tax_rate), "service_start": ln.service_start,
                   "service_end": ln.service_end} for ln in invoice.lines.all()],
        "subtotal": money_str(invoice.subtotal, cur), "tax": money_str(invoice.tax, cur),
        "total": money_str(invoice.total, cur),
        "amount_paid": money_str(invoice.amount_paid, cur),
        "balance": money_str(invoice.balance, cur),
        "sent_at": invoice.sent_at, "created_at": invoice.created_at,
    }
