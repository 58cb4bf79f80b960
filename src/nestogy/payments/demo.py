"""Demo content for payments: the payments behind the demo invoices' paid amounts.

The billing demo step settles some invoices in full or in part; this step records the money
as it would have arrived (bank transfers and checks a few days after the invoice date, one
payment per invoice) so statements, receipts and the payments list agree with the invoices.
It writes Payment and PaymentAllocation rows in bulk and leaves the invoices as they are.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef

from nestogy.billing.models import Invoice
from nestogy.core.ids import new_public_id
from nestogy.payments.models import ZERO, Payment, PaymentAllocation
from nestogy.tenancy.queries import company_today


def seed_payments(company, context: dict, rng, report) -> None:
    zone = ZoneInfo(company.timezone or "UTC")
    today = company_today(company)
    invoices = list(Invoice.objects.filter(kind=Invoice.Kind.INVOICE, amount_paid__gt=0)
                    .exclude(Exists(PaymentAllocation.objects.filter(invoice=OuterRef("pk"))))
                    .order_by("id"))
    payments, allocations = [], []
    for invoice in invoices:
        day = min((invoice.issue_date or today) + timedelta(days=rng.randint(2, 25)), today)
        method = rng.choice([Payment.Method.BANK_TRANSFER, Payment.Method.BANK_TRANSFER,
                             Payment.Method.CHECK])
        reference = (f"CHK {rng.randint(1000, 9999)}" if method == Payment.Method.CHECK
                     else f"BANK-{invoice.number}")
        payment = Payment(company=company, public_id=new_public_id("pay"),
                          client_id=invoice.client_id, amount=invoice.amount_paid,
                          currency=invoice.currency, method=method, reference=reference,
                          received_at=datetime.combine(day, time(10, 0), tzinfo=zone),
                          unapplied=ZERO)
        payments.append(payment)
        allocations.append(PaymentAllocation(company=company, public_id=new_public_id("pal"),
                                             payment=payment, invoice=invoice,
                                             amount=invoice.amount_paid))
    Payment.objects.bulk_create(payments, batch_size=1000)
    PaymentAllocation.objects.bulk_create(allocations, batch_size=1000)
    counts = context.get("counts")
    if counts is not None:
        counts["payments"] = counts.get("payments", 0) + len(payments)
    report(f"  {company.name}: {len(payments)} payments recorded")
