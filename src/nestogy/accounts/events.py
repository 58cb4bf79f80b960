"""Staff events: invitations to join a company and their acceptance.

- ``user.invited``: to the invited e-mail address (a bare address: the person is not a member
  of the company yet, so preferences and in-app inboxes do not apply; e-mail only). The
  context holds the invitation's public id, never its token: the template computes the link
  when the message is rendered (``{% invitation_url invitation.id %}``, see
  ``accounts.invitations``), and refuses to render once the invitation is no longer pending.
- ``user.joined``: the invitation was accepted; to whoever sent it (the company's owners and
  admins when that person is no longer an active member).

Templates: ``accounts/templates/notifications/<event type>/``.
"""

from __future__ import annotations

from typing import Any

from django_scopes import scope

from nestogy.core.events import Event, Recipient, register


def _invitation(event: Event):
    from nestogy.accounts.models import Invitation

    return (Invitation.objects.select_related("invited_by")
            .filter(pk=event.data.get("invitation_pk")).first())


def _context(event: Event) -> dict[str, Any]:
    from nestogy.accounts.models import Membership
    from nestogy.accounts.roles import Role

    with scope(company=event.company_id):
        invitation = _invitation(event)
        if invitation is None:
            return {}
        inviter = invitation.invited_by
        context: dict[str, Any] = {
            "invitation": {
                "id": invitation.public_id, "email": invitation.email,
                "role": invitation.role, "role_label": Role(invitation.role).label,
                "expires_at": invitation.expires_at,
                "expires": invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            },
            "invited_by": (inviter.name or inviter.email) if inviter else "",
        }
        membership = (Membership.objects.select_related("user")
                      .filter(pk=event.data.get("membership_pk")).first())
        if membership is not None:
            context["member"] = {"name": membership.user.name or membership.user.email,
                                 "email": membership.user.email, "role": membership.role}
        return context


def _invitee(event: Event) -> list[Recipient]:
    with scope(company=event.company_id):
        invitation = _invitation(event)
    if invitation is None:
        return []
    return [Recipient(email=invitation.email, kind="contact")]


def _inviter(event: Event) -> list[Recipient]:
    from nestogy.accounts.queries import members_with_role

    with scope(company=event.company_id):
        invitation = _invitation(event)
        inviter_id = invitation.invited_by_id if invitation else None
        leads = list(members_with_role("owner", "admin").values_list("user_id", flat=True))
        active = set(members_with_role("owner", "admin", "manager", "technician", "billing")
                     .values_list("user_id", flat=True))
    if inviter_id and inviter_id in active:
        return [Recipient(user_id=inviter_id)]
    return [Recipient(user_id=uid) for uid in leads]


register("user.invited",
         description="An account was invited to join the company (e-mailed to the invitee)",
         context=_context, recipients=_invitee, default_channels={"contact": ("email",)})
register("user.joined", description="An invited account accepted and joined the company",
         context=_context, recipients=_inviter,
         default_channels={"*": ("email", "inapp")})
