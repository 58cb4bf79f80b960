"""Fixtures for tests that talk to the Stripe stand-in. Other suites (the portal) reuse them
with ``from tests.payments.fixtures import standin, stripe_configured  # noqa: F401`` in their
conftest.py."""

from __future__ import annotations

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
