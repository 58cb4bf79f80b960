"""Events of the clients app: the client portal's invitation and password-reset mails.

Both go to the contact's own address through the notification outbox (retries, delivery
log, company template overrides). They carry a credential, so they are ``private`` (never
posted to company webhooks or Slack channels) and the set-password link is built when the
message is rendered (``render_context``): the stored context holds the contact's id, name
and email, never a live token. A contact whose access was withdrawn, whose client or company
was deactivated, or who was deleted before the mail went out gets nothing: the delivery
fails with the reason in its log.

Templates: ``clients/templates/notifications/<event>/title.txt``, ``body.txt``, ``body.html``.
"""

from __future__ import annotations

from typing import Any

from django_scopes import scope

from nestogy.core.events import Event, Recipient, register

INVITED = "contact.portal_invited"
PASSWORD_RESET = "contact.password_reset"  # noqa: S105 (an event name)


def _contact(contact_id):
    from nestogy.clients.models import Contact

    return Contact.objects.select_related("client").filter(pk=contact_id).first()


def _context(event: Event) -> dict[str, Any]:
    from nestogy.tenancy.models import Company

    with scope(company=event.company_id):
        contact = _contact(event.data.get("contact_id"))
        company_name = (Company.objects.filter(pk=event.company_id)
                        .values_list("name", flat=True).first() or "")
        if contact is None:
            return {**event.data, "company_name": company_name}
        return {"contact_id": contact.pk, "company_name": company_name,
                "contact": {"id": contact.public_id, "name": contact.name,
                            "email": contact.email, "client": contact.client.name}}


def _recipient(event: Event) -> list[Recipient]:
    with scope(company=event.company_id):
        contact = _contact(event.data.get("contact_id"))
        if contact is None or not contact.email:
            return []
        return [Recipient(email=contact.email, name=contact.name, kind="contact")]


def _link(context: dict[str, Any]) -> dict[str, Any]:
    """The one-time set-password link, built at send time (called in the company's scope)."""
    from nestogy.clients.queries import portal_contacts
    from nestogy.clients.tokens import set_password_url

    contact = portal_contacts().filter(pk=context.get("contact_id")).first()
    if contact is None:
        raise LookupError("the contact no longer has portal access")
    return {"link": set_password_url(contact)}


register(INVITED, description="A contact was given access to the client portal (the email "
                              "carries a link to choose a password)",
         context=_context, recipients=_recipient, default_channels={"contact": ("email",)},
         private=True, render_context=_link)
register(PASSWORD_RESET, description="A contact asked for a portal password-reset link",
         context=_context, recipients=_recipient, default_channels={"contact": ("email",)},
         private=True, render_context=_link)
