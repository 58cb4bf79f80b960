"""Fuzz every operation of the OpenAPI document against a live server (schemathesis).

A live server (pytest-django's ``live_server``, the real WSGI stack and middleware) serves a
seeded company: the test personas, with a ticket, a contract, an issued invoice, a payment,
a card on file, notifications and an absence, so that path parameters name real objects.
The document is loaded from the server itself (``/api/v1/openapi.json``) and walked, so
operations added later are fuzzed without touching this file.

For every operation, schemathesis generates requests from the document, both valid ones
(positive) and invalid ones (negative), with path parameters either seeded ids or generated
strings, and checks each answer:

- ``not_a_server_error``: never a 5xx;
- ``status_code_conformance``: the status is one the operation documents;
- ``content_type_conformance``: the content type is the documented one;
- ``response_schema_conformance``: the body validates against the documented schema.

Only revoking the token in use is not fuzzed (``DELETE /tokens/{token_id}`` is, on another
token). Examples are bounded (``NESTOGY_FUZZ_EXAMPLES`` per operation and mode, default 8)
and derandomized, so the run is repeatable; set ``NESTOGY_FUZZ_SEED`` to explore other
examples (``NESTOGY_FUZZ_EXAMPLES=100 NESTOGY_FUZZ_SEED=7 pytest -m fuzz``).
Select the suite with ``-m fuzz``; it is part of the normal run.
"""

from __future__ import annotations

import logging
import os
import re
import time

import pytest
import requests
import schemathesis
from django_scopes import scope
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_catalog import PUBLIC
from tests.payments.fixtures import standin, stripe_configured  # noqa: F401  (fixtures)
from tests.test_api_contract import object_ids

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

# Examples per operation: valid requests, and invalid ones (each mode is capped on its own).
EXAMPLES = int(os.environ.get("NESTOGY_FUZZ_EXAMPLES", "6"))
MODES = {GenerationMode.POSITIVE: EXAMPLES, GenerationMode.NEGATIVE: max(1, EXAMPLES // 2)}
SEED = os.environ.get("NESTOGY_FUZZ_SEED")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Per-request log lines (4xx warnings, PDF progress, gateway calls) slow the run down.
QUIET = ("django.request", "django.server", "weasyprint", "weasyprint.progress", "fontTools",
         "stripe", "nestogy")


@pytest.fixture
def quiet_logs():
    levels = {name: logging.getLogger(name).level for name in QUIET}
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def seed_company(p, stripe) -> dict[str, str]:
    """Objects of company A for every path parameter, and a token the fuzzer may revoke."""
    from nestogy.accounts.actions import issue_api_token
    from nestogy.notifications.models import Notification
    from nestogy.payments.methods import add_payment_method

    ids = object_ids(p)
    ids["assignee_id"] = p.tech_a.user.public_id
    with scope(company=p.company_a.pk):
        spare, _ = issue_api_token(p.owner_a.membership, name="fuzz: may be revoked")
        ids["token_id"] = spare.public_id
        ids["notification_id"] = Notification.objects.create(
            company=p.company_a, user=p.owner_a.user, event_type="ticket.created",
            title="Fuzz notification").public_id
        add_payment_method(p.client_a, {"payment_method_reference": stripe.add_card(),
                                        "auto_pay": False})
    return ids


# Ids named in bodies and query strings, by field name, for the seeded half of the examples
# (so that creating a ticket or recording a payment gets past the lookups).
REFERENCES = {"client_id": "client_id", "contact_id": "contact_id", "site_id": "site_id",
              "assignee_id": "assignee_id", "calendar_id": "calendar_id",
              "sla_policy_id": "policy_id", "invoice_id": "invoice_id",
              "contract_item_id": "metered_item_id", "ticket_ids": "ticket_id"}


def _with_references(value, ids: dict):
    """``value`` (a generated body or query) with id fields pointing at seeded objects."""
    if isinstance(value, list):
        return [_with_references(item, ids) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        target = ids.get(REFERENCES.get(key, ""))
        if target is not None and isinstance(item, str):
            item = target
        elif target is not None and isinstance(item, list):
            item = [target for _ in item]
        out[key] = _with_references(item, ids)
    return out


def _caller(base_url: str, session, headers: dict, ids: dict):
    def call(generated):
        case, seeded = generated
        if seeded:
            if isinstance(case.body, dict):
                case.body = _with_references(case.body, ids)
            if case.query:
                case.query = _with_references(dict(case.query), ids)
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS, headers=headers)
    return call


def path_names(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def _fuzz(schema, ids, base_url, session, token, failures, fuzzed) -> None:
    # Deletes and voids last, so that the other operations find the seeded objects intact.
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: (op.method.upper() == "DELETE",
                                        op.path.endswith("/void")))
    for operation in operations:
        names = path_names(operation.path)
        missing = [n for n in names if n not in ids]
        assert not missing, f"seed an object for {missing} of {operation.label}"
        known = {n: ids[n] for n in names}
        public = (operation.method.upper(), operation.path.removeprefix("/api/v1")) in PUBLIC
        headers = {} if public else {"Authorization": f"Bearer {token}"}
        for mode, examples in MODES.items():
            seeded = operation.as_strategy(mode, path_parameters=known).map(lambda c: (c, True))
            generated = operation.as_strategy(mode).map(lambda c: (c, False))
            strategies = [seeded, seeded, generated]
            settings_ = settings(max_examples=examples, deadline=None, database=None,
                                 derandomize=SEED is None,
                                 phases=[Phase.explicit, Phase.generate],
                                 suppress_health_check=list(HealthCheck))

            run = settings_(given(generated=st.one_of(strategies))(
                _caller(base_url, session, headers, ids)))
            if SEED is not None:
                run = seed(int(SEED))(run)
            try:
                run()
            except Unsatisfiable:
                # Nothing to make invalid (no parameters, no body): only valid requests exist.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, FailureGroup) as exc:  # every failure, reported together
                failures.append(f"== {operation.label} ({mode.value})\n{str(exc)[:4000]}")
        fuzzed.append(operation.label)


def test_every_operation_answers_as_documented_under_generated_requests(
        live_server, personas, stripe_configured, quiet_logs):  # noqa: F811
    ids = seed_company(personas, stripe_configured)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    token = personas.owner_a.token
    session = requests.Session()
    failures: list[str] = []
    fuzzed: list[str] = []
    started = time.monotonic()
    try:
        _fuzz(schema, ids, live_server.url, session, token, failures, fuzzed)
    finally:
        # The server closes its database connection with the client's (PostgreSQL test
        # databases cannot be dropped while it is open).
        session.close()
    elapsed = time.monotonic() - started
    print(f"fuzzed {len(fuzzed)} operations in {elapsed:.0f}s")
    document = schema.raw_schema["paths"]
    assert len(fuzzed) == sum(len(methods) for methods in document.values()) > 90
    assert not failures, "\n\n".join(failures)
