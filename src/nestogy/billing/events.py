"""Events of billing, with their template context and recipients.

``invoice.sent`` goes to the client's billing address (the client's email, else its
contacts) and carries the PDF as an attachment spec; the others go to billing-role users
(``invoice.voided`` and ``credit_note.issued`` only on channels a user chose for them). An
audited action emits the event of the same name as its audit action.
"""

from __future__ import annotations

from django_scopes import scope

from nestogy.core.events import Event, Recipient, register


def _invoice(event: Event):
    from nestogy.billing.models import Invoice

    return (Invoice.objects.select_related("client", "contract")
            .filter(pk=event.data.get("invoice_id")).first())


def _context(event: Event) -> dict:
    """The invoice template's context in JSON form (the outbox stores contexts as JSON):
    the invoice, company and client become plain dicts of what the templates use."""
    from nestogy.billing.pdf import invoice_context

    with scope(company=event.company_id):
        invoice = _invoice(event)
        if invoice is None:
            return dict(event.data)
        context = invoice_context(invoice)
        context.pop("logo_data_url", None)  # image bytes stay out of the outbox and webhooks
        credited = invoice.credits if invoice.credits_id else None
        context["invoice"] = {
            "id": invoice.public_id, "number": invoice.number, "status": invoice.status,
            "issue_date": invoice.issue_date, "due_date": invoice.due_date,
            "period_start": invoice.period_start, "period_end": invoice.period_end,
            "notes": invoice.notes, "amount_paid": context["amount_paid"],
            "credits": {"number": credited.number} if credited else None}
        company = context["company"]
        context["company"] = {"name": company.name, "public_id": company.public_id}
        client = context["client"]
        context["client"] = {"name": client.name, "email": getattr(client, "email", "")}
        return {**event.data, **context}


def _billing_people(event: Event) -> list[Recipient]:
    from nestogy.accounts.queries import members_with_role

    with scope(company=event.company_id):
        return [Recipient(user_id=m.user_id, email=m.user.email, name=m.user.name or "")
                for m in members_with_role("owner", "billing").select_related("user")]


def _issued_recipients(event: Event) -> list[Recipient]:
    """The billing people, for an invoice issued by hand; an invoice of a recurring run is
    announced to them once for the whole run (``invoice.recurring_run``), so its own event
    reaches only the company's webhooks (and the reactions of higher apps)."""
    if event.data.get("recurring"):
        return []
    return _billing_people(event)


def client_billing_recipients(event: Event) -> list[Recipient]:
    from nestogy.clients.models import Contact

    with scope(company=event.company_id):
        invoice = _invoice(event)
        if invoice is None:
            return []
        client = invoice.client
        if client.email:
            return [Recipient(email=client.email, name=client.name, kind="contact")]
        return [Recipient(email=c.email, name=c.name, kind="contact")
                for c in Contact.objects.filter(client=client).order_by("id")]


def _run_context(event: Event) -> dict:
    return dict(event.data)


register("invoice.issued", description="An invoice was issued (numbered and final), by hand "
         "or by a recurring run (data: recurring true)",
         context=_context, recipients=_issued_recipients,
         default_channels={"billing": ("inapp",), "owner": ("inapp",)})
register("invoice.sent", description="An invoice was emailed to the client, PDF attached",
         context=_context, recipients=client_billing_recipients,
         default_channels={"contact": ("email",)})
register("invoice.overdue", description="An invoice passed its due date unpaid",
         context=_context, recipients=_billing_people,
         default_channels={"billing": ("email", "inapp"), "owner": ("inapp",)})
# Announced to company webhooks; staff hear of them only if they choose a channel for them in
# their notification preferences (no channel by default).
register("invoice.voided", description="An invoice (or credit note) was voided",
         context=_context, recipients=_billing_people, default_channels={"*": ()})
register("credit_note.issued",
         description="A credit note was issued against an invoice, reducing its balance",
         context=_context, recipients=_billing_people, default_channels={"*": ()})
register("invoice.recurring_run", description="A recurring billing run created invoices",
         context=_run_context, recipients=_billing_people,
         default_channels={"billing": ("inapp",)})
