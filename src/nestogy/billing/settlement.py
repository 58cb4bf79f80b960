"""Invoice settlement: the one place an invoice's ``amount_paid``, ``balance`` and its
paid / partially paid / overdue status follow money received or given back.

Payments (above billing in the layers) record money and call :func:`settle`; they never
write an invoice's totals or status themselves (a test checks that no module outside billing
assigns them). Rules (docs/billing.md, docs/payments.md):

- :func:`settle` works on an invoice row locked with ``SELECT … FOR UPDATE``
  (:func:`lock_invoice`) and adds the amount in SQL (``amount_paid + x``, ``balance - x``).
- The status after a change: ``paid`` when nothing is owed, ``partially_paid`` when part is
  paid, ``issued`` when nothing is; an open invoice that still owes something and whose due
  date (the company's local date) has passed stays or becomes ``overdue``.

The business rules this implements: docs/semantics.md#invoices.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F

from nestogy.billing.models import Invoice
from nestogy.core.errors import Conflict
from nestogy.tenancy.queries import company_today

# Invoices that take payments.
OPEN = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.OVERDUE)


def settle_status(invoice: Invoice) -> str:
    """The status an issued invoice has for its amounts (overdue marking aside)."""
    if invoice.balance <= 0:
        return Invoice.Status.PAID
    if invoice.amount_paid > 0:
        return Invoice.Status.PARTIALLY_PAID
    return Invoice.Status.ISSUED


def lock_invoice(invoice_id: int) -> Invoice:
    """The invoice row locked for update (with its company and client)."""
    return Invoice.objects.select_for_update(of=("self",)).select_related(
        "company", "client").get(pk=invoice_id)


def require_payable(invoice: Invoice) -> None:
    """Refuse money against a credit note or an invoice that is not open (409)."""
    if invoice.kind != Invoice.Kind.INVOICE:
        raise Conflict("payments apply to invoices, not credit notes")
    if invoice.status not in OPEN:
        raise Conflict(f"a {invoice.status} invoice takes no payments")


def apply_amount(invoice: Invoice, amount: Decimal) -> None:
    """Add ``amount`` (negative for a reversal) to ``amount_paid`` and settle the status,
    without overdue marking (the demo data uses it to pay invoices as of a past day)."""
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=F("amount_paid") + amount,
                                                 balance=F("balance") - amount)
    invoice.refresh_from_db()
    invoice.status = settle_status(invoice)
    invoice.save(update_fields=["status", "updated_at"])


def settle(invoice: Invoice, amount: Decimal) -> Invoice:
    """Add ``amount`` (negative for a reversal) to a locked invoice's payments.

    An invoice left owing after its due date (company time zone) is ``overdue``.
    """
    apply_amount(invoice, amount)
    if (invoice.balance > 0 and invoice.due_date is not None
            and invoice.due_date < company_today(invoice.company)
            and invoice.status != Invoice.Status.OVERDUE):
        invoice.status = Invoice.Status.OVERDUE
        invoice.save(update_fields=["status", "updated_at"])
    return invoice
