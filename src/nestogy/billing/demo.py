"""Demo content for billing: contracts for the demo clients and six months of invoices.

Each client gets a managed-services contract (per-seat fixed item, some with a metered
backup-storage item in graduated tiers, some quarterly, some auto-renewing soon), usage
records for the past months, and a recurring run catching up from the start date, so the
demo shows issued, paid, partially paid and overdue invoices, a forecast and an aging report.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from nestogy.billing.actions import mark_overdue
from nestogy.billing.models import Invoice
from nestogy.billing.recurring import run_recurring
from nestogy.billing.settlement import apply_amount
from nestogy.contracts.actions import create_contract, record_usage_bulk
from nestogy.contracts.models import ContractItem
from nestogy.contracts.pricing import add_months
from nestogy.contracts.renewals import process_renewals
from nestogy.tenancy.queries import company_today

BACKUP_PRICING = {"mode": "graduated", "tiers": [
    {"up_to": 100, "unit_price": "0.00", "flat_fee": "15.00"},
    {"up_to": 1000, "unit_price": "0.08"},
    {"up_to": None, "unit_price": "0.05"}]}


def seed_billing(company, context: dict, rng, report) -> None:
    today = company_today(company)
    zone = ZoneInfo(company.timezone or "UTC")
    contracts = 0
    usage_rows = []
    for i, client in enumerate(context["clients"]):
        start = add_months(today.replace(day=1), -rng.randint(3, 7), 1)
        quarterly = i % 7 == 3
        items = [{"kind": "fixed", "description": "Managed workstation (per seat)",
                  "quantity": str(rng.randint(5, 40)),
                  "unit_price": rng.choice(["25.00", "32.50", "39.00", "45.00"])}]
        if i % 3 != 2:
            items.append({"kind": "fixed", "description": "Managed firewall",
                          "quantity": "1", "unit_price": "89.00"})
        metered = i % 2 == 0
        if metered:
            items.append({"kind": "metered", "description": "Cloud backup storage",
                          "metric": "GB", "pricing": BACKUP_PRICING})
        renews = i % 4 == 0
        contract = create_contract(company, client, {
            "name": f"Managed services – {client.name}", "start_date": start.isoformat(),
            "billing_cycle": "quarterly" if quarterly else "monthly",
            "billing_anchor_day": 1, "payment_terms_days": rng.choice([14, 30, 30, 45]),
            "tax_rate_percent": rng.choice(["0", "6.25", "8.875"]),
            "auto_renew": renews,
            "end_date": (today + timedelta(days=rng.randint(10, 60))).isoformat()
            if renews else None,
            "renewal_term_months": 12, "renewal_uplift_percent": "3",
            "renewal_notice_days": 30, "items": items})
        contracts += 1
        if metered:
            item = ContractItem.objects.get(contract=contract, kind="metered")
            gb = Decimal(rng.randint(80, 900))
            day = start
            while day < today:
                at = datetime.combine(day, time(2, 0), tzinfo=zone)
                usage_rows.append((item, {"quantity": str(gb), "occurred_at": at,
                                          "idempotency_key": f"demo-{day.isoformat()}"}))
                gb = (gb * Decimal("1.01")).quantize(Decimal("0.1"))
                day += timedelta(days=7)
    if usage_rows:
        record_usage_bulk(usage_rows)
    result = run_recurring(company, today)
    # Clients pay most older invoices; some pay part; the rest go overdue.
    paid = partial = 0
    for invoice in Invoice.objects.filter(status=Invoice.Status.ISSUED).order_by("id"):
        if invoice.due_date is None or invoice.due_date >= today:
            continue
        roll = rng.random()
        if roll < 0.75:
            apply_amount(invoice, invoice.balance)
            paid += 1
        elif roll < 0.85:
            apply_amount(invoice, (invoice.balance / 2).quantize(Decimal("0.01")))
            partial += 1
    overdue = len(mark_overdue(company, today=today))
    notices = len(process_renewals(company, today).notices)
    counts = context.get("counts")
    if counts is not None:
        counts["contracts"] = counts.get("contracts", 0) + contracts
        counts["invoices"] = counts.get("invoices", 0) + len(result.invoices)
    report(f"  {company.name}: {contracts} contracts, {len(result.invoices)} invoices "
           f"({paid} paid, {partial} partially paid, {overdue} overdue), "
           f"{notices} renewal notice(s)")
