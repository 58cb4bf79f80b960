from __future__ import annotations

from decimal import Decimal

import pytest

from tests.payments.fixtures import (  # noqa: F401  (fixtures)
    events,
    immediate_tasks,
    standin,
    stripe_configured,
    stripe_gateway,
)


@pytest.fixture(autouse=True)
def manual_charging(request):
    """These suites drive charges step by step: switch off the auto-pay reaction to
    ``invoice.issued`` unless a test is marked ``auto_pay_on_issue``
    (tests/payments/test_auto_pay.py)."""
    from nestogy.core.events import react, reactions, unsubscribe
    from nestogy.payments.auto_pay import on_invoice_issued

    if request.node.get_closest_marker("auto_pay_on_issue"):
        assert on_invoice_issued in reactions("invoice.issued")
        yield
        return
    unsubscribe(on_invoice_issued)
    try:
        yield
    finally:
        react("invoice.issued", on_invoice_issued)


def issued_invoice(client, amount="100.00", *, due_date=None, currency=None):
    from nestogy.billing.actions import create_invoice, issue_invoice

    data = {"items": [{"description": "Managed services", "unit_price": str(amount),
                       "taxable": False}]}
    if due_date is not None:
        data["due_date"] = due_date
    if currency is not None:
        data["currency"] = currency
    invoice = create_invoice(client.company, client, data)
    invoice = issue_invoice(invoice)
    assert invoice.total == Decimal(amount)
    return invoice


def card_on_file(client, server, *, auto_pay=True):
    from nestogy.payments.methods import add_payment_method

    return add_payment_method(client, {"payment_method_reference": server.add_card(),
                                       "auto_pay": auto_pay})
