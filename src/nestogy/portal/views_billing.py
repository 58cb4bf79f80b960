"""Portal billing pages: invoices (list, detail, PDF, pay) and the contract summary.

Paying redirects to the gateway's hosted checkout page
(``nestogy.payments.charging.start_checkout``); the payment is recorded when the gateway's
signed webhook arrives, so the page the client comes back to says the payment is being
confirmed and shows the invoice's current status.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from nestogy.billing.models import Invoice, InvoiceLine
from nestogy.billing.pdf import pdf_filename, render_invoice_pdf
from nestogy.core.errors import NestogyError
from nestogy.payments.charging import start_checkout
from nestogy.portal import auth, queries

log = logging.getLogger(__name__)
PAGE_SIZE = 25


def can_pay(invoice: Invoice) -> bool:
    return (invoice.kind == Invoice.Kind.INVOICE and invoice.status in Invoice.OPEN_STATUSES
            and invoice.balance > 0)


@auth.contact_required
def invoice_list_view(request: HttpRequest) -> HttpResponse:
    contact = request.contact
    page = Paginator(queries.visible_invoices(contact).order_by("-issue_date", "-id"),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/invoices/list.html", {
        "page": page, "invoices": page.object_list,
        "unpaid": queries.unpaid_totals(contact)})


@auth.contact_required
def invoice_detail_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = queries.get_invoice(request.contact, invoice_id)
    lines = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position", "id"))
    return render(request, "portal/invoices/detail.html", {
        "invoice": invoice, "lines": lines, "can_pay": can_pay(invoice)})


@auth.contact_required
def invoice_pdf_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = queries.get_invoice(request.contact, invoice_id)
    response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, pdf_filename(invoice))
    return response


@auth.contact_required
@require_POST
def invoice_pay_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = queries.get_invoice(request.contact, invoice_id)
    here = f"/portal/invoices/{invoice.public_id}/"
    if not can_pay(invoice):
        messages.error(request, "This invoice has nothing left to pay.")
        return redirect(here)
    try:
        url = start_checkout(invoice,
                             success_url=request.build_absolute_uri(f"{here}paid/"),
                             cancel_url=request.build_absolute_uri(here))
    except NestogyError as exc:
        log.warning("portal checkout for %s failed: %s", invoice.public_id, exc.message)
        messages.error(request, "Online payment is not available right now. Please try again "
                                "later or contact us.")
        return redirect(here)
    return redirect(url)


@auth.contact_required
def invoice_paid_view(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = queries.get_invoice(request.contact, invoice_id)
    return render(request, "portal/invoices/paid.html", {"invoice": invoice})


@auth.contact_required
def contract_list_view(request: HttpRequest) -> HttpResponse:
    rows = []
    for contract in queries.client_contracts(request.contact):
        items = [{"item": item, "fixed": item.kind == "fixed",
                  "amount": item.quantity * item.unit_price if item.kind == "fixed" else None}
                 for item in contract.items.all()]
        renews_on = (contract.end_date + timedelta(days=1)
                     if contract.auto_renew and contract.end_date else None)
        rows.append({"contract": contract, "items": items, "renews_on": renews_on,
                     "recurring": sum((i["amount"] for i in items if i["amount"] is not None),
                                      Decimal(0))})
    return render(request, "portal/contracts.html", {"contracts": rows})
