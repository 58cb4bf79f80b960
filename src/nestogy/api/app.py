"""The ninja API at /api/v1: routers, auth and the error shape."""

from __future__ import annotations

from ninja import NinjaAPI

from nestogy.api import errors
from nestogy.api.auth import TokenAuth
from nestogy.api.schemas import JsonParser
from nestogy.api.v1 import clients, company, contacts, notifications, users
from nestogy.api.v1 import contracts as contracts_api
from nestogy.api.v1 import invoices as invoices_api
from nestogy.api.v1 import routing as routing_api
from nestogy.api.v1 import sla as sla_api
from nestogy.api.v1 import tickets as tickets_api

DESCRIPTION = """
The Nestogy REST API. Authenticate with `Authorization: Bearer <token>`; every request acts
in the token's company. Objects of other companies answer 404 exactly like missing ones.
Lists return `{"items": [...], "next_cursor": "..." | null}` and take `limit` and `cursor`.
Errors return `{"error": {"code", "message", "field", "errors": [...]}}`: 422 for bad
input (naming the field, nothing written), 404 for missing or foreign objects (also when
named in a filter or a body), 409 for a conflict with the current state.
Money, quantities and percents are answered as decimal strings and accepted as decimal
strings or JSON numbers (read exactly, never through a binary float). Timestamps are
ISO 8601 with an offset.
"""

api = NinjaAPI(title="Nestogy API", version="1", description=DESCRIPTION,
               urls_namespace="api-v1", auth=TokenAuth(), docs_url="/docs",
               openapi_url="/openapi.json", parser=JsonParser())
errors.install(api)

api.add_router("/clients", clients.router)
api.add_router("/sites", clients.sites_router)
api.add_router("/contacts", contacts.router)
api.add_router("/users", users.router)
api.add_router("/tokens", users.tokens_router)
api.add_router("/me", users.me_router)
api.add_router("/company", company.router)

api.add_router("/notifications", notifications.router)
api.add_router("/notification-preferences", notifications.preferences_router)
api.add_router("/calendars", sla_api.router)
api.add_router("/sla-policies", sla_api.policies_router)
api.add_router("/tickets", tickets_api.router)
api.add_router("/routing", routing_api.router)
api.add_router("/contracts", contracts_api.router)
api.add_router("/usage", contracts_api.usage_router)
api.add_router("/pricing", contracts_api.pricing_router)
api.add_router("/invoices", invoices_api.router)
api.add_router("/revenue", invoices_api.revenue_router)

# Payments step: payments, refunds, credit, retries, cards on file, statements, webhooks.
from nestogy.api.v1 import payments as payments_api  # noqa: E402

api.add_router("/invoices", payments_api.invoices_router)
api.add_router("/payments", payments_api.router)
api.add_router("/clients", payments_api.clients_router)
api.add_router("/webhooks", payments_api.webhooks_router)
