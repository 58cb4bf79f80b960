"""/invoices (manual invoices, recurring run, overdue aging, PDF) and /revenue/forecast."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from ninja import Query, Router, Schema
from pydantic import Field

from nestogy.accounts.roles import require
from nestogy.api.idempotency import idempotent
from nestogy.api.outputs import InvoiceOut, invoice_out, plain_number
from nestogy.api.pagination import paginate
from nestogy.api.schemas import (
    Currency,
    Cursor,
    Day,
    InputSchema,
    Limit,
    Money,
    ObjectId,
    Percent,
    Quantity,
    name_text,
    responses,
    text,
)
from nestogy.billing import actions, forecast, mrr, pdf, queries, recurring
from nestogy.billing.models import Invoice
from nestogy.clients import queries as client_queries
from nestogy.core.errors import ValidationError
from nestogy.core.money import money_str
from nestogy.tenancy.queries import company_today

router = Router(tags=["invoices"])
revenue_router = Router(tags=["invoices"])

class LineIn(InputSchema):
    description: name_text(500)
    quantity: Quantity = "1"
    unit_price: Money
    taxable: bool = True
    tax_rate: Percent | None = None


Lines = Annotated[list[LineIn], Field(max_length=500)]
Reason = text(1000)


class InvoiceIn(InputSchema):
    client_id: ObjectId
    currency: Currency | None = None
    due_date: Day | None = None
    payment_terms_days: Annotated[int, Field(ge=0, le=365)] | None = None
    tax_rate_percent: Percent | None = None
    notes: text(5000) | None = None
    items: Lines | None = None


class ItemsIn(InputSchema):
    items: Annotated[Lines, Field(min_length=1)]


class VoidIn(InputSchema):
    reason: Reason | None = None


class CreditNoteIn(InputSchema):
    reason: Reason | None = None
    items: Lines | None = None


class RecurringIn(InputSchema):
    as_of: Annotated[Day, Field(description="default today; at most 366 days after "
                                            "today")] | None = None
    preview: bool = False


class InvoiceList(Schema):
    items: list[InvoiceOut]
    next_cursor: str | None


class RunLineOut(Schema):
    description: str
    quantity: str
    unit_price: str
    amount: str


class RunInvoiceOut(Schema):
    id: str | None = None
    number: str | None = None
    status: str | None = None
    contract_id: str
    client_id: str
    period_start: date
    period_end: date
    currency: str
    lines: list[RunLineOut]
    subtotal: str
    tax: str
    total: str


class RunOut(Schema):
    as_of: date
    preview: bool
    invoices: list[RunInvoiceOut]
    skipped: int


class BucketOut(Schema):
    bucket: str
    count: int
    balance: str


class OverdueRow(Schema):
    id: str
    number: str | None
    client_id: str
    due_date: date | None
    days_overdue: int
    bucket: str
    balance: str
    status: str


class OverdueOut(Schema):
    as_of: date
    currency: str
    buckets: list[BucketOut]
    items: list[OverdueRow]


class MonthOut(Schema):
    month: str
    recurring: str
    usage: str
    total: str
    low: str  # the 90 % range of the total (docs/billing.md, revenue forecast)
    high: str


class OtherCurrencyOut(Schema):
    currency: str
    months: list[MonthOut]
    mrr: str
    arr: str


class MoveCountsOut(Schema):
    new: int
    expansion: int
    contraction: int
    churn: int


class MovementMonthOut(Schema):
    month: str
    to: date
    opening: str
    new: str
    expansion: str
    contraction: str
    churn: str
    closing: str
    clients: MoveCountsOut


class MovementsOut(Schema):
    currency: str
    as_of: date
    months: list[MovementMonthOut]


class ForecastOut(Schema):
    currency: str
    as_of: date
    mrr: str
    arr: str
    months: list[MonthOut]
    other_currencies: list[OtherCurrencyOut]


def _fresh(invoice: Invoice) -> dict:
    return invoice_out(queries.get_invoice(invoice.public_id))


def _lines(items: list[LineIn] | None) -> list[dict[str, Any]]:
    return [i.model_dump(exclude_unset=True) for i in (items or [])]


@router.get("", response=responses({200: InvoiceList}), summary="List invoices")
def list_invoices(request, limit: int = Limit(), cursor: str | None = Cursor(),
                  status: Literal[tuple(Invoice.Status.values)] | None = None,
                  client_id: ObjectId | None = None, overdue: bool | None = None):
    require(request.auth, "invoices.view")
    client = client_queries.get_client(client_id, "client_id") if client_id else None
    qs = queries.invoices(status=status, client=client, overdue=overdue,
                          today=company_today(request.auth.company))
    rows, next_cursor = paginate(qs, limit=limit, cursor=cursor, order=("-id",))
    return {"items": [invoice_out(i) for i in rows], "next_cursor": next_cursor}


@router.post("", response=responses({201: InvoiceOut}), summary="Create a draft invoice")
def create_invoice(request, payload: InvoiceIn):
    require(request.auth, "invoices.manage")

    def run():
        data = payload.model_dump(exclude_unset=True)
        client = client_queries.get_client(data.pop("client_id"), "client_id")
        data["items"] = _lines(payload.items)
        invoice = actions.create_invoice(request.auth.company, client, data,
                                         actor=request.auth.user)
        return 201, _fresh(invoice)

    return idempotent(request, run)


@router.get("/overdue", response=responses({200: OverdueOut}),
            summary="Open invoices by days past due (aging buckets 0, 1-30, 31-60, 61-90, 90+)")
def overdue_report(request, client_id: ObjectId | None = None):
    require(request.auth, "invoices.view")
    client = client_queries.get_client(client_id, "client_id") if client_id else None
    company = request.auth.company
    today = company_today(company)
    report = queries.aging(today, client=client)
    return {"as_of": today, "currency": company.currency,
            "buckets": [{"bucket": b["bucket"], "count": b["count"],
                         "balance": money_str(b["balance"], company.currency)}
                        for b in report["buckets"]],
            "items": [{"id": inv.public_id, "number": inv.number,
                       "client_id": inv.client.public_id, "due_date": inv.due_date,
                       "days_overdue": days, "bucket": bucket,
                       "balance": money_str(inv.balance, inv.currency), "status": inv.status}
                      for inv, days, bucket in report["rows"]]}


@router.post("/generate-recurring", response=responses({200: RunOut}),
             summary="Bill every due contract period up to as_of (preview writes nothing)")
def generate_recurring(request, payload: RecurringIn):
    require(request.auth, "invoices.manage")
    company = request.auth.company
    as_of = payload.as_of or company_today(company)

    def run():
        result = recurring.run_recurring(company, as_of, preview=payload.preview,
                                         actor=request.auth.user)
        return 200, {"as_of": as_of, "preview": payload.preview, "skipped": result.skipped,
                     "invoices": [_planned_out(p) for p in result.invoices]}

    if payload.preview:
        _code, body = run()
        return body
    return idempotent(request, run)


def _planned_out(plan: recurring.PlannedInvoice) -> dict:
    cur = plan.contract.currency
    inv = plan.invoice
    return {"id": inv.public_id if inv else None, "number": inv.number if inv else None,
            "status": inv.status if inv else None,
            "contract_id": plan.contract.public_id,
            "client_id": plan.contract.client.public_id,
            "period_start": plan.period_start, "period_end": plan.period_end, "currency": cur,
            "lines": [{"description": ln.description, "quantity": plain_number(ln.quantity),
                       "unit_price": plain_number(ln.unit_price),
                       "amount": money_str(ln.amount, cur)}
                      for ln in plan.lines],
            "subtotal": money_str(plan.subtotal, cur), "tax": money_str(plan.tax, cur),
            "total": money_str(plan.total, cur)}


@router.get("/{invoice_id}", response=responses({200: InvoiceOut}), summary="Get an invoice")
def get_invoice(request, invoice_id: str):
    require(request.auth, "invoices.view")
    return invoice_out(queries.get_invoice(invoice_id))


@router.get("/{invoice_id}/pdf", response=responses({200: None}),
            summary="The invoice as PDF", openapi_extra={"responses": {200: {
                "description": "PDF", "content": {"application/pdf": {}}}}})
def invoice_pdf(request, invoice_id: str):
    require(request.auth, "invoices.view")
    invoice = queries.get_invoice(invoice_id)
    response = HttpResponse(pdf.render_invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False,
                                                                 pdf.pdf_filename(invoice))
    return response


@router.post("/{invoice_id}/items", response=responses({200: InvoiceOut}),
             summary="Add lines to a draft invoice (issued invoices answer 409)")
def add_items(request, invoice_id: str, payload: ItemsIn):
    require(request.auth, "invoices.manage")
    invoice = queries.get_invoice(invoice_id)

    def run():
        return 200, _fresh(actions.add_invoice_items(invoice, _lines(payload.items),
                                                     actor=request.auth.user))

    return idempotent(request, run)


@router.post("/{invoice_id}/issue", response=responses({200: InvoiceOut}),
             summary="Issue a draft: assign its gap-free number, make it final")
def issue(request, invoice_id: str):
    require(request.auth, "invoices.manage")
    invoice = queries.get_invoice(invoice_id)

    def run():
        return 200, _fresh(actions.issue_invoice(invoice, actor=request.auth.user))

    return idempotent(request, run)


@router.post("/{invoice_id}/send", response=responses({200: InvoiceOut}),
             summary="Email the invoice with its PDF to the client's billing contacts")
def send(request, invoice_id: str):
    require(request.auth, "invoices.manage")
    invoice = queries.get_invoice(invoice_id)

    def run():
        return 200, _fresh(actions.send_invoice(invoice, actor=request.auth.user))

    return idempotent(request, run)


@router.post("/{invoice_id}/void", response=responses({200: InvoiceOut}),
             summary="Void an invoice without payments")
def void(request, invoice_id: str, payload: VoidIn | None = None):
    require(request.auth, "invoices.manage")
    invoice = queries.get_invoice(invoice_id)

    def run():
        reason = payload.reason if payload and payload.reason else ""
        return 200, _fresh(actions.void_invoice(invoice, actor=request.auth.user,
                                                reason=reason))

    return idempotent(request, run)


@router.post("/{invoice_id}/credit-notes", response=responses({201: InvoiceOut}),
             summary="Correct an issued invoice with a credit note (whole balance by default)")
def credit_note(request, invoice_id: str, payload: CreditNoteIn):
    require(request.auth, "invoices.manage")
    invoice = queries.get_invoice(invoice_id)

    def run():
        data: dict[str, Any] = {}
        if payload.reason:
            data["reason"] = payload.reason
        if payload.items:
            data["items"] = _lines(payload.items)
        note = actions.create_credit_note(invoice, data, actor=request.auth.user)
        return 201, _fresh(note)

    return idempotent(request, run)


@revenue_router.get("/forecast", response=responses({200: ForecastOut}),
                    summary="Revenue forecast per month (recurring + usage) and MRR/ARR")
def revenue_forecast(request, months: Annotated[int, Query(ge=1, le=60)] = 12):
    require(request.auth, "revenue.view")
    if not 1 <= months <= 60:
        raise ValidationError("months", "must be between 1 and 60")
    company = request.auth.company
    result = forecast.forecast(company, company_today(company), months)

    def money_rows(rows, cur):
        return [{"month": r["month"], "recurring": money_str(r["recurring"], cur),
                 "usage": money_str(r["usage"], cur), "total": money_str(r["total"], cur),
                 "low": money_str(r["low"], cur), "high": money_str(r["high"], cur)}
                for r in rows]

    cur = result["currency"]
    return {"currency": cur, "as_of": result["as_of"], "mrr": money_str(result["mrr"], cur),
            "arr": money_str(result["arr"], cur), "months": money_rows(result["months"], cur),
            "other_currencies": [{"currency": o["currency"],
                                  "months": money_rows(o["months"], o["currency"]),
                                  "mrr": money_str(o["mrr"], o["currency"]),
                                  "arr": money_str(o["arr"], o["currency"])}
                                 for o in result["other_currencies"]]}




@revenue_router.get("/mrr-movements", response=responses({200: MovementsOut}),
                    summary="MRR per month: opening, new, expansion, contraction, churn, closing")
def revenue_mrr_movements(request, months: Annotated[int, Query(ge=1, le=36)] = 12):
    require(request.auth, "revenue.view")
    if not 1 <= months <= mrr.MAX_MONTHS:
        raise ValidationError("months", f"must be between 1 and {mrr.MAX_MONTHS}")
    company = request.auth.company
    result = mrr.mrr_movements(company, company_today(company), months)
    cur = result["currency"]
    money = ("opening", "new", "expansion", "contraction", "churn", "closing")
    return {"currency": cur, "as_of": result["as_of"],
            "months": [{"month": m["month"], "to": m["to"], "clients": m["clients"],
                        **{k: money_str(m[k], cur) for k in money}}
                       for m in result["months"]]}
