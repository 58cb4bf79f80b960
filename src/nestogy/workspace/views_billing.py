"""Billing pages of the workspace: the invoices list, an invoice, the collections board.

- **Invoices** (``/app/invoices/``, ``invoices.view``): search by number or client,
  filter by status (or every open one), overdue only and issue dates; the totals of what
  the filters select per currency (count, total, balance: one aggregate query); 50 per
  page, newest first.
- **Invoice** (``/app/invoices/<id>/``): the header with its state, the lines, the
  payments applied, card payment attempts, credit notes, and the audit entries of the
  invoice and its payments, which explain every state change. The PDF is the one clients
  get. ``payments.manage`` records a payment received (bank transfer, check, cash, card,
  other) through ``payments.recording.record_invoice_payment``: whatever exceeds the
  balance becomes the client's credit.

- **Collections** (``/app/collections/``, ``invoices.view``): the aging board, what each
  client owes on open invoices by days past due (not yet due, 1-30, 31-60, 61-90, over
  90) in one aggregate, with the totals per currency, its automatic card payments (failed
  attempts, next retry, last error, invoices in collections) and when it was last
  reminded; the client's statement as a PDF; ``invoices.manage`` sends a reminder
  (``payments.reminders``: e-mail through the outbox, statement attached).

Another company's invoice or client is not found (404); every decision asks the one role matrix.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from nestogy.audit.queries import entries_about
from nestogy.billing import queries as billing_queries
from nestogy.billing.models import Invoice
from nestogy.billing.pdf import pdf_filename, render_invoice_pdf
from nestogy.clients import queries as client_queries
from nestogy.clients.models import Client
from nestogy.core.errors import Conflict, NotFound, ValidationError
from nestogy.core.money import format_money, quantize_money
from nestogy.payments import queries as payment_queries
from nestogy.payments.models import Payment
from nestogy.payments.recording import record_invoice_payment
from nestogy.payments.reminders import last_reminded, send_payment_reminder
from nestogy.payments.statement import statement_pdf
from nestogy.tenancy.queries import company_today
from nestogy.workspace import auth

PAGE_SIZE = 50
STATUS_CHOICES = [("", "Any status"), ("open", "Open (unpaid)"), *Invoice.Status.choices]


class InvoiceSearch(forms.Form):
    q = forms.CharField(label="Search", max_length=200, required=False)
    status = forms.ChoiceField(label="Status", choices=STATUS_CHOICES, required=False)
    overdue = forms.BooleanField(label="Overdue only", required=False)
    issued_from = forms.DateField(label="Issued from", required=False)
    issued_to = forms.DateField(label="Issued to", required=False)
    def clean(self):
        data = super().clean()
        start, end = data.get("issued_from"), data.get("issued_to")
        if start and end and end < start:
            self.add_error("issued_to", "Must be on or after the start date.")
        return data


def _invoice(invoice_id: str) -> Invoice:
    try:
        return billing_queries.get_invoice(invoice_id)
    except NotFound:
        raise Http404("invoice not found") from None


@auth.staff_view("invoices.view")
@require_GET
def invoices_view(request: HttpRequest) -> HttpResponse:
    form = InvoiceSearch(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = billing_queries.search_invoices(
        status=filters.get("status") or None, q=(filters.get("q") or "").strip() or None,
        overdue=bool(filters.get("overdue")), today=company_today(request.company),
        issued_from=filters.get("issued_from"), issued_to=filters.get("issued_to"))
    totals = billing_queries.invoice_totals(qs)
    page = Paginator(qs.order_by("-id"), PAGE_SIZE)
    page.count = sum(t["count"] for t in totals)  # known from the totals: no COUNT query
    page = page.get_page(request.GET.get("page"))  # junk or out of range: first/last page
    today = company_today(request.company)
    for invoice in page.object_list:
        invoice.days_late = billing_queries.days_past_due(invoice, today)
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "workspace/invoices.html", {
        "form": form, "page": page, "invoices": page.object_list, "totals": totals,
        "query": params.urlencode(),
        "can_create": auth.can(request, "invoices.manage"),
        "filtered": bool(form.is_bound and any(
            v for k, v in filters.items() if k != "page")),
    }, status=400 if form.is_bound and form.errors else 200)


class PaymentForm(forms.Form):
    # Money is checked by the payment action against the invoice's currency (its decimals),
    # so the text goes through as typed; its message lands on this field.
    amount = forms.CharField(label="Amount", max_length=30)
    method = forms.ChoiceField(label="Method", choices=Payment.Method.choices,
                               initial=Payment.Method.BANK_TRANSFER)
    reference = forms.CharField(label="Reference", max_length=200, required=False,
                                help_text="Check number, bank reference or receipt number")
    received_on = forms.DateField(label="Received on", required=False,
                                  help_text="Leave empty for today",
                                  widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(label="Notes", max_length=2000, required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company

    def clean_received_on(self):
        day = self.cleaned_data.get("received_on")
        if day and day > company_today(self.company):
            raise forms.ValidationError("Cannot be in the future.")
        return day

    def received_at(self) -> datetime | None:
        """The day received as the start of that day in the company's time zone."""
        day = self.cleaned_data.get("received_on")
        if not day:
            return None
        zone = zoneinfo.ZoneInfo(self.company.timezone)
        return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _detail_context(request: HttpRequest, invoice: Invoice, form: PaymentForm | None) -> dict:
    allocations = list(payment_queries.allocations_for(invoice))
    credit_notes = list(invoice.credit_notes.order_by("id"))
    payable = (invoice.kind == Invoice.Kind.INVOICE
               and invoice.status in Invoice.OPEN_STATUSES)
    can_manage = auth.can(request, "payments.manage")  # as POST /invoices/{id}/payments
    today = company_today(request.company)
    return {
        "invoice": invoice, "lines": list(invoice.lines.all()), "allocations": allocations,
        "attempts": list(payment_queries.attempts_for(invoice)[:20]),
        "credit_notes": credit_notes,
        "credited": sum((c.total for c in credit_notes if c.status != Invoice.Status.VOID),
                        start=Decimal(0)),
        "history": list(entries_about([invoice, *credit_notes,
                                       *(a.payment for a in allocations)])),
        "can_pay": payable and can_manage,
        "can_change": auth.can(request, "invoices.manage"),  # issue, send, void, credit
        "can_refund": can_manage,
        "cards": list(payment_queries.methods_for(invoice.client)) if payable and can_manage
        else [],
        "form": form or (PaymentForm(company=request.company, initial={
            "amount": quantize_money(invoice.balance, invoice.currency)})
            if payable and can_manage else None),
        "overdue_days": billing_queries.days_past_due(invoice, today),
    }


@auth.staff_view("invoices.view")
@require_GET
def invoice_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = _invoice(invoice_id)
    return render(request, "workspace/invoice.html", _detail_context(request, invoice, None))


@auth.staff_view("invoices.view")
@require_GET
def invoice_pdf_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = _invoice(invoice_id)
    response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, pdf_filename(invoice))
    return response


FIELD_OF = {"received_at": "received_on"}


@auth.staff_view("payments.manage")
@require_POST
def payment_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = _invoice(invoice_id)
    form = PaymentForm(request.POST, company=request.company)
    if form.is_valid():
        data = form.cleaned_data
        payload = {"amount": data["amount"].strip(), "method": data["method"],
                   "reference": data["reference"], "notes": data["notes"]}
        if form.received_at():
            payload["received_at"] = form.received_at()
        try:
            payment = record_invoice_payment(invoice, payload, actor=request.user)
        except ValidationError as exc:
            name = FIELD_OF.get(exc.field, exc.field)
            form.add_error(name if name in form.fields else None, exc.errors[0].message)
        except Conflict as exc:  # not open any more (paid, void) or a credit note
            messages.error(request, f"No payment recorded: {exc}.")
            return render(request, "workspace/invoice.html",
                          _detail_context(request, invoice, None), status=409)
        else:
            invoice = _invoice(invoice_id)
            text = f"Payment of {format_money(payment.amount, payment.currency)} recorded."
            if payment.unapplied:
                text += (f" {format_money(payment.unapplied, payment.currency)} is the "
                         "client's credit.")
            messages.success(request, text)
            return redirect(f"/app/invoices/{invoice.public_id}/")
    return render(request, "workspace/invoice.html",
                  _detail_context(request, invoice, form), status=400)


# -- collections -----------------------------------------------------------------------------

BUCKETS = (("current", "Not yet due"), ("d1_30", "1-30 days"), ("d31_60", "31-60 days"),
           ("d61_90", "61-90 days"), ("d90", "Over 90 days"))


@auth.staff_view("invoices.view")
@require_GET
def collections_view(request: HttpRequest) -> HttpResponse:
    """The aging board: what each client owes by days past due, with its card payments'
    dunning state and the last reminder; totals per currency over every client."""
    today = company_today(request.company)
    overdue_only = request.GET.get("overdue") == "on"
    rows = billing_queries.aging_by_client(today, overdue_only=overdue_only)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    dunning = payment_queries.dunning_by_client([r["client_id"] for r in page.object_list])
    reminded = last_reminded(r["client__public_id"] for r in page.object_list)
    for row in page.object_list:
        row["dunning"] = dunning[row["client_id"]]
        row["reminded_at"] = reminded.get(row["client__public_id"])
        row["buckets"] = [(label, row[key]) for key, label in BUCKETS]
    totals = billing_queries.aging_totals(rows)
    return render(request, "workspace/collections.html", {
        "page": page, "rows": page.object_list, "buckets": BUCKETS,
        "totals": [dict(t, buckets=[(label, t[key]) for key, label in BUCKETS])
                   for t in totals],
        "overdue_only": overdue_only, "query": "overdue=on" if overdue_only else "",
        "can_remind": auth.can(request, "invoices.manage"),
    })


def _client(client_id: str) -> Client:
    try:
        return client_queries.get_client(client_id)
    except NotFound:
        raise Http404("client not found") from None


@auth.staff_view("invoices.manage")
@require_POST
def remind_view(request: HttpRequest, client_id: str) -> HttpResponse:
    client = _client(client_id)
    currency = (request.POST.get("currency") or "").upper()[:3] or None
    try:
        data = send_payment_reminder(client, currency=currency, actor=request.user)
    except Conflict as exc:
        messages.error(request, f"No reminder sent: {exc}.")
    else:
        messages.success(request, f"Reminder sent to {client.name} for {data['balance']} "
                                  f"{data['currency']} on {data['count']} open "
                                  f"invoice{'s' if data['count'] != 1 else ''}, statement "
                                  "attached.")
    return redirect("/app/collections/" + (f"?{request.POST['back']}"
                                           if request.POST.get("back") == "overdue=on"
                                           else ""))


@auth.staff_view("invoices.view")
@require_GET
def statement_view(request: HttpRequest, client_id: str) -> HttpResponse:
    client = _client(client_id)
    currency = (request.GET.get("currency") or "").upper()[:3] or None
    if currency and currency not in {r["currency"] for r in
                                     billing_queries.open_totals(client)}:
        currency = None  # a currency the client has nothing in: its main one
    response = HttpResponse(statement_pdf(client, currency), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        True, f"statement-{client.public_id}.pdf")
    return response
