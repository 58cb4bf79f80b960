"""Background work of the clients app."""

from __future__ import annotations

from django_scopes import scope

from nestogy.core.tasks import system_task


@system_task(queue_name="notifications")
def send_password_reset_links(email: str) -> int:
    """Email a reset link to every portal account with ``email``; return how many.

    Runs in the background so the portal's "forgot password" answer does the same work
    whether or not the address is known (the lookup happens here, not in the request).
    """
    from nestogy.clients.actions import request_password_reset
    from nestogy.clients.queries import portal_contacts

    contacts = list(portal_contacts().filter(email__iexact=email).order_by("company_id", "id"))
    for contact in contacts:
        with scope(company=contact.company_id):
            request_password_reset(contact)
    return len(contacts)
