from __future__ import annotations

from decimal import Decimal

import pytest

from tests.payments.stripe_standin import StripeStandIn


@pytest.fixture
def standin():
    server = StripeStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def stripe_gateway(standin):
    from nestogy.payments.gateways import get_gateway

    return get_gateway("stripe", **standin.client_options(), timeout=2)


@pytest.fixture
def stripe_configured(standin):
    """Every ``get_gateway("stripe")`` of the code under test talks to the stand-in."""
    from nestogy.payments import gateways

    gateways.configure("stripe", **standin.client_options(), timeout=1)
    yield standin
    gateways.reset_configuration("stripe")


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "notifications", "billing", "sla"]}}


@pytest.fixture
def events():
    """Every domain event emitted during the test, in order."""
    from nestogy.core import events as core_events

    seen: list = []
    core_events.subscribe(seen.append)
    yield seen
    core_events._subscribers.remove(seen.append)


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


def card_on_file(client, standin, *, auto_pay=True):
    from nestogy.payments.actions import add_payment_method

    return add_payment_method(client, {"payment_method_reference": standin.add_card(),
                                       "auto_pay": auto_pay})
