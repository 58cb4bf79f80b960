"""Card charges and refunds from an invoice page (Django test client, against the local
Stripe stand-in with the real client library): charge the card on file now, see a decline
explained, refund part of a payment and see the invoice re-open; roles, another company's
payments, bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.billing.models import Invoice
from nestogy.payments.methods import add_payment_method
from nestogy.payments.models import Payment
from nestogy.payments.recording import record_invoice_payment
from tests.portal.helpers import invoice
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def fresh(inv: Invoice) -> Invoice:
    with scopes_disabled():
        return Invoice.objects.get(pk=inv.pk)


def with_card(p, server, amount="120.00"):
    with scope(company=p.company_a.pk):
        inv = invoice(p.client_a, amount)
        add_payment_method(p.client_a, {"payment_method_reference": server.add_card(),
                                        "auto_pay": False})
    return inv


def test_charging_the_card_pays_and_a_decline_is_explained(personas, stripe_configured):
    p = personas
    server = stripe_configured
    inv = with_card(p, server)
    client = signed_in("billing@alpha.test")
    page = client.get(f"/app/invoices/{inv.public_id}/").content.decode()
    assert "visa ••4242" in page and "Charge 120.00 USD now" in page
    server.decline_next()
    body = client.post(f"/app/invoices/{inv.public_id}/charge", follow=True).content.decode()
    assert "The card was not charged:" in body
    assert fresh(inv).balance == Decimal("120.00")
    body = client.post(f"/app/invoices/{inv.public_id}/charge", follow=True).content.decode()
    assert "Card charged 120.00 USD." in body
    assert fresh(inv).status == "paid"
    assert len(server.succeeded_charges()) == 1


def test_a_refund_goes_to_the_gateway_and_reopens_the_invoice(personas, stripe_configured):
    p = personas
    inv = with_card(p, stripe_configured)
    client = signed_in("billing@alpha.test")
    client.post(f"/app/invoices/{inv.public_id}/charge")
    with scope(company=p.company_a.pk):
        payment = Payment.objects.get()
    url = f"/app/invoices/{inv.public_id}/payments/{payment.public_id}/refund"
    body = client.post(url, {"amount": "20.00", "reason": "Overbilled hours"},
                       follow=True).content.decode()
    assert "Refunded 20.00 USD." in body
    assert "20.00 USD refunded" in body
    assert fresh(inv).balance == Decimal("20.00")
    with scope(company=p.company_a.pk):
        assert Payment.objects.get().amount_refunded == Decimal("20.00")


@pytest.mark.parametrize(("data", "message"), [
    ({"amount": "20.00", "reason": ""}, "No refund. Reason: Say why the money is given back."),
    ({"amount": "500", "reason": "Too much"}, "No refund. Amount: exceeds the refundable"),
    ({"amount": "abc", "reason": "Typo"}, "No refund. Amount:"),
])
def test_bad_refunds_are_refused_naming_the_field(personas, data, message):
    p = personas
    with scope(company=p.company_a.pk):
        inv = invoice(p.client_a, "120.00")
        payment = record_invoice_payment(inv, {"amount": "120.00", "method": "check"})
    body = signed_in("billing@alpha.test").post(
        f"/app/invoices/{inv.public_id}/payments/{payment.public_id}/refund", data,
        follow=True).content.decode()
    assert message in body
    with scope(company=p.company_a.pk):
        assert Payment.objects.get().amount_refunded == 0


def test_no_card_on_file_is_explained(personas):
    p = personas
    with scope(company=p.company_a.pk):
        inv = invoice(p.client_a, "120.00")
    body = signed_in("billing@alpha.test").post(f"/app/invoices/{inv.public_id}/charge",
                                                follow=True).content.decode()
    assert "No charge: the client has no payment method on file." in body


def test_another_companys_invoices_and_payments_are_not_found(personas):
    p = personas
    with scope(company=p.company_b.pk):
        theirs = invoice(p.client_b, "50.00")
        their_payment = record_invoice_payment(theirs, {"amount": "50.00", "method": "cash"})
    with scope(company=p.company_a.pk):
        mine = invoice(p.client_a, "60.00")
    client = signed_in("owner@alpha.test")
    assert client.post(f"/app/invoices/{theirs.public_id}/charge").status_code == 404
    assert client.post(f"/app/invoices/{theirs.public_id}/payments/"
                       f"{their_payment.public_id}/refund", {"reason": "x"}).status_code == 404
    # their payment through one of our invoices: still not found
    assert client.post(f"/app/invoices/{mine.public_id}/payments/"
                       f"{their_payment.public_id}/refund", {"reason": "x"}).status_code == 404
    with scope(company=p.company_b.pk):
        assert Payment.objects.get().amount_refunded == 0


@pytest.mark.parametrize("role", ROLES)
def test_charges_and_refunds_ask_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    with scope(company=p.company_a.pk):
        inv = invoice(p.client_a, "120.00")
        payment = record_invoice_payment(inv, {"amount": "120.00", "method": "check"})
        other = invoice(p.client_a2, "80.00")
    cases = [
        ("post", f"/app/invoices/{inv.public_id}/payments/{payment.public_id}/refund",
         {"amount": "10", "reason": "Goodwill"}, "payments.manage"),
        ("post", f"/app/invoices/{other.public_id}/charge", {}, "payments.manage"),
    ]
    check_role_matrix(signed_in(persona.email), persona.role, cases)
    with scope(company=p.company_a.pk):
        refunded = Payment.objects.get(pk=payment.pk).amount_refunded
    assert refunded == (Decimal("10") if allowed(persona.role, "payments.manage") else 0)
