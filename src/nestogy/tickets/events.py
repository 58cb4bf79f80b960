"""The service desk's event types: payload builders and who hears of them.

Templates: ``tickets/templates/notifications/<event type>/title.txt`` and ``body.txt``
(Django templates rendered with the ``context`` below). The notifications app delivers.

Recipients:
- ``ticket.created``, ``ticket.unassignable``: the dispatchers (owners, admins, managers);
  ``ticket.created`` goes to the assignee instead when there is one.
- ``ticket.assigned``: the assignee.
- ``sla.warning`` (ladder level 1): the assignee, or the dispatchers when unassigned.
- ``sla.breached`` (level 2): the managers (the owners/admins when there is no manager).
- ``ticket.escalated`` (level 3): owners and admins.

A checker run that fires many of these (``SLA_ALERTS``) is delivered grouped: each
recipient gets ONE ``sla.digest`` message per channel listing the tickets, most urgent first
(:func:`sla_digest_context`); a recipient with a single alert in the run gets that alert as
it reads on its own. The checker marks its alerts (``group_as``) and the notifications
fan-out groups them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_scopes import scope

from nestogy.accounts.queries import members_with_role
from nestogy.core.events import Event, Recipient, current_batch, memo, register

DISPATCHER_ROLES = ("owner", "admin", "manager")


def _ticket(event: Event):
    """The event's ticket; in a batch (``emit_many``) every ticket is read in one query."""
    from nestogy.tickets.models import Ticket

    def load() -> dict:
        pks = {e.data.get("ticket_pk") for e in current_batch() or [event]}
        return {t.pk: t for t in Ticket.objects.select_related("client", "assignee")
                .filter(pk__in=pks - {None})}

    tickets = memo(("tickets.events.tickets", event.company_id), load)
    found = tickets.get(event.data.get("ticket_pk"))
    if found is None and event.data.get("ticket_pk") is not None:
        found = (Ticket.objects.select_related("client", "assignee")
                 .filter(pk=event.data.get("ticket_pk")).first())
    return found


def context(event: Event) -> dict[str, Any]:
    with scope(company=event.company_id):
        ticket = _ticket(event)
        if ticket is None:
            return dict(event.data)
        return {
            **event.data,
            "ticket": {
                "id": ticket.public_id, "number": ticket.number, "subject": ticket.subject,
                "priority": ticket.priority, "status": ticket.status,
                "client": ticket.client.name,
                "assignee": str(ticket.assignee) if ticket.assignee else "",
                "first_response_due_at": ticket.first_response_due_at,
                "resolution_due_at": ticket.resolution_due_at,
                "sla_state": ticket.sla_state,
            },
        }


def _users(*roles: str) -> list[Recipient]:
    from django_scopes import get_scope

    def load() -> list[Recipient]:
        return [Recipient(user_id=uid) for uid in members_with_role(*roles)
                .values_list("user_id", flat=True).order_by("user_id")]

    return memo(("tickets.events.users", repr(get_scope().get("company")), roles), load)


def _assignee_or_dispatchers(event: Event) -> list[Recipient]:
    with scope(company=event.company_id):
        assignee = event.data.get("assignee_user_id")
        if assignee:
            return [Recipient(user_id=assignee)]
        return _users(*DISPATCHER_ROLES)


def _assignee(event: Event) -> list[Recipient]:
    assignee = event.data.get("assignee_user_id")
    return [Recipient(user_id=assignee)] if assignee else []


def _managers(event: Event) -> list[Recipient]:
    with scope(company=event.company_id):
        return _users("manager") or _users("owner", "admin")


def _owners_admins(event: Event) -> list[Recipient]:
    with scope(company=event.company_id):
        return _users("owner", "admin")


def _dispatchers(event: Event) -> list[Recipient]:
    with scope(company=event.company_id):
        return _users(*DISPATCHER_ROLES)


def _reply_recipients(event: Event) -> list[Recipient]:
    """A contact's reply goes to the assignee (or the dispatchers); a staff public reply goes
    to the ticket's contact (by email: contacts have no in-app inbox)."""
    if event.data.get("by") == "contact":
        return _assignee_or_dispatchers(event)
    from nestogy.clients.models import Contact

    with scope(company=event.company_id):
        contact = Contact.objects.filter(pk=event.data.get("contact_pk")).first()
    if contact is None or not contact.email:
        return []
    return [Recipient(email=contact.email, name=contact.name, kind="contact")]


def _reply_context(event: Event) -> dict[str, Any]:
    from nestogy.tickets.models import Reply

    base = context(event)
    with scope(company=event.company_id):
        reply = (Reply.objects.select_related("author_user", "author_contact")
                 .filter(pk=event.data.get("reply_pk")).first())
    if reply is None:
        return base
    author = reply.author_contact or reply.author_user
    return {**base, "reply": {"body": reply.body, "public": reply.public,
                              "author": getattr(author, "name", "") or str(author or "")}}


RECIPIENTS_BY_NOTIFY = {"assignee": _assignee_or_dispatchers, "managers": _managers,
                        "owners_admins": _owners_admins}


def _ladder(default: str):
    """Escalation events go to whom the policy's ladder rung says (``data["notify"]``).

    Only the assignee depends on the ticket; the other answers are shared by every event of
    a dispatched batch (a checker run resolves many thousands).
    """
    def resolve(event: Event) -> list[Recipient]:
        notify = event.data.get("notify") or default
        if notify not in RECIPIENTS_BY_NOTIFY:
            notify = default
        assignee = event.data.get("assignee_user_id")
        if notify == "assignee" and assignee:
            return [Recipient(user_id=assignee)]
        return memo(("tickets.events.ladder", event.company_id, notify),
                    lambda: RECIPIENTS_BY_NOTIFY[notify](event))
    return resolve

register("ticket.created", description="A ticket was opened (or imported)",
         context=context, recipients=_assignee_or_dispatchers)
register("ticket.assigned", description="A ticket was assigned to someone",
         context=context, recipients=_assignee)
register("ticket.replied", description="A public reply was posted on a ticket",
         context=_reply_context, recipients=_reply_recipients,
         default_channels={"technician": ("email", "inapp"), "manager": ("inapp",),
                           "admin": ("inapp",), "owner": ("inapp",), "contact": ("email",)})
register("ticket.status_changed", description="A ticket's status changed (data: from, to)",
         context=context)
register("ticket.priority_changed", description="A ticket's priority changed (data: from, to)",
         context=context)
register("ticket.unassignable", description="Routing found nobody to take a ticket",
         context=context, recipients=_dispatchers)
register("sla.warning", description="An SLA clock passed its warning threshold",
         context=context, recipients=_ladder("assignee"))
register("sla.breached", description="An SLA clock passed its due time",
         context=context, recipients=_ladder("managers"))
register("ticket.escalated", description="A ticket reached the top of the escalation ladder",
         context=context, recipients=_ladder("owners_admins"))


# -- grouped delivery of a checker run -----------------------------------------------------

SLA_ALERTS = ("sla.warning", "sla.breached", "ticket.escalated")
DIGEST_TYPE = "sla.digest"
DIGEST_LINES = 20
_URGENCY = {"ticket.escalated": 0, "sla.breached": 0, "sla.warning": 1}
_KIND = {"ticket.escalated": "escalated", "sla.breached": "breached", "sla.warning": "warning"}


def sla_digest_context(alerts: list[tuple[str, dict[str, Any]]], *,
                       every_item: bool = False) -> dict[str, Any]:
    """Template context of one grouped message from ``(event type, data)`` pairs.

    Most urgent first: breaches and escalations before warnings, then the longest overdue
    (earliest due time) first; at most ``DIGEST_LINES`` lines and how many more, plus a link
    to the workspace queue's view for the worst state (Breached, or Due soon).
    ``every_item`` adds the whole list (``items``: the batch payload webhooks receive).
    """
    ordered = sorted(alerts, key=lambda a: (_URGENCY.get(a[0], 1), a[1].get("due_at") or "",
                                            a[1].get("number") or 0, a[1].get("clock") or ""))

    def item(type_: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"event": type_, "kind": _KIND.get(type_, type_),
                "ticket_id": data.get("ticket_id"), "number": data.get("number"),
                "subject": data.get("subject", ""), "priority": data.get("priority"),
                "clock": data.get("clock"), "clock_label": data.get("clock_label"),
                "level": data.get("level"), "percent": data.get("percent"),
                "due_at": data.get("due_at"), "raised_priority": data.get("raised_priority")}

    kinds = [_KIND.get(type_, type_) for type_, _ in ordered]
    counts = {kind: kinds.count(kind) for kind in ("breached", "escalated", "warning")}
    worst = "warning" if counts["breached"] + counts["escalated"] == 0 else "breached"
    context = {
        "count": len(ordered), "tickets": len({data.get("ticket_id") for _, data in ordered}),
        "breaches": counts["breached"], "escalations": counts["escalated"],
        "warnings": counts["warning"],
        "lines": [item(type_, data) for type_, data in ordered[:DIGEST_LINES]],
        "more": max(0, len(ordered) - DIGEST_LINES),
        # The staff workspace's queue on the matching view, in urgency order.
        "queue_url": f"{settings.NESTOGY_BASE_URL}/app/"
                     f"?view={'breached' if worst == 'breached' else 'due_soon'}",
    }
    if every_item:
        context["items"] = [item(type_, data) for type_, data in ordered]
    return context


def _digest_context(event: Event) -> dict[str, Any]:
    """The notifications fan-out calls this with ``{"events": [(type, data), ...],
    "every_item": bool}`` for the alerts it groups (each alert's data has ``group_as``)."""
    return sla_digest_context([tuple(pair) for pair in event.data.get("events") or ()],
                              every_item=bool(event.data.get("every_item")))


register(DIGEST_TYPE, description="SLA warnings, breaches and escalations of one checker run, "
                                  "grouped: one message per recipient and channel",
         context=_digest_context)
