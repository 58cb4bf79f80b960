"""The recurring run: bill every due period of every contract, once (docs/billing.md).

For a run as of date D (the company's local date), every period of an active contract whose
start is on or before D and that has not been billed yet gets its own invoice (a missed day
is caught up). An invoice for period P carries

- fixed items **in advance** for P (quantity in effect on P's first day, prorated when P is
  a partial first or last period), and
- metered items **in arrears** for the period that ended when P started (usage summed in the
  database over ``[start, end)`` local days, priced through the item's tiers).

After the last period of an ended contract a closing invoice (period_start = the day after
``end_date``, empty period) bills the last period's usage.

Safety: the work is done in batches of contracts. Each batch is one transaction that first
locks the company's invoice counter (so runs of one company serialise), re-reads which
periods are billed, and bulk-inserts invoices and lines; the partial unique constraint
``(company, contract, period_start)`` is the last line of defence. A crash loses at most the
batch in progress, which rolls back whole, and the next run finishes it. Query count grows
with batches, not with contracts. ``preview`` computes the same invoices and writes nothing.

The business rules this implements: docs/semantics.md#the-recurring-run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Q

from nestogy.audit.actions import build_entry, log_actions_bulk
from nestogy.billing import calc
from nestogy.billing.models import Invoice, InvoiceLine
from nestogy.billing.numbering import locked_counter, take_numbers
from nestogy.contracts.models import Contract, ContractItem, quantity_on
from nestogy.contracts.pricing import Period, Pricing, Terms, iter_periods, period_containing, quote
from nestogy.contracts.queries import quantity_history, usage_totals
from nestogy.core.errors import ValidationError
from nestogy.core.events import emit, emit_many
from nestogy.core.money import quantize_money
from nestogy.tenancy.queries import company_today

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
BATCH_SIZE = 250
MAX_AHEAD_DAYS = 366
MAX_PERIODS_PER_RUN = 260

@dataclass
class PlannedLine:
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    taxable: bool
    tax_rate: Decimal
    item: ContractItem
    service_start: date | None
    service_end: date | None


@dataclass
class PlannedInvoice:
    contract: Contract
    period_start: date
    period_end: date
    issue_date: date
    lines: list[PlannedLine] = field(default_factory=list)
    subtotal: Decimal = ZERO
    tax: Decimal = ZERO
    total: Decimal = ZERO
    invoice: Invoice | None = None  # set once written


@dataclass
class RunResult:
    as_of: date
    preview: bool
    invoices: list[PlannedInvoice] = field(default_factory=list)
    skipped: int = 0  # already billed by a concurrent run
    batches: int = 0

    @property
    def total(self) -> Decimal:
        return sum((p.total for p in self.invoices), ZERO)


def _fmt_range(start: date, end: date) -> str:
    return f"{start.isoformat()} to {(end - timedelta(days=1)).isoformat()}"


def _due_periods(contract: Contract, as_of: date, last: tuple[date, date] | None,
                 has_metered: bool) -> list[Period]:
    """Unbilled periods starting on or before ``as_of`` (plus a closing one, see module).

    ``last`` is ``(period_start, period_end)`` of the latest billed period. Billing resumes at
    its end: when a renewal extended a contract that had ended mid-period, the rest of that
    cycle period is billed as a prorated partial period. At most MAX_PERIODS_PER_RUN periods
    are returned: a contract catching up years of periods is billed over several runs (the
    daily run continues where the last one stopped), so one run stays short.
    """
    terms = contract.terms
    last_start, last_end = last if last is not None else (None, None)
    out: list[Period] = []
    for period in iter_periods(terms, from_date=last_end):
        if last_end is not None and period.start < last_end:
            if period.end <= last_end:
                continue
            period = Period(last_end, period.end, period.full_start, period.full_end)
        if period.start > as_of:
            break
        if period.start == last_start:
            continue
        if len(out) == MAX_PERIODS_PER_RUN:
            return out  # the rest (and any closing invoice) in the next runs
        out.append(period)
    end = terms.service_end
    if has_metered and not contract.auto_renew and end is not None and end <= as_of and (
            last_end is None or last_end < end or (last_start != end and last_end == end)):
        out.append(Period(end, end, end, end))  # closing invoice for the last usage
    return out


def _arrears_period(terms: Terms, period: Period) -> Period | None:
    """The contract period that ended when ``period`` started (no billing history known)."""
    if period.start <= terms.start_date:
        return None
    before = period_containing(terms, period.start - timedelta(days=1))
    if before is None:
        return None
    return Period(before.start, min(before.end, period.start), before.full_start,
                  before.full_end)


def plan_batch(company, contracts: list[Contract], as_of: date,
               last_billed: dict[int, tuple[date, date]]) -> list[PlannedInvoice]:
    """Compute the invoices of a batch of contracts (3 queries, whatever the batch size)."""
    items_by_contract: dict[int, list[ContractItem]] = {c.pk: [] for c in contracts}
    items = list(ContractItem.objects.filter(contract_id__in=list(items_by_contract))
                 .order_by("contract_id", "position", "id"))
    for item in items:
        items_by_contract[item.contract_id].append(item)
    history = quantity_history([i.pk for i in items if i.kind == ContractItem.Kind.FIXED])
    pricing_cache: dict[int, Pricing] = {}

    planned: list[PlannedInvoice] = []
    windows: list[tuple[int, date, date]] = []
    usage_slots: list[tuple[PlannedInvoice, ContractItem, Period]] = []
    for contract in contracts:
        contract_items = items_by_contract[contract.pk]
        metered = [i for i in contract_items if i.kind == ContractItem.Kind.METERED]
        fixed = [i for i in contract_items if i.kind == ContractItem.Kind.FIXED]
        terms = contract.terms
        currency = contract.currency
        rate = contract.tax_rate_percent
        last = last_billed.get(contract.pk)
        previous: Period | None = None
        if last is not None and last[0] != last[1]:
            previous = Period(last[0], last[1], last[0], last[1])
        for period in _due_periods(contract, as_of, last, bool(metered)):
            # usage in arrears: exactly the billed period before this one
            arrears = previous
            if arrears is None and period.start > terms.start_date:
                arrears = _arrears_period(terms, period)
            if arrears is not None and arrears.end != period.start:
                arrears = None if arrears.end > period.start else arrears
            previous = period if period.start != period.end else previous
            invoice = PlannedInvoice(contract, period.start, period.end, period.start)
            closing = period.start == period.end
            if not closing:
                factor = period.factor_decimal if period.is_partial else None
                for item in fixed:
                    qty = quantity_on(item, period.start, history.get(item.pk, []))
                    description = f"{item.description} ({_fmt_range(period.start, period.end)})"
                    if period.is_partial:
                        description += f", prorated {period.days}/{period.full_days} days"
                    invoice.lines.append(PlannedLine(
                        "fixed", description, qty, item.unit_price,
                        calc.line_amount(qty, item.unit_price, currency, factor),
                        item.taxable, rate if item.taxable else ZERO, item,
                        period.start, period.end))
            if arrears is not None:
                for item in metered:
                    windows.append((item.pk, arrears.start, arrears.end))
                    usage_slots.append((invoice, item, arrears))
            planned.append(invoice)

    totals = usage_totals(windows, company.timezone or "UTC")
    for invoice, item, arrears in usage_slots:
        qty = totals.get((item.pk, arrears.start)) or ZERO
        pricing = pricing_cache.get(item.pk)
        if pricing is None:
            pricing = pricing_cache[item.pk] = Pricing.from_dict(item.pricing)
        currency = invoice.contract.currency
        amount = quantize_money(quote(pricing, qty), currency)
        unit = (amount / qty) if qty else amount
        invoice.lines.append(PlannedLine(
            "usage", f"{item.description}: {format(qty.normalize(), 'f')} {item.metric} "
                     f"({_fmt_range(arrears.start, arrears.end)})",
            qty, unit.quantize(Decimal("0.0001")), amount, item.taxable,
            invoice.contract.tax_rate_percent if item.taxable else ZERO, item,
            arrears.start, arrears.end))

    result = []
    for invoice in planned:
        if not invoice.lines:
            continue
        invoice.subtotal, invoice.tax, invoice.total = calc.totals(invoice.lines,
                                                                   invoice.contract.currency)
        if not calc.fits(invoice.subtotal, invoice.tax, invoice.total,
                         *(line.amount for line in invoice.lines)):
            # Usage so large that the period's amount cannot be stored: leave this period
            # unbilled (it stays due) rather than failing every contract of the run.
            logger.error("contract %s: the invoice for %s-%s exceeds the largest amount; "
                         "not billed", invoice.contract.public_id, invoice.period_start,
                         invoice.period_end)
            continue
        result.append(invoice)
    return result


def _last_billed(contract_ids: list[int]) -> dict[int, tuple[date, date]]:
    """``(period_start, period_end)`` of each contract's latest billed period (periods tile,
    so the latest start and the latest end belong to the same invoice)."""
    rows = (Invoice.objects.filter(contract_id__in=contract_ids, kind=Invoice.Kind.INVOICE,
                                   period_start__isnull=False)
            .values("contract_id").annotate(last=Max("period_start"), last_end=Max("period_end"))
            .order_by())
    return {r["contract_id"]: (r["last"], r["last_end"]) for r in rows}


def _write_batch(company, planned: list[PlannedInvoice], *, issue: bool, actor,
                 on_written: Callable[[list[PlannedInvoice]], None] | None = None,
                 ) -> tuple[list[PlannedInvoice], int]:
    """Insert a batch's invoices in one transaction; returns (written, skipped)."""
    with transaction.atomic():
        counter = locked_counter(company)  # serialises this company's runs and issues
        taken = set(Invoice.objects.filter(
            Q(contract_id__in={p.contract.pk for p in planned}),
            kind=Invoice.Kind.INVOICE,
            period_start__in={p.period_start for p in planned},
        ).values_list("contract_id", "period_start"))
        fresh = [p for p in planned if (p.contract.pk, p.period_start) not in taken]
        if not fresh:
            return [], len(planned)
        # A period whose lines add up to less than zero (discounts larger than the charges)
        # is written as a draft for a person to look at: invoices are never issued negative.
        issuing = [issue and plan.total >= 0 for plan in fresh]
        reserved = iter(take_numbers(counter, sum(issuing)) if any(issuing) else [])
        numbers = [next(reserved) if ok else None for ok in issuing]
        invoices = []
        for plan, number, ok in zip(fresh, numbers, issuing, strict=True):
            contract = plan.contract
            invoices.append(Invoice(
                company_id=company.pk, client_id=contract.client_id, contract=contract,
                kind=Invoice.Kind.INVOICE, number=number,
                status=Invoice.Status.ISSUED if ok else Invoice.Status.DRAFT,
                currency=contract.currency, period_start=plan.period_start,
                period_end=plan.period_end,
                issue_date=plan.issue_date if ok else None,
                due_date=(plan.issue_date + timedelta(days=contract.payment_terms_days))
                if ok else None,
                payment_terms_days=contract.payment_terms_days,
                subtotal=plan.subtotal, tax=plan.tax, total=plan.total, balance=plan.total))
        if issue:
            for invoice in invoices:
                if invoice.status == Invoice.Status.ISSUED and invoice.total <= 0:
                    invoice.status = Invoice.Status.PAID
        Invoice.objects.bulk_create(invoices, batch_size=500)
        lines = []
        for plan, invoice in zip(fresh, invoices, strict=True):
            plan.invoice = invoice
            for position, line in enumerate(plan.lines):
                lines.append(InvoiceLine(
                    company_id=company.pk, invoice=invoice, position=position,
                    kind=line.kind, contract_item=line.item, description=line.description[:500],
                    quantity=line.quantity, unit_price=line.unit_price, amount=line.amount,
                    taxable=line.taxable, tax_rate=line.tax_rate,
                    service_start=line.service_start, service_end=line.service_end))
        InvoiceLine.objects.bulk_create(lines, batch_size=1000)
        log_actions_bulk([build_entry(inv, "invoice.generated", actor=actor,
                                      data={"number": inv.number,
                                            "period_start": inv.period_start.isoformat(),
                                            "total": str(inv.total)})
                          for inv in invoices])
        # Each issued invoice is announced like one issued by hand (payments starts auto-pay
        # on it); the billing people hear of the run once (invoice.recurring_run).
        emit_many([("invoice.issued", {
            "invoice_id": inv.pk, "client_id": inv.client_id, "number": inv.number,
            "total": str(inv.total), "currency": inv.currency, "recurring": True})
            for inv in invoices if inv.status != Invoice.Status.DRAFT],
            company_id=company.pk, actor=actor)
        if on_written is not None:
            on_written(fresh)  # in the batch's transaction: recorded exactly when written
    return fresh, len(planned) - len(fresh)


def check_as_of(company, as_of: date) -> None:
    """``as_of`` lies at most MAX_AHEAD_DAYS after the company's today (billing further
    ahead is a mistake, and would write an invoice per period up to then)."""
    today = company_today(company)
    if as_of > today + timedelta(days=MAX_AHEAD_DAYS):
        raise ValidationError("as_of", f"must be at most {MAX_AHEAD_DAYS} days after today "
                                       f"({today.isoformat()})")


def run_recurring(company, as_of: date, *, preview: bool = False, actor=None,
                  batch_size: int | None = None, contract_ids: list[int] | None = None,
                  issue: bool | None = None,
                  on_written: Callable[[list[PlannedInvoice]], None] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Bill every due period of ``company``'s contracts as of ``as_of`` (see module).

    ``contract_ids`` limits the run to those contracts; ``issue`` issues the invoices (True)
    or leaves them drafts (False), by default as the company's setting
    ``billing.issue_recurring_immediately`` says. ``on_written`` is called with each
    batch's invoices inside the batch's transaction. See :func:`check_as_of`."""
    check_as_of(company, as_of)
    batch_size = batch_size or BATCH_SIZE
    if issue is None:
        issue = bool(company.get_setting("billing.issue_recurring_immediately"))
    result = RunResult(as_of=as_of, preview=preview)
    contracts = (Contract.objects.filter(
        Q(status=Contract.Status.ACTIVE)
        | Q(status=Contract.Status.ENDED, end_date__gte=as_of - timedelta(days=400)),
        start_date__lte=as_of).order_by("id"))
    if contract_ids is not None:
        contracts = contracts.filter(id__in=contract_ids)
    ids = list(contracts.values_list("id", flat=True))
    done = 0
    for offset in range(0, len(ids), batch_size):
        chunk_ids = ids[offset:offset + batch_size]
        chunk = list(Contract.objects.filter(id__in=chunk_ids).order_by("id"))
        planned = plan_batch(company, chunk, as_of, _last_billed(chunk_ids))
        result.batches += 1
        if planned and not preview:
            try:
                written, skipped = _write_batch(company, planned, issue=issue, actor=actor,
                                                on_written=on_written)
            except IntegrityError:
                # Another run inserted one of these periods between our check and insert
                # (possible only without the counter lock, e.g. a manual insert): re-plan.
                planned = plan_batch(company, chunk, as_of, _last_billed(chunk_ids))
                written, skipped = _write_batch(company, planned, issue=issue, actor=actor,
                                                on_written=on_written)
            result.invoices.extend(written)
            result.skipped += skipped
        elif preview:
            result.invoices.extend(planned)
        done += len(chunk)
        if progress is not None:
            progress(done, len(ids))
    if result.invoices and not preview:
        emit("invoice.recurring_run", company_id=company.pk, actor=actor,
             data={"as_of": as_of.isoformat(), "invoices": len(result.invoices),
                   "issued": issue, "total": str(result.total)})
    return result
