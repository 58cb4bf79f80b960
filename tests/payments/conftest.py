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
