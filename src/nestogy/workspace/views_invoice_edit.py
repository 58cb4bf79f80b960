"""Invoice changes in the workspace (``invoices.manage``, as the API's invoice endpoints):

- **Drafts** (``/app/invoices/new``, ``/app/invoices/<id>/edit``): the client, currency and
  terms, and a line editor (description, quantity, unit price, taxable); the totals follow
  the lines as they are typed (htmx posts the lines to ``/app/invoices/totals``, which
  computes them with ``billing.actions.draft_totals``, the rules every invoice uses).
  *Add a line* works without JavaScript. Saving writes through ``create_invoice`` /
  ``update_draft``; an error names the field and the line, and nothing is written. A draft
  the recurring run made from a contract is not edited line by line (its lines belong to
  the contract's periods): void it and correct the contract, or issue it and credit it.
- **Issue** a draft (it gets its number), **send** an issued invoice to the client's
  billing contacts (PDF attached, through the outbox), **void** an invoice nothing was paid
  on (with a reason), **credit** an issued invoice (every line of it, or an amount before
  tax with a description, taxed at the invoice's rate). Each goes through
  ``billing.actions`` and is audited; a refusal (a payment on it, already void...) is
  explained on the invoice.
- **Charge the card on file** now, and **refund** a payment shown on the invoice
  (``payments.manage``): card refunds go to the gateway first.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from nestogy.billing import actions as billing_actions
from nestogy.billing import queries as billing_queries
from nestogy.billing.models import Invoice
from nestogy.clients import queries as client_queries
from nestogy.clients.models import Client
from nestogy.core.errors import Conflict, NotFound, ValidationError
from nestogy.core.money import format_money
from nestogy.payments import charging, refunds
from nestogy.payments import queries as payment_queries
from nestogy.payments.models import PaymentAttempt
from nestogy.workspace import auth

MAX_ROWS = 200
LINE_FIELDS = ("description", "quantity", "unit_price", "taxable")
FIELD_LABELS = {"tax_rate_percent": "Tax rate", "payment_terms_days": "Payment terms",
                "due_date": "Due date", "currency": "Currency", "notes": "Notes",
                "client": "Client", "items": "Lines"}
LINE_LABELS = {"description": "Description", "quantity": "Quantity",
               "unit_price": "Unit price", "taxable": "Taxable", "tax_rate": "Tax rate"}


def _invoice(invoice_id: str) -> Invoice:
    try:
        return billing_queries.get_invoice(invoice_id)
    except NotFound:
        raise Http404("invoice not found") from None


class DraftForm(forms.Form):
    client = forms.CharField(label="Client", required=False)
    currency = forms.CharField(label="Currency", max_length=3, required=False)
    tax_rate_percent = forms.CharField(label="Tax rate (%)", max_length=20, required=False)
    payment_terms_days = forms.IntegerField(label="Payment terms (days)", min_value=0,
                                            max_value=365, initial=30,
                                            error_messages={"invalid": "Enter whole days."})
    due_date = forms.DateField(label="Due date", required=False,
                               error_messages={"invalid": "Enter a date as YYYY-MM-DD."})
    notes = forms.CharField(label="Notes", max_length=5000, required=False)


def _rows(post) -> list[dict]:
    """The line editor's rows as typed (blank rows dropped), at most MAX_ROWS."""
    try:
        count = min(int(post.get("rows", 0)), MAX_ROWS)
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        row = {name: (post.get(f"line-{i}-{name}") or "").strip() for name in LINE_FIELDS[:3]}
        row["taxable"] = post.get(f"line-{i}-taxable") == "on"
        if row["description"] or row["quantity"] or row["unit_price"]:
            rows.append(row)
    return rows


def _items(rows: list[dict]) -> list[dict]:
    return [{"description": r["description"], "quantity": r["quantity"] or "1",
             "unit_price": r["unit_price"], "taxable": r["taxable"]} for r in rows]


def _line_error(exc: ValidationError) -> tuple[int | None, str, str]:
    """``items[2].unit_price`` → (2, 'unit_price', message)."""
    field = exc.field or ""
    if field.startswith("items["):
        index, _, name = field[6:].partition("].")
        if index.isdigit():
            return int(index), name or "description", exc.message
    return None, field, exc.message


def _editor(request: HttpRequest, *, invoice: Invoice | None, form: DraftForm,
            rows: list[dict], errors: dict | None = None, status: int = 200) -> HttpResponse:
    errors = errors or {}
    while len(rows) < 3:
        rows.append({"description": "", "quantity": "", "unit_price": "", "taxable": True})
    totals = None
    try:
        totals = billing_actions.draft_totals(
            request.company, (invoice.currency if invoice else form.data.get("currency"))
            or request.company.currency, _items([r for r in rows if r["description"]
                                                 or r["unit_price"]]),
            form.data.get("tax_rate_percent") if form.is_bound else None)
    except ValidationError:
        totals = None
    clients = list(Client.objects.order_by("name").values_list("public_id", "name")[:500]) \
        if invoice is None else []
    return render(request, "workspace/invoice_form.html", {
        "invoice": invoice, "form": form, "rows": rows,
        "errors": errors.get("fields", {}), "totals": totals, "clients": clients,
        "currency": invoice.currency if invoice else (form.data.get("currency")
                                                       or request.company.currency),
    }, status=status)


def _save(request: HttpRequest, invoice: Invoice | None) -> HttpResponse:
    form = DraftForm(request.POST)
    rows = _rows(request.POST)
    if "add_line" in request.POST:  # no write: one more row
        rows.append({"description": "", "quantity": "", "unit_price": "", "taxable": True})
        form.is_valid()
        return _editor(request, invoice=invoice, form=form, rows=rows)
    errors: dict = {"fields": {}}
    if not form.is_valid():
        for name, errs in form.errors.items():
            errors["fields"][name] = " ".join(errs)
        return _editor(request, invoice=invoice, form=form, rows=rows, errors=errors, status=400)
    data = form.cleaned_data
    payload = {"items": _items(rows), "notes": data["notes"],
               "payment_terms_days": data["payment_terms_days"],
               "tax_rate_percent": data["tax_rate_percent"] or None,
               "due_date": data["due_date"].isoformat() if data["due_date"] else None}
    try:
        if invoice is None:
            try:
                client = client_queries.get_client(data["client"])
            except NotFound:
                raise ValidationError("client", "choose one of your clients") from None
            payload["currency"] = data["currency"] or None
            saved = billing_actions.create_invoice(request.company, client, payload,
                                                   actor=request.user)
            messages.success(request, "Draft saved. Issue it when it is right.")
        else:
            saved = billing_actions.update_draft(invoice, payload, actor=request.user)
            messages.success(request, "Draft saved.")
    except ValidationError as exc:
        index, name, message = _line_error(exc)
        if index is not None:
            if index < len(rows):
                rows[index]["error_field"] = name
                rows[index]["error"] = f"{LINE_LABELS.get(name, name)}: {message}."
            errors["fields"]["lines"] = (f"Line {index + 1}, "
                                         f"{LINE_LABELS.get(name, name).lower()}: {message}.")
        else:
            errors["fields"][name if name in form.fields else "lines"] = \
                f"{FIELD_LABELS.get(name, name)}: {message}."
        return _editor(request, invoice=invoice, form=form, rows=rows, errors=errors, status=400)
    except Conflict as exc:
        messages.error(request, f"Not saved: {exc}.")
        return redirect(f"/app/invoices/{invoice.public_id}/")
    return redirect(f"/app/invoices/{saved.public_id}/")


@auth.staff_view("invoices.manage")
@require_http_methods(["GET", "POST"])
def new_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    initial = {"payment_terms_days": 30, "currency": request.company.currency,
               "client": request.GET.get("client", "")[:40]}
    return _editor(request, invoice=None, form=DraftForm(initial=initial), rows=[])


@auth.staff_view("invoices.manage")
@require_http_methods(["GET", "POST"])
def edit_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = _invoice(invoice_id)
    if invoice.status != Invoice.Status.DRAFT or invoice.contract_id:
        messages.error(request, "Only a draft made here can be edited line by line."
                       if invoice.status == Invoice.Status.DRAFT else
                       "An issued invoice does not change; correct it with a credit note.")
        return redirect(f"/app/invoices/{invoice.public_id}/")
    if request.method == "POST":
        return _save(request, invoice)
    rate = next((line.tax_rate for line in invoice.lines.all() if line.taxable), None)
    form = DraftForm(initial={"payment_terms_days": invoice.payment_terms_days,
                              "due_date": invoice.due_date, "notes": invoice.notes,
                              "tax_rate_percent": rate.normalize() if rate else ""})
    rows = [{"description": line.description, "quantity": line.quantity.normalize(),
             "unit_price": line.unit_price.normalize(), "taxable": line.taxable}
            for line in invoice.lines.order_by("position")]
    return _editor(request, invoice=invoice, form=form, rows=rows)


@auth.staff_view("invoices.manage")
@require_POST
def totals_view(request: HttpRequest) -> HttpResponse:
    """The line editor's live totals (htmx): computed, written nowhere."""
    rows = _rows(request.POST)
    currency = (request.POST.get("currency") or request.company.currency)[:3]
    invoice_id = request.POST.get("invoice")
    if invoice_id:
        currency = _invoice(invoice_id).currency
    try:
        totals = billing_actions.draft_totals(request.company, currency, _items(rows),
                                              request.POST.get("tax_rate_percent"))
        error = ""
    except ValidationError as exc:
        totals = None
        index, name, message = _line_error(exc)
        error = (f"Line {index + 1}, {LINE_LABELS.get(name, name).lower()}: {message}."
                 if index is not None else f"{FIELD_LABELS.get(name, name)}: {message}.")
    return render(request, "workspace/_invoice_totals.html",
                  {"totals": totals, "error": error, "currency": currency})


def _back(invoice: Invoice) -> HttpResponse:
    return redirect(f"/app/invoices/{invoice.public_id}/")


@auth.staff_view("invoices.manage")
@require_POST
def issue_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = _invoice(invoice_id)
    try:
        invoice = billing_actions.issue_invoice(invoice, actor=request.user)
    except (ValidationError, Conflict) as exc:
        messages.error(request, f"Not issued: {getattr(exc, 'message', exc)}.")
    else:
        messages.success(request, f"Issued as {invoice.number}, due "
                                  f"{invoice.due_date:%-d %B %Y}.")
    return _back(invoice)


@auth.staff_view("invoices.manage")
@require_POST
def send_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = _invoice(invoice_id)
    try:
        invoice = billing_actions.send_invoice(invoice, actor=request.user)
    except Conflict as exc:
        messages.error(request, f"Not sent: {exc}.")
    else:
        messages.success(request, f"{invoice.number} is on its way to "
                                  f"{invoice.client.name}'s billing contacts, PDF attached.")
    return _back(invoice)


class VoidForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=500,
                             error_messages={"required": "Say why the invoice is voided."})


@auth.staff_view("invoices.manage")
@require_POST
def void_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = _invoice(invoice_id)
    form = VoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not voided. Reason: {' '.join(form.errors['reason'])}")
        return _back(invoice)
    try:
        invoice = billing_actions.void_invoice(invoice, actor=request.user,
                                               reason=form.cleaned_data["reason"])
    except Conflict as exc:
        messages.error(request, f"Not voided: {exc}.")
    else:
        messages.success(request, f"{invoice} is void.")
    return _back(invoice)


class CreditForm(forms.Form):
    amount = forms.CharField(label="Amount before tax", max_length=30, required=False,
                             help_text="Leave empty to credit the whole invoice")
    description = forms.CharField(label="Description", max_length=500, required=False)
    reason = forms.CharField(label="Reason", max_length=300,
                             error_messages={"required": "Say why the invoice is credited."})

    def clean(self):
        data = super().clean()
        if data.get("amount") and not data.get("description"):
            self.add_error("description", "Describe what the amount credits.")
        return data


@auth.staff_view("invoices.manage")
@require_POST
def credit_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = _invoice(invoice_id)
    form = CreditForm(request.POST)
    if not form.is_valid():
        for name, errs in form.errors.items():
            messages.error(request, f"No credit note. {form.fields[name].label}: "
                                    f"{' '.join(errs)}")
        return _back(invoice)
    data = form.cleaned_data
    payload = {"reason": data["reason"]}
    if data["amount"]:
        payload["items"] = [{"description": data["description"], "quantity": "1",
                             "unit_price": data["amount"].strip()}]
    try:
        note = billing_actions.create_credit_note(invoice, payload, actor=request.user)
    except ValidationError as exc:
        _, name, message = _line_error(exc)
        label = "Amount before tax" if name in ("unit_price", "items", "quantity") else name
        messages.error(request, f"No credit note. {label}: {message}.")
    except Conflict as exc:
        messages.error(request, f"No credit note: {exc}.")
    else:
        messages.success(request, f"Credit note {note.number} for "
                                  f"{format_money(note.total, note.currency)} issued.")
    return _back(invoice)


# -- card charges and refunds (payments.manage, as the API) ----------------------------------

@auth.staff_view("payments.manage")
@require_POST
def charge_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    """Charge the client's card on file for the balance now (``retry_payment_now``): the
    call to the gateway is made outside any transaction and its outcome recorded."""
    invoice = _invoice(invoice_id)
    try:
        attempt = charging.retry_payment_now(invoice, actor=request.user)
    except (Conflict, ValidationError) as exc:
        messages.error(request, f"No charge: {getattr(exc, 'message', exc)}.")
        return _back(invoice)
    amount = format_money(attempt.amount, invoice.currency)
    if attempt.status == PaymentAttempt.Status.SUCCEEDED:
        messages.success(request, f"Card charged {amount}.")
    elif attempt.status in (PaymentAttempt.Status.PENDING, PaymentAttempt.Status.UNKNOWN):
        messages.warning(request, f"The card payment of {amount} has no answer from the "
                                  "gateway yet; it is reconciled automatically.")
    else:
        messages.error(request, f"The card was not charged: "
                                f"{attempt.error_message or attempt.get_status_display()}.")
    return _back(invoice)


class RefundForm(forms.Form):
    amount = forms.CharField(label="Amount", max_length=30, required=False,
                             help_text="Leave empty to refund all that is refundable")
    reason = forms.CharField(label="Reason", max_length=300,
                             error_messages={"required": "Say why the money is given back."})


@auth.staff_view("payments.manage")
@require_POST
def refund_view(request: HttpRequest, invoice_id: str, payment_id: str) -> HttpResponse:
    """Refund a payment shown on an invoice (``refunds.refund_payment``: card payments at
    the gateway first); the client's credit goes first, then the invoices re-open."""
    invoice = _invoice(invoice_id)
    payment = next((a.payment for a in payment_queries.allocations_for(invoice)
                    if a.payment.public_id == payment_id), None)
    if payment is None:
        raise Http404("payment not found on this invoice")
    form = RefundForm(request.POST)
    if not form.is_valid():
        for name, errs in form.errors.items():
            messages.error(request, f"No refund. {form.fields[name].label}: {' '.join(errs)}")
        return _back(invoice)
    data = {"reason": form.cleaned_data["reason"]}
    if form.cleaned_data["amount"]:
        data["amount"] = form.cleaned_data["amount"].strip()
    try:
        refund = refunds.refund_payment(payment, data, actor=request.user)
    except ValidationError as exc:
        messages.error(request, f"No refund. {LINE_LABELS.get(exc.field, 'Amount')}: "
                                f"{exc.message}.")
    except Conflict as exc:
        messages.error(request, f"No refund: {exc}.")
    else:
        messages.success(request, f"Refunded {format_money(refund.amount, payment.currency)}.")
    return _back(invoice)
