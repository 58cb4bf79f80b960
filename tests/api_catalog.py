"""What the cross-cutting API suites need to know about every endpoint.

``SAMPLE_BODIES`` gives a body that passes schema validation for operations whose body has
required fields (so a cross-company call reaches the lookup and answers 404, not 422).
``PERMISSIONS`` maps each operation to the permission of accounts.roles.MATRIX it checks;
``SELF_SERVICE`` lists operations any authenticated member may call on their own data.
Both suites fail when an operation of the OpenAPI document is missing here, so a new
endpoint cannot skip its isolation and permission tests.
"""

from __future__ import annotations

SAMPLE_BODIES: dict[tuple[str, str], dict] = {
    ("POST", "/clients"): {"name": "Matrix Client"},
    ("POST", "/clients/{client_id}/sites"): {"name": "Annex"},
    ("POST", "/contacts"): {"client_id": "{client_id}", "name": "Matrix Contact",
                            "email": "matrix-{n}@example.test"},
    ("POST", "/users"): {"email": "matrix-{n}@alpha.test", "name": "Matrix User",
                         "role": "technician"},
}

SAMPLE_BODIES.update({
    ("PATCH", "/company/settings"): {"settings": {"routing.auto_assign": False}},
    ("PUT", "/routing/category-skills"): {"category": "network", "skills": {"networking": 3}},
    ("PUT", "/routing/weights"): {"weights": {"load": 40}},
    ("POST", "/routing/users/{user_id}/absences"): {
        "starts_at": "2026-07-01T00:00:00+00:00", "ends_at": "2026-07-15T00:00:00+00:00"},
})

PERMISSIONS: dict[tuple[str, str], str] = {
    ("GET", "/company"): "company.settings",
    ("PATCH", "/company/settings"): "company.settings",
    ("POST", "/company/sender/verify"): "company.settings",
    ("PUT", "/company/logo"): "company.settings",
    ("DELETE", "/company/logo"): "company.settings",
    ("GET", "/tickets/{ticket_id}/routing"): "tickets.view",
    ("GET", "/routing/category-skills"): "tickets.view",
    ("PUT", "/routing/category-skills"): "routing.manage",
    ("GET", "/routing/weights"): "tickets.view",
    ("PUT", "/routing/weights"): "routing.manage",
    ("GET", "/routing/users/{user_id}/absences"): "users.view",
    ("POST", "/routing/users/{user_id}/absences"): "routing.manage",
    ("DELETE", "/routing/absences/{absence_id}"): "routing.manage",
    ("GET", "/clients"): "clients.view",
    ("POST", "/clients"): "clients.create",
    ("GET", "/clients/{client_id}"): "clients.view",
    ("PATCH", "/clients/{client_id}"): "clients.update",
    ("DELETE", "/clients/{client_id}"): "clients.delete",
    ("GET", "/clients/{client_id}/sites"): "clients.view",
    ("POST", "/clients/{client_id}/sites"): "clients.update",
    ("GET", "/sites/{site_id}"): "clients.view",
    ("PATCH", "/sites/{site_id}"): "clients.update",
    ("DELETE", "/sites/{site_id}"): "clients.update",
    ("GET", "/contacts"): "contacts.view",
    ("POST", "/contacts"): "contacts.create",
    ("GET", "/contacts/{contact_id}"): "contacts.view",
    ("PATCH", "/contacts/{contact_id}"): "contacts.update",
    ("DELETE", "/contacts/{contact_id}"): "contacts.delete",
    ("POST", "/contacts/{contact_id}/invite"): "contacts.portal",
    ("GET", "/users"): "users.view",
    ("POST", "/users"): "users.create",
    ("GET", "/users/invitations"): "users.create",
    ("DELETE", "/users/invitations/{invitation_id}"): "users.create",
    ("POST", "/users/invitations/{invitation_id}/resend"): "users.create",
    ("GET", "/users/{user_id}"): "users.view",
    ("PATCH", "/users/{user_id}"): "users.update",
    ("DELETE", "/users/{user_id}"): "users.delete",
    # notifications
    ("GET", "/notifications"): "notifications.own",
    ("POST", "/notifications/{notification_id}/read"): "notifications.own",
    ("POST", "/notifications/read-all"): "notifications.own",
    ("GET", "/notifications/deliveries"): "notifications.deliveries",
    ("GET", "/notification-preferences"): "notifications.own",
    ("PUT", "/notification-preferences"): "notifications.own",
}

# Billing step: contracts, usage, pricing, invoices, revenue.
SAMPLE_BODIES.update({
    ("POST", "/contracts"): {"client_id": "{client_id}", "name": "Matrix Contract",
                             "start_date": "2025-01-01", "billing_cycle": "monthly",
                             "currency": "USD",
                             "items": [{"kind": "fixed", "description": "Seats",
                                        "quantity": "2", "unit_price": "10.00"}]},
    ("POST", "/contracts/{contract_id}/items/{item_id}/quantity"): {
        "quantity": "3", "effective_from": "2025-02-01"},
    ("POST", "/usage"): {"contract_item_id": "{metered_item_id}", "quantity": "1.5",
                         "occurred_at": "2025-01-10T10:00:00+00:00",
                         "idempotency_key": "matrix-{n}"},
    ("POST", "/usage/bulk"): {"records": [{"contract_item_id": "{metered_item_id}",
                                           "quantity": "2",
                                           "occurred_at": "2025-01-11T10:00:00+00:00",
                                           "idempotency_key": "matrix-bulk-{n}"}]},
    ("POST", "/pricing/quote"): {"pricing": {"mode": "volume", "tiers": [
        {"up_to": None, "unit_price": "1"}]}, "quantity": "3"},
    ("POST", "/invoices"): {"client_id": "{client_id}",
                            "items": [{"description": "Setup", "unit_price": "100"}]},
    ("POST", "/invoices/{invoice_id}/items"): {"items": [{"description": "Extra",
                                                          "unit_price": "5"}]},
    ("POST", "/invoices/{invoice_id}/credit-notes"): {"reason": "Matrix"},
    ("POST", "/invoices/generate-recurring"): {"as_of": "2025-01-01", "preview": True},
})
PERMISSIONS.update({
    ("GET", "/contracts"): "contracts.view",
    ("POST", "/contracts"): "contracts.manage",
    ("GET", "/contracts/{contract_id}"): "contracts.view",
    ("PATCH", "/contracts/{contract_id}"): "contracts.manage",
    ("POST", "/contracts/{contract_id}/items/{item_id}/quantity"): "contracts.manage",
    ("POST", "/usage"): "usage.record",
    ("POST", "/usage/bulk"): "usage.record",
    ("POST", "/pricing/quote"): "contracts.view",
    ("GET", "/invoices"): "invoices.view",
    ("POST", "/invoices"): "invoices.manage",
    ("GET", "/invoices/overdue"): "invoices.view",
    ("POST", "/invoices/generate-recurring"): "invoices.manage",
    ("GET", "/invoices/{invoice_id}"): "invoices.view",
    ("GET", "/invoices/{invoice_id}/pdf"): "invoices.view",
    ("POST", "/invoices/{invoice_id}/items"): "invoices.manage",
    ("POST", "/invoices/{invoice_id}/issue"): "invoices.manage",
    ("POST", "/invoices/{invoice_id}/send"): "invoices.manage",
    ("POST", "/invoices/{invoice_id}/void"): "invoices.manage",
    ("POST", "/invoices/{invoice_id}/credit-notes"): "invoices.manage",
    ("GET", "/revenue/forecast"): "revenue.view",
    ("GET", "/revenue/mrr-movements"): "revenue.view",
})

SELF_SERVICE: set[tuple[str, str]] = {
    ("GET", "/me"),
    ("GET", "/tokens"),
    ("POST", "/tokens"),
    ("DELETE", "/tokens/{token_id}"),
}

# Operations that take no bearer token (they authenticate otherwise or are public).
PUBLIC: set[tuple[str, str]] = set()

# Service desk: calendars, SLA policies, tickets.
SAMPLE_BODIES.update({
    ("POST", "/calendars"): {"name": "Matrix hours", "timezone": "UTC",
                             "hours": {"mon": [["09:00", "17:00"]]}},
    ("POST", "/calendars/{calendar_id}/add-business-time"): {
        "start": "2025-03-03T09:00:00+00:00", "seconds": 3600},
    ("POST", "/calendars/{calendar_id}/business-seconds"): {
        "start": "2025-03-03T09:00:00+00:00", "end": "2025-03-04T09:00:00+00:00"},
    ("POST", "/sla-policies"): {
        "name": "Matrix policy", "calendar_id": "{calendar_id}",
        "targets": {p: {"first_response_minutes": 60, "resolution_minutes": 480}
                    for p in ("critical", "high", "medium", "low")}},
    ("POST", "/tickets"): {"client_id": "{client_id}", "subject": "Matrix ticket",
                           "priority": "high"},
    ("POST", "/tickets/import"): {"client_id": "{client_id}", "subject": "Imported",
                                  "priority": "low", "opened_at": "2025-03-03T09:00:00+00:00",
                                  "events": []},
    ("POST", "/tickets/{ticket_id}/replies"): {"body": "On it", "public": True},
    ("POST", "/tickets/bulk/assign"): {"ticket_ids": ["{ticket_id}"],
                                       "assignee_id": "{user_id}"},
    ("POST", "/tickets/bulk/status"): {"ticket_ids": ["{ticket_id}"], "status": "open"},
})
PERMISSIONS.update({
    ("GET", "/calendars"): "calendars.view",
    ("POST", "/calendars"): "calendars.manage",
    ("GET", "/calendars/{calendar_id}"): "calendars.view",
    ("PATCH", "/calendars/{calendar_id}"): "calendars.manage",
    ("POST", "/calendars/{calendar_id}/add-business-time"): "calendars.view",
    ("POST", "/calendars/{calendar_id}/business-seconds"): "calendars.view",
    ("GET", "/sla-policies"): "sla_policies.view",
    ("POST", "/sla-policies"): "sla_policies.manage",
    ("GET", "/sla-policies/{policy_id}"): "sla_policies.view",
    ("PATCH", "/sla-policies/{policy_id}"): "sla_policies.manage",
    ("GET", "/tickets"): "tickets.view",
    ("POST", "/tickets"): "tickets.create",
    ("POST", "/tickets/import"): "tickets.import",
    ("POST", "/tickets/bulk/assign"): "tickets.assign",
    ("POST", "/tickets/bulk/status"): "tickets.update",
    ("GET", "/tickets/sla-report"): "tickets.reports",
    ("POST", "/tickets/escalations/check"): "tickets.escalations",
    ("GET", "/tickets/{ticket_id}"): "tickets.view",
    ("PATCH", "/tickets/{ticket_id}"): "tickets.update",
    ("DELETE", "/tickets/{ticket_id}"): "tickets.delete",
    ("GET", "/tickets/{ticket_id}/replies"): "tickets.view",
    ("POST", "/tickets/{ticket_id}/replies"): "tickets.update",
    ("GET", "/tickets/{ticket_id}/escalations"): "tickets.view",
})
PERMISSIONS[("GET", "/tickets/{ticket_id}/history")] = "tickets.view"
# Payments step: payments, refunds, credit, retries, cards on file, statements, webhooks.
SAMPLE_BODIES.update({
    ("POST", "/invoices/{invoice_id}/payments"): {"amount": "1.00", "method": "cash"},
    ("POST", "/payments"): {"client_id": "{client_id}", "amount": "1.00", "method": "check"},
    ("POST", "/payments/{payment_id}/refunds"): {"amount": "1.00", "reason": "Matrix"},
    ("POST", "/clients/{client_id}/payment-methods"): {"payment_method_reference": "pm_matrix"},
})
PERMISSIONS.update({
    ("POST", "/invoices/{invoice_id}/payments"): "payments.manage",
    ("POST", "/invoices/{invoice_id}/retry-payment"): "payments.manage",
    ("POST", "/invoices/{invoice_id}/apply-credit"): "payments.manage",
    ("GET", "/invoices/{invoice_id}/payment-attempts"): "invoices.view",
    ("GET", "/payments"): "invoices.view",
    ("POST", "/payments"): "payments.manage",
    ("GET", "/payments/{payment_id}"): "invoices.view",
    ("POST", "/payments/{payment_id}/refunds"): "payments.manage",
    ("GET", "/clients/{client_id}/payment-methods"): "invoices.view",
    ("POST", "/clients/{client_id}/payment-methods"): "payments.manage",
    ("GET", "/clients/{client_id}/credit"): "invoices.view",
    ("GET", "/clients/{client_id}/statement.pdf"): "invoices.view",
})
PUBLIC.add(("POST", "/webhooks/stripe"))
