"""Every change to invoices: drafts, lines, issue (numbering), send, void, credit notes,
overdue marking. Validated, atomic, audited; issued invoices are never edited."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from nestogy.audit.actions import build_entry, log_action, log_actions_bulk
from nestogy.billing import calc
from nestogy.billing.models import Invoice, InvoiceLine
from nestogy.billing.numbering import locked_counter, take_numbers
from nestogy.billing.settlement import settle_status
from nestogy.clients.models import Client
from nestogy.core.errors import Conflict, ValidationError
from nestogy.core.events import emit
from nestogy.core.money import MoneyError, quantize_money, validate_currency
from nestogy.core.validation import clean_date as _date
from nestogy.core.validation import clean_decimal as _decimal
from nestogy.tenancy.queries import company_today

ZERO = Decimal(0)


def _lock(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("client").get(pk=invoice.pk)


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != Invoice.Status.DRAFT:
        raise Conflict(f"invoice {invoice.number or invoice.public_id} is {invoice.status}: "
                       "issued invoices cannot change; issue a credit note instead")


def _build_lines(invoice: Invoice, items: Any, *, start: int, tax_rate: Decimal,
                 field: str = "items") -> list[InvoiceLine]:
    if not isinstance(items, list):
        raise ValidationError(field, "must be a list")
    if len(items) > 500:
        raise ValidationError(field, "at most 500 lines")
    lines = []
    for i, raw in enumerate(items):
        here = f"{field}[{i}]"
        if not isinstance(raw, dict):
            raise ValidationError(here, "must be an object")
        unknown = set(raw) - {"description", "quantity", "unit_price", "taxable", "tax_rate"}
        if unknown:
            raise ValidationError(f"{here}.{sorted(unknown)[0]}", "is not a known field")
        description = raw.get("description")
        if not isinstance(description, str) or not description.strip():
            raise ValidationError(f"{here}.description", "is required")
        if len(description) > 500:
            raise ValidationError(f"{here}.description", "must be at most 500 characters")
        if "unit_price" not in raw:
            raise ValidationError(f"{here}.unit_price", "is required")
        quantity = _decimal(raw.get("quantity", 1), f"{here}.quantity", allow_negative=False,
                            max_places=6)
        unit_price = _decimal(raw["unit_price"], f"{here}.unit_price", max_places=4)
        taxable = raw.get("taxable", True)
        if not isinstance(taxable, bool):
            raise ValidationError(f"{here}.taxable", "must be true or false")
        rate = tax_rate
        if raw.get("tax_rate") is not None:
            rate = _decimal(raw["tax_rate"], f"{here}.tax_rate", allow_negative=False,
                            max_places=4)
            if rate > 100:
                raise ValidationError(f"{here}.tax_rate", "must be between 0 and 100")
        amount = calc.line_amount(quantity, unit_price, invoice.currency)
        if not calc.fits(amount):
            raise ValidationError(f"{here}.quantity", "quantity × unit_price must be less than "
                                  f"{calc.MAX_AMOUNT:f} in absolute value")
        lines.append(InvoiceLine(
            company_id=invoice.company_id, invoice=invoice, position=start + i,
            kind=InvoiceLine.Kind.MANUAL, description=description.strip(), quantity=quantity,
            unit_price=unit_price, taxable=taxable, tax_rate=rate if taxable else ZERO,
            amount=amount))
    return lines


def recompute(invoice: Invoice, lines: list[InvoiceLine] | None = None) -> None:
    """Set subtotal, tax, total and balance from the lines (drafts and new invoices only).

    A total that cannot be stored is refused naming ``items``."""
    if lines is None:
        lines = list(InvoiceLine.objects.filter(invoice=invoice))
    subtotal, tax, total = calc.totals(lines, invoice.currency)
    if not calc.fits(subtotal, tax, total, total - invoice.amount_paid):
        raise ValidationError("items", f"the invoice total must be less than "
                                       f"{calc.MAX_AMOUNT:f} in absolute value")
    invoice.subtotal, invoice.tax, invoice.total = subtotal, tax, total
    invoice.balance = invoice.total - invoice.amount_paid


@transaction.atomic
def create_invoice(company, client: Client, data: dict[str, Any], *, actor=None) -> Invoice:
    """A manual draft invoice: ``{currency?, due_date?, tax_rate_percent?, notes?, items?}``."""
    unknown = set(data) - {"currency", "due_date", "items", "notes", "tax_rate_percent",
                           "payment_terms_days"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not an invoice field")
    try:
        currency = validate_currency(data.get("currency") or company.currency)
    except MoneyError as exc:
        raise ValidationError(exc.field, exc.message) from None
    tax_rate, terms = _draft_terms(data)
    invoice = Invoice(company=company, client=client, currency=currency,
                      due_date=_date(data.get("due_date"), "due_date"),
                      payment_terms_days=terms, notes=str(data.get("notes") or "")[:5000])
    lines = _build_lines(invoice, data.get("items") or [], start=0, tax_rate=tax_rate)
    recompute(invoice, lines)
    invoice.save()
    InvoiceLine.objects.bulk_create(lines)
    log_action(invoice, "invoice.created", actor=actor,
               data={"client": client.public_id, "lines": len(lines)})
    return invoice


def _draft_terms(data: dict[str, Any]) -> tuple[Decimal, int]:
    tax_rate = ZERO
    if data.get("tax_rate_percent") not in (None, ""):
        tax_rate = _decimal(data["tax_rate_percent"], "tax_rate_percent",
                            allow_negative=False, max_places=4)
        if tax_rate > 100:
            raise ValidationError("tax_rate_percent", "must be between 0 and 100")
    terms = data.get("payment_terms_days", 30)
    if isinstance(terms, bool) or not isinstance(terms, int) or not 0 <= terms <= 365:
        raise ValidationError("payment_terms_days", "must be a whole number between 0 and 365")
    return tax_rate, terms


def draft_totals(company, currency: str, items: Any, tax_rate: Any = None) -> Invoice:
    """The subtotal, tax and total ``items`` would make on a draft, written nowhere (the
    line editor's live totals): an unsaved invoice with them set."""
    try:
        currency = validate_currency(currency or company.currency)
    except MoneyError as exc:
        raise ValidationError(exc.field, exc.message) from None
    rate, _ = _draft_terms({"tax_rate_percent": tax_rate})
    invoice = Invoice(company=company, currency=currency)
    recompute(invoice, _build_lines(invoice, items, start=0, tax_rate=rate))
    return invoice


@transaction.atomic
def update_draft(invoice: Invoice, data: dict[str, Any], *, actor=None) -> Invoice:
    """Edit a draft: ``{due_date?, notes?, tax_rate_percent?, payment_terms_days?, items}``;
    ``items`` replaces every line (the line editor sends the whole invoice)."""
    unknown = set(data) - {"due_date", "items", "notes", "tax_rate_percent",
                           "payment_terms_days"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not an invoice field")
    invoice = _lock(invoice)
    _require_draft(invoice)
    tax_rate, terms = _draft_terms(data)
    lines = _build_lines(invoice, data.get("items") or [], start=0, tax_rate=tax_rate)
    invoice.due_date = _date(data.get("due_date"), "due_date")
    invoice.payment_terms_days = terms
    invoice.notes = str(data.get("notes") or "")[:5000]
    before = InvoiceLine.objects.filter(invoice=invoice).count()
    InvoiceLine.objects.filter(invoice=invoice).delete()
    InvoiceLine.objects.bulk_create(lines)
    recompute(invoice, lines)
    invoice.save()
    log_action(invoice, "invoice.draft_updated", actor=actor,
               data={"lines_before": before, "lines": len(lines), "total": str(invoice.total)})
    return invoice


@transaction.atomic
def add_invoice_items(invoice: Invoice, items: Any, *, actor=None) -> Invoice:
    invoice = _lock(invoice)
    _require_draft(invoice)
    existing = list(InvoiceLine.objects.filter(invoice=invoice))
    default_rate = existing[-1].tax_rate if existing else ZERO
    if invoice.contract_id:
        default_rate = invoice.contract.tax_rate_percent
    new = _build_lines(invoice, items, start=len(existing), tax_rate=default_rate)
    if not new:
        raise ValidationError("items", "must contain at least one line")
    InvoiceLine.objects.bulk_create(new)
    recompute(invoice, existing + new)
    invoice.save(update_fields=["subtotal", "tax", "total", "balance", "updated_at"])
    log_action(invoice, "invoice.items_added", actor=actor, data={"lines": len(new)})
    return invoice


def refuse_negative_total(invoice: Invoice) -> None:
    """An invoice for less than zero is not issued: it would be "paid" with a negative
    balance, a debt of the MSP to its client that nothing tracks. Money owed back to a
    client is a credit note against the invoice being corrected."""
    if invoice.total < 0:
        raise ValidationError(
            "items", f"the lines add up to {quantize_money(invoice.total, invoice.currency)} "
                     f"{invoice.currency}; an invoice cannot be issued for less than zero. "
                     "To give a client money back, issue a credit note against the invoice "
                     "you are correcting (POST /invoices/{id}/credit-notes)",
            code="negative_total")


@transaction.atomic
def issue_invoice(invoice: Invoice, *, actor=None, issue_date: date | None = None) -> Invoice:
    """Give a draft its number (gap-free, from the locked counter) and make it final."""
    counter = locked_counter(invoice.company)  # lock first: issues of a company serialise
    invoice = _lock(invoice)
    _require_draft(invoice)
    if not InvoiceLine.objects.filter(invoice=invoice).exists():
        raise ValidationError("items", "an invoice needs at least one line to be issued")
    invoice.issue_date = issue_date or company_today(invoice.company)
    if invoice.due_date is None or invoice.due_date < invoice.issue_date:
        invoice.due_date = invoice.issue_date + timedelta(days=invoice.payment_terms_days)
    recompute(invoice)
    refuse_negative_total(invoice)
    invoice.number = take_numbers(counter, 1)[0]
    invoice.status = settle_status(invoice)
    invoice.save()
    log_action(invoice, "invoice.issued", actor=actor,
               data={"number": invoice.number, "total": str(invoice.total)})
    emit("invoice.issued", company_id=invoice.company_id, actor=actor,
         data={"invoice_id": invoice.pk, "client_id": invoice.client_id,
               "number": invoice.number, "total": str(invoice.total),
               "currency": invoice.currency, "recurring": False})
    return invoice


@transaction.atomic
def send_invoice(invoice: Invoice, *, actor=None) -> Invoice:
    """Email the invoice (PDF attached) to the client's billing contacts, after commit."""
    invoice = _lock(invoice)
    if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID):
        raise Conflict(f"a {invoice.status} invoice cannot be sent; issue it first")
    invoice.sent_at = timezone.now()
    invoice.save(update_fields=["sent_at", "updated_at"])
    log_action(invoice, "invoice.sent", actor=actor, data={"number": invoice.number})
    emit("invoice.sent", company_id=invoice.company_id, actor=actor,
         data={"invoice_id": invoice.pk, "number": invoice.number,
               "attachments": [{"builder": "invoice_pdf", "invoice_id": invoice.pk}]})
    return invoice


@transaction.atomic
def void_invoice(invoice: Invoice, *, actor=None, reason: str = "") -> Invoice:
    """Cancel an invoice nothing was paid on. A numbered invoice keeps its number (no gap)."""
    invoice = _lock(invoice)
    if invoice.status == Invoice.Status.VOID:
        raise Conflict("invoice is already void")
    if invoice.amount_paid > 0:
        raise Conflict("invoice has payments; issue a credit note instead of voiding")
    if invoice.credit_notes.exclude(status=Invoice.Status.VOID).exists():
        raise Conflict("invoice has credit notes; void them first")
    if invoice.kind == Invoice.Kind.CREDIT_NOTE and invoice.credits_id:
        # the credit no longer applies: the corrected invoice owes it again
        original = Invoice.objects.select_for_update().get(pk=invoice.credits_id)
        original.balance += invoice.total
        if original.status != Invoice.Status.VOID:
            original.status = settle_status(original)
        original.save(update_fields=["balance", "status", "updated_at"])
    invoice.status = Invoice.Status.VOID
    invoice.voided_at = timezone.now()
    invoice.balance = ZERO
    invoice.save(update_fields=["status", "voided_at", "balance", "updated_at"])
    log_action(invoice, "invoice.voided", actor=actor,
               data={"number": invoice.number, "reason": reason[:500]})
    emit("invoice.voided", company_id=invoice.company_id, actor=actor,
         data={"invoice_id": invoice.pk, "client_id": invoice.client_id,
               "number": invoice.number, "kind": invoice.kind, "total": str(invoice.total),
               "currency": invoice.currency, "reason": reason[:500]})
    return invoice


@transaction.atomic
def create_credit_note(invoice: Invoice, data: dict[str, Any], *, actor=None) -> Invoice:
    """Correct an issued invoice: a numbered credit note that reduces its balance.

    ``data``: ``{items?: [...], reason?}``; without items the whole balance is credited.
    """
    unknown = set(data) - {"items", "reason"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a credit note field")
    counter = locked_counter(invoice.company)
    invoice = _lock(invoice)
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status in (Invoice.Status.DRAFT,
                                                                  Invoice.Status.VOID):
        raise Conflict("only issued invoices can be credited (edit or void a draft)")
    reason = str(data.get("reason") or "Correction")[:300]
    note = Invoice(company_id=invoice.company_id, client=invoice.client,
                   contract=invoice.contract, kind=Invoice.Kind.CREDIT_NOTE, credits=invoice,
                   currency=invoice.currency, notes=reason)
    note.company = invoice.company
    if data.get("items"):
        rates = list(InvoiceLine.objects.filter(invoice=invoice, taxable=True)
                     .values_list("tax_rate", flat=True)[:1])
        lines = _build_lines(note, data["items"], start=0, tax_rate=rates[0] if rates else ZERO)
    else:
        lines = [InvoiceLine(company_id=invoice.company_id, invoice=note, position=i,
                             kind=line.kind, description=f"Credit: {line.description}",
                             quantity=line.quantity, unit_price=line.unit_price,
                             amount=line.amount, taxable=line.taxable, tax_rate=line.tax_rate)
                 for i, line in enumerate(InvoiceLine.objects.filter(invoice=invoice))]
    recompute(note, lines)
    if note.total <= 0:
        raise ValidationError("items", "a credit note must credit a positive amount")
    if note.total > invoice.balance:
        raise ValidationError("items", f"credit {note.total} exceeds the invoice balance "
                                       f"{quantize_money(invoice.balance, invoice.currency)}")
    note.issue_date = company_today(invoice.company)
    note.due_date = note.issue_date
    note.number = take_numbers(counter, 1)[0]
    note.status = Invoice.Status.PAID  # applied to the invoice at once
    note.balance = ZERO
    note.save()
    for line in lines:
        line.invoice = note
    InvoiceLine.objects.bulk_create(lines)
    invoice.balance -= note.total
    invoice.status = settle_status(invoice) if invoice.status != Invoice.Status.OVERDUE \
        or invoice.balance <= 0 else invoice.status
    invoice.save(update_fields=["balance", "status", "updated_at"])
    log_action(note, "credit_note.issued", actor=actor,
               data={"credits": invoice.number, "total": str(note.total), "reason": reason})
    emit("credit_note.issued", company_id=note.company_id, actor=actor,
         data={"invoice_id": note.pk, "client_id": note.client_id, "number": note.number,
               "credits_invoice_id": invoice.pk, "credits": invoice.number,
               "total": str(note.total), "currency": note.currency, "reason": reason})
    return note


def mark_overdue(company, *, today: date | None = None) -> list[int]:
    """Mark open invoices past due (in the company's time zone) overdue; notify once each.

    Set-based: one claiming UPDATE per batch; ``overdue_notified_at`` makes the event fire
    once per invoice even when two workers run the job.
    """
    today = today or company_today(company)
    marked: list[int] = []
    candidates = (Invoice.objects.filter(
        kind=Invoice.Kind.INVOICE,
        status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID,
                    Invoice.Status.OVERDUE],
        balance__gt=0, due_date__lt=today, overdue_notified_at__isnull=True)
        .order_by("id").values_list("id", flat=True))
    ids = list(candidates[:5000])
    while ids:
        with transaction.atomic():
            now = timezone.now()
            claimed = list(Invoice.objects.select_for_update(skip_locked=True)
                           .filter(id__in=ids, overdue_notified_at__isnull=True)
                           .values_list("id", "number", "public_id"))
            claimed_ids = [c[0] for c in claimed]
            Invoice.objects.filter(id__in=claimed_ids).update(
                status=Invoice.Status.OVERDUE, overdue_notified_at=now, updated_at=now)
            entries = []
            for pk, number, public_id in claimed:
                stub = Invoice(pk=pk, company_id=company.pk, number=number, public_id=public_id)
                entries.append(build_entry(stub, "invoice.overdue", data={"number": number}))
                emit("invoice.overdue", company_id=company.pk,
                     data={"invoice_id": pk, "number": number})
            log_actions_bulk(entries)
        marked.extend(claimed_ids)
        if len(ids) < 5000:
            break
        ids = list(candidates.filter(id__gt=ids[-1])[:5000])
    return marked
