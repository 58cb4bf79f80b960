"""Invoice notifications render from their stored (JSON) context: no empty dates or names."""

from __future__ import annotations

from django.core import mail
from django.db import transaction
from django_scopes import scope

from nestogy.billing.actions import create_invoice, issue_invoice, send_invoice
from nestogy.notifications.models import Delivery
from nestogy.notifications.sending import send_due


def test_sent_invoice_email_names_company_dates_and_carries_the_pdf(
        personas, django_capture_on_commit_callbacks):
    p = personas
    with scope(company=p.company_a.pk):
        p.client_a.email = "accounts@acme.test"
        p.client_a.save()
        with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
            invoice = create_invoice(p.company_a, p.client_a, {
                "due_date": "2030-01-31",
                "items": [{"description": "Firewall setup", "unit_price": "120.00"}]})
            invoice = issue_invoice(invoice)
            send_invoice(invoice)
    send_due()
    sent = [m for m in mail.outbox if "accounts@acme.test" in m.to]
    assert sent, (_debug(p), [m.to for m in mail.outbox])
    message = sent[0]
    assert message.subject == f"Invoice {invoice.number} from Alpha IT"
    assert "due on 2030-01-31" in message.body
    html = message.alternatives[0][0]
    assert "Alpha IT" in html and "2030-01-31" in html and "Firewall setup" in html
    [(name, content, mimetype)] = message.attachments
    assert name == f"{invoice.number}.pdf" and content[:4] == b"%PDF"
    assert mimetype == "application/pdf"
    with scope(company=p.company_a.pk):
        issued = Delivery.objects.filter(event_type="invoice.issued")
        assert issued.exists() and not issued.filter(status="failed").exists()


def _debug(p):
    with scope(company=p.company_a.pk):
        return list(Delivery.objects.values_list("event_type", "channel", "target", "status",
                                                 "last_error"))
