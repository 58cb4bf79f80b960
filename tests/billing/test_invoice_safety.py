"""Invoices that must not be issued, and PDF downloads whose filename a tenant controls."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django_scopes import scope, scopes_disabled

from nestogy.billing import recurring
from nestogy.billing.models import Invoice, InvoiceCounter
from tests.billing.helpers import make_contract
from tests.portal.helpers import signed_in


def test_negative_total_invoice_is_refused_pointing_to_credit_notes(personas):
    """Attack: issue an invoice whose lines add up to −500. It used to become "paid" with a
    balance of −500; it is refused (422 naming the lines), stays a draft and takes no
    number."""
    api = personas.billing_a.api
    draft = api.post("/invoices", {"client_id": personas.client_a.public_id, "items": [
        {"description": "Goodwill refund", "unit_price": "-500"}]})
    assert draft.status_code == 201
    refused = api.post(f"/invoices/{draft.data['id']}/issue")
    assert refused.status_code == 422
    error = refused.data["error"]
    assert error["field"] == "items" and error["errors"][0]["code"] == "negative_total"
    assert "-500.00 USD" in error["message"] and "credit note" in error["message"]
    with scopes_disabled():
        invoice = Invoice.objects.get(public_id=draft.data["id"])
        assert not InvoiceCounter.objects.filter(company=personas.company_a,
                                                 next_value__gt=1).exists()
    assert (invoice.status, invoice.number, invoice.balance) == ("draft", None,
                                                                 Decimal("-500.00"))
    # A zero total still issues (settled at once), as before.
    zero = api.post("/invoices", {"client_id": personas.client_a.public_id, "items": [
        {"description": "Free check-up", "unit_price": "0"}]})
    issued = api.post(f"/invoices/{zero.data['id']}/issue")
    assert issued.status_code == 200 and issued.data["status"] == "paid"
    assert issued.data["number"] == "INV-00001"


def test_recurring_run_leaves_a_negative_period_as_a_draft(personas):
    p = personas
    with scope(company=p.company_a.pk):
        negative = make_contract(p.company_a, p.client_a, seats="1", price="-80.00",
                                 metered=False)
        positive = make_contract(p.company_a, p.client_a2, seats="2", price="30.00",
                                 metered=False)
        result = recurring.run_recurring(p.company_a, date(2025, 1, 1))
        by_contract = {plan.contract.pk: plan.invoice for plan in result.invoices}
    assert by_contract[negative.pk].status == "draft" and by_contract[negative.pk].number is None
    assert by_contract[positive.pk].status == "issued"
    assert by_contract[positive.pk].number == "INV-00001"


def test_pdf_filename_with_quotes_newlines_and_non_ascii_is_encoded(personas):
    """Attack: a tenant-chosen invoice prefix with a quote, a line break and non-ASCII
    characters ends up in Content-Disposition. Built with f-strings it broke the header
    (a 500, or a header split); now it is encoded."""
    owner = personas.owner_a.api
    prefix = 'Ré"\nX-'
    changed = owner.patch("/company/settings", {"settings": {"billing.invoice_prefix": prefix}})
    assert changed.status_code == 200, changed.data
    api = personas.billing_a.api
    draft = api.post("/invoices", {"client_id": personas.client_a.public_id,
                                   "items": [{"description": "Setup", "unit_price": "50"}]})
    issued = api.post(f"/invoices/{draft.data['id']}/issue")
    assert issued.data["number"] == f"{prefix}00001"

    response = personas.manager_a.api.get(f"/invoices/{draft.data['id']}/pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    header = response["Content-Disposition"]
    assert header == "inline; filename*=utf-8''R%C3%A9%22%0AX-00001.pdf"
    assert "\n" not in header and '"' not in header

    dana = signed_in("dana@acme.test")
    portal = dana.get(f"/portal/invoices/{draft.data['id']}/pdf")
    assert portal.status_code == 200
    assert portal["Content-Disposition"] == "attachment; filename*=utf-8''R%C3%A9%22%0AX-00001.pdf"


def test_statement_filename_is_a_proper_header(personas):
    response = personas.billing_a.api.get(f"/clients/{personas.client_a.public_id}"
                                          "/statement.pdf")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'inline; filename="statement-{personas.client_a.public_id}.pdf"')
