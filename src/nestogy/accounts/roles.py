"""Roles and the permission matrix: one table says which role may do what.

Every API endpoint and admin page checks a permission from this table through
:func:`require`; ``tests/test_permissions.py`` walks the whole matrix.
"""

from __future__ import annotations

from django.db import models

from nestogy.core.errors import PermissionDenied


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    TECHNICIAN = "technician", "Technician"
    BILLING = "billing", "Billing"


OWNER, ADMIN, MANAGER, TECH, BILLING = (Role.OWNER, Role.ADMIN, Role.MANAGER, Role.TECHNICIAN,
                                        Role.BILLING)
EVERYONE = frozenset(Role)
STAFF_LEADS = frozenset({OWNER, ADMIN})

# permission -> roles allowed
MATRIX: dict[str, frozenset[str]] = {
    # clients, sites, contacts
    "clients.view": EVERYONE,
    "clients.create": frozenset({OWNER, ADMIN, MANAGER, BILLING}),
    "clients.update": frozenset({OWNER, ADMIN, MANAGER, BILLING}),
    "clients.delete": frozenset({OWNER, ADMIN, MANAGER}),
    "contacts.view": EVERYONE,
    "contacts.create": EVERYONE,
    "contacts.update": EVERYONE,
    "contacts.delete": frozenset({OWNER, ADMIN, MANAGER}),
    # who may let a contact into the client portal: portal access, portal admin, invitations
    # and the e-mail address of a contact who has portal access (the reset link goes there)
    "contacts.portal": frozenset({OWNER, ADMIN, MANAGER}),
    # staff
    "users.view": EVERYONE,
    "users.create": STAFF_LEADS,
    "users.update": STAFF_LEADS,
    "users.delete": STAFF_LEADS,
    "company.settings": STAFF_LEADS,
    "audit.view": frozenset({OWNER, ADMIN, MANAGER}),
    # service desk
    "calendars.view": EVERYONE,
    "calendars.manage": frozenset({OWNER, ADMIN, MANAGER}),
    "sla_policies.view": EVERYONE,
    "sla_policies.manage": frozenset({OWNER, ADMIN, MANAGER}),
    "tickets.view": frozenset({OWNER, ADMIN, MANAGER, TECH}),
    "tickets.create": frozenset({OWNER, ADMIN, MANAGER, TECH}),
    "tickets.update": frozenset({OWNER, ADMIN, MANAGER, TECH}),
    "tickets.assign": frozenset({OWNER, ADMIN, MANAGER, TECH}),
    "tickets.delete": frozenset({OWNER, ADMIN, MANAGER}),
    "tickets.import": frozenset({OWNER, ADMIN, MANAGER}),
    "tickets.reports": frozenset({OWNER, ADMIN, MANAGER}),
    "tickets.escalations": frozenset({OWNER, ADMIN, MANAGER}),
    # the dispatch board: assign the team's work (technicians assign with tickets.assign)
    "tickets.dispatch": frozenset({OWNER, ADMIN, MANAGER}),
    "routing.manage": frozenset({OWNER, ADMIN, MANAGER}),
    # time on tickets: one's own time and timer; everybody's time (read)
    "time.own": frozenset({OWNER, ADMIN, MANAGER, TECH}),
    "time.view_all": frozenset({OWNER, ADMIN, MANAGER}),
    # canned responses: technicians use them in the composer (tickets.update), leads manage
    "canned.manage": frozenset({OWNER, ADMIN, MANAGER}),
    # money
    "contracts.view": frozenset({OWNER, ADMIN, MANAGER, BILLING}),
    "contracts.manage": frozenset({OWNER, ADMIN, BILLING}),
    "usage.record": frozenset({OWNER, ADMIN, MANAGER, TECH, BILLING}),
    "invoices.view": frozenset({OWNER, ADMIN, MANAGER, BILLING}),
    "invoices.manage": frozenset({OWNER, ADMIN, BILLING}),
    "payments.manage": frozenset({OWNER, ADMIN, BILLING}),
    "revenue.view": frozenset({OWNER, ADMIN, BILLING}),
    # notifications (each user's own inbox and preferences)
    "notifications.own": EVERYONE,
    "notifications.deliveries": STAFF_LEADS,
    # each user's own sign-in: password, second factor, backup codes
    "account.own": EVERYONE,
}

# Roles a given role may grant to others (nobody but an owner creates owners).
GRANTABLE: dict[str, frozenset[str]] = {
    OWNER: EVERYONE,
    ADMIN: EVERYONE - {OWNER},
}


def allowed(role: str | None, permission: str) -> bool:
    if permission not in MATRIX:
        raise KeyError(f"unknown permission {permission!r}")
    return role in MATRIX[permission]


def require(principal, permission: str) -> None:
    """Raise PermissionDenied unless the principal's role grants ``permission``."""
    role = getattr(principal, "role", None)
    if not allowed(role, permission):
        raise PermissionDenied(f"the {role or 'anonymous'} role may not do {permission}")
