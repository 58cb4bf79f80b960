"""Creating a company with everything it needs to work on day one.

This sits in the top layer because a new company touches every app: the tenant row, its
owner, the owner's first API token, and each app's defaults, called here in order (today
the service desk's business-hours calendar and default SLA policy).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django_scopes import scope

from nestogy.accounts.actions import add_member, issue_api_token
from nestogy.accounts.models import Membership
from nestogy.accounts.roles import Role
from nestogy.sla.actions import provision_defaults as sla_defaults
from nestogy.tenancy.actions import create_company
from nestogy.tenancy.models import Company


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
        # Each app's day-one defaults, inside the company scope.
        sla_defaults(company, owner)
        _, raw = issue_api_token(owner, name="Created with the company")
    return Provisioned(company=company, owner=owner, api_token=raw)

