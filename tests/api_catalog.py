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

PERMISSIONS: dict[tuple[str, str], str] = {
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
    ("POST", "/contacts/{contact_id}/invite"): "contacts.update",
    ("GET", "/users"): "users.view",
    ("POST", "/users"): "users.create",
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

SELF_SERVICE: set[tuple[str, str]] = {
    ("GET", "/me"),
    ("GET", "/tokens"),
    ("POST", "/tokens"),
    ("DELETE", "/tokens/{token_id}"),
}

# Operations that take no bearer token (they authenticate otherwise or are public).
PUBLIC: set[tuple[str, str]] = set()
