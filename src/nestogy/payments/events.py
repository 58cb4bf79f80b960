"""Events of payments, with their template context and recipients.

- ``payment.succeeded``: the receipt, to the client's billing address (the client's email,
  else its contacts).
- ``payment.failed``: an automatic charge was declined or refused; billing staff and the
  client's billing address hear of it (the client may need to update the card).
- ``payment.retries_exhausted``: the invoice went to collections; billing staff.
- ``payment.disputed``: a card holder disputed a charge; billing staff.
- ``client.payment_reminder``: billing staff reminded the client of its open invoices; to
  the client's billing address, with the statement attached.
- ``payment.refunded``: money was given back (from Nestogy or at the gateway); company
  webhooks, and billing staff on the channels they chose for it (none by default).

An audited action emits the event of the same name as its audit action.
"""

from __future__ import annotations

from django_scopes import scope

from nestogy.core.events import Event, Recipient, register
from nestogy.core.money import money_str


def _staff(event: Event) -> list[Recipient]:
    from nestogy.accounts.queries import members_with_role

    with scope(company=event.company_id):
        return [Recipient(user_id=m.user_id, email=m.user.email, name=m.user.name or "")
                for m in members_with_role("owner", "billing").select_related("user")]


def _client_billing(event: Event) -> list[Recipient]:
    from nestogy.clients.models import Client, Contact

    with scope(company=event.company_id):
        client = Client.objects.filter(pk=event.data.get("client_id")).first()
        if client is None:
            return []
        if client.email:
            return [Recipient(email=client.email, name=client.name, kind="contact")]
        return [Recipient(email=c.email, name=c.name, kind="contact")
                for c in Contact.objects.filter(client=client).order_by("id")]


def _staff_and_client(event: Event) -> list[Recipient]:
    return _staff(event) + _client_billing(event)


def _context(event: Event) -> dict:
    from nestogy.clients.models import Client

    data = dict(event.data)
    with scope(company=event.company_id):
        client = Client.objects.filter(pk=data.get("client_id")).first()
        company = client.company if client is not None else None
    currency = data.get("currency") or ""
    if data.get("amount") and currency:
        data["amount"] = money_str(data["amount"], currency)
    if data.get("credit") and currency:
        data["credit"] = money_str(data["credit"], currency)
    client_name = client.name if client else ""
    company_name = company.name if company else ""
    # Stored with the event as JSON: plain values only, never model instances.
    return {**data, "client": {"name": client_name}, "client_name": client_name,
            "company": {"name": company_name}, "company_name": company_name}


register("payment.succeeded", description="A payment was received (the client's receipt)",
         context=_context, recipients=_client_billing,
         default_channels={"billing": ("inapp",), "owner": ("inapp",)})
register("payment.failed",
         description="An automatic card payment failed; a retry may be scheduled",
         context=_context, recipients=_staff_and_client,
         default_channels={"billing": ("email", "inapp"), "owner": ("inapp",)})
register("payment.retries_exhausted",
         description="Automatic payment retries are exhausted; the invoice goes to collections",
         context=_context, recipients=_staff,
         default_channels={"billing": ("email", "inapp"), "owner": ("email", "inapp")})
register("payment.refunded", description="A payment was refunded, in part or in full",
         context=_context, recipients=_staff, default_channels={"*": ()})
register("client.payment_reminder",
         description="Billing staff reminded a client of what it owes (statement attached)",
         context=_context, recipients=_client_billing,
         default_channels={"contact": ("email",), "*": ()})
register("payment.disputed", description="A card holder disputed a payment",
         context=_context, recipients=_staff,
         default_channels={"billing": ("email", "inapp"), "owner": ("email", "inapp")})
