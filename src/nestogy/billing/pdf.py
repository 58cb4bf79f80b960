"""Invoice HTML and PDF: one template (``billing/invoice.html``) for the PDF and the email.

The PDF is rendered with WeasyPrint at send/download time (never stored), so it always
matches the invoice; :func:`nestogy.core.pdf.render_pdf` loads nothing but embedded data and
the product's static files. The company logo is the stored one (a data: URL), never a URL
a tenant typed. ``invoice_pdf`` is registered as an attachment builder: an event's
``attachments: [{"builder": "invoice_pdf", "invoice_id": 42}]`` becomes the file.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from nestogy.core import attachments
from nestogy.core.money import money_str
from nestogy.core.pdf import render_pdf
from nestogy.tenancy.queries import logo_data_url


def invoice_context(invoice) -> dict:
    from nestogy.billing.models import InvoiceLine

    currency = invoice.currency
    lines = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position", "id"))
    company = invoice.company
    return {
        "invoice": invoice, "company": company, "client": invoice.client,
        "number": invoice.number or "DRAFT", "currency": currency,
        "title": "Credit note" if invoice.kind == "credit_note" else "Invoice",
        "lines": [{"description": ln.description,
                   "quantity": format(ln.quantity.normalize(), "f"),
                   "unit_price": format(ln.unit_price.normalize(), "f"),
                   "amount": money_str(ln.amount, currency),
                   "tax_rate": format(ln.tax_rate.normalize(), "f") if ln.taxable else ""}
                  for ln in lines],
        "subtotal": money_str(invoice.subtotal, currency),
        "tax": money_str(invoice.tax, currency),
        "total": money_str(invoice.total, currency),
        "amount_paid": money_str(invoice.amount_paid, currency),
        "balance": money_str(invoice.balance, currency),
        "logo_data_url": logo_data_url(company),
        "client_name": invoice.client.name,
    }


def render_invoice_html(invoice) -> str:
    return render_to_string("billing/invoice.html", invoice_context(invoice))


def render_invoice_pdf(invoice) -> bytes:
    return render_pdf(render_invoice_html(invoice))


def pdf_filename(invoice) -> str:
    return f"{invoice.number or 'draft-' + invoice.public_id}.pdf"


def build_invoice_pdf(invoice_id: int) -> attachments.Attachment:
    """The ``invoice_pdf`` attachment builder (called inside the company's scope)."""
    from nestogy.billing.models import Invoice

    invoice = Invoice.objects.select_related("client", "company").get(pk=invoice_id)
    return attachments.Attachment(pdf_filename(invoice), render_invoice_pdf(invoice),
                                  "application/pdf")


attachments.register("invoice_pdf", build_invoice_pdf)
