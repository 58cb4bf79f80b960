"""Events of contracts: renewal notices and renewals (billing-role users hear of them)."""

from __future__ import annotations

from django_scopes import scope

from nestogy.core.events import Event, Recipient, register


def _billing_people(event: Event) -> list[Recipient]:
    from nestogy.accounts.queries import members_with_role

    with scope(company=event.company_id):
        members = members_with_role("owner", "billing").select_related("user")
        return [Recipient(user_id=m.user_id, email=m.user.email) for m in members]


def _contract_context(event: Event) -> dict:
    from nestogy.contracts.models import Contract

    with scope(company=event.company_id):
        contract = Contract.objects.select_related("client").filter(
            pk=event.data.get("contract_id")).first()
        if contract is None:
            return dict(event.data)
        # JSON-safe: the outbox stores the context as JSON.
        return {**event.data,
                "contract": {"id": contract.public_id, "name": contract.name,
                             "end_date": contract.end_date},
                "client": {"id": contract.client.public_id, "name": contract.client.name},
                "contract_name": contract.name, "client_name": contract.client.name,
                "end_date": contract.end_date}


register("contract.renewal_upcoming",
         description="A contract reaches its end date soon (renewal notice)",
         context=_contract_context, recipients=_billing_people,
         default_channels={"owner": ("email", "inapp"), "billing": ("email", "inapp")})
register("contract.renewed", description="A contract renewed automatically (with uplift)",
         context=_contract_context, recipients=_billing_people,
         default_channels={"owner": ("inapp",), "billing": ("email", "inapp")})
