"""Creating a company with everything it needs to work on day one.

This sits in the top layer because a new company touches every app: the tenant row, its
owner, the owner's first API token, and the defaults other apps declare (see
``COMPANY_DEFAULTS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django_scopes import scope

from nestogy.accounts.actions import add_member, issue_api_token
from nestogy.accounts.models import Membership
from nestogy.accounts.roles import Role
from nestogy.tenancy.actions import create_company
from nestogy.tenancy.models import Company

# Functions run (inside the company scope) after a company and its owner exist, each
# creating one app's defaults. Later apps append to this list in ops.apps.
COMPANY_DEFAULTS: list[Callable[[Company, Membership], None]] = []


@dataclass(frozen=True)
class Provisioned:
    company: Company
    owner: Membership
    api_token: str


@transaction.atomic
def provision_company(*, name: str, owner_email: str, owner_name: str = "",
                      timezone: str = "UTC", currency: str = "USD",
                      owner_password: str | None = None) -> Provisioned:
    company = create_company(name=name, timezone=timezone, currency=currency)
    with scope(company=company.pk):
        # The operator provisions a brand-new, empty company: an owner e-mail that already
        # has an account is attached as the owner (no company's data is exposed by that).
        owner = add_member(company, email=owner_email, name=owner_name, role=Role.OWNER,
                           password=owner_password, attach_existing=True)
        for make_defaults in COMPANY_DEFAULTS:
            make_defaults(company, owner)
        _, raw = issue_api_token(owner, name="Created with the company")
    return Provisioned(company=company, owner=owner, api_token=raw)


# Service desk: a business-hours calendar and the default SLA policy.
def _sla_defaults(company: Company, owner: Membership) -> None:
    from nestogy.sla.actions import provision_defaults

    provision_defaults(company, owner)


COMPANY_DEFAULTS.append(_sla_defaults)
