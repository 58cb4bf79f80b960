"""Staff events: invitations to join a company and their acceptance.

- ``user.invited``: to the invited e-mail address (a bare address: the person is not a member
  of the company yet, so preferences and in-app inboxes do not apply; e-mail only). The
  context holds the invitation's public id, never its token: the link (``{{ link }}``) is
  computed when the message is rendered (the event's ``render_context``, see
  ``accounts.invitations``), and the message is not sent once the invitation is no longer
  pending. The event is private (never posted to company webhooks or Slack channels).
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


def _link(context: dict[str, Any]) -> dict[str, Any]:
    """The invitation's link, built at send time in the company's scope (never stored)."""
    from nestogy.accounts import invitations
    from nestogy.accounts.models import Invitation

    invitation_id = (context.get("invitation") or {}).get("id")
    invitation = Invitation.objects.filter(public_id=invitation_id).first()
    if invitation is None:
        raise LookupError(f"no invitation {invitation_id!r} in this company")
    if invitation.current_status != Invitation.Status.PENDING:
        raise LookupError(f"invitation {invitation_id} is {invitation.current_status}; "
                          "its link is not sent")
    return {"link": invitations.url_for(invitation)}


register("user.invited",
         description="An account was invited to join the company (e-mailed to the invitee)",
         context=_context, recipients=_invitee, default_channels={"contact": ("email",)},
         private=True, render_context=_link)
register("user.joined", description="An invited account accepted and joined the company",
         context=_context, recipients=_inviter,
         default_channels={"*": ("email", "inapp")})


# -- staff password reset -------------------------------------------------------------------
# ``user.password_reset``: a staff member asked for a reset link at /app/password-reset/. To
# the account's own address only (a bare address, e-mail only: notification preferences must
# not switch a reset mail off), private (never posted to webhooks or Slack), and the link is
# built when the mail is rendered: the stored context holds the account's public id, never a
# token. Sent through the company the account belongs to (its oldest active membership), so
# that company's template overrides and sender apply. An account deactivated before the mail
# goes out gets nothing (the delivery fails with the reason).


def _reset_user(event: Event):
    from nestogy.accounts.models import User

    return User.objects.filter(pk=event.data.get("user_pk"), is_active=True).first()


def _reset_context(event: Event) -> dict[str, Any]:
    from nestogy.tenancy.models import Company

    user = _reset_user(event)
    company_name = (Company.objects.filter(pk=event.company_id)
                    .values_list("name", flat=True).first() or "")
    if user is None:
        return {"company_name": company_name}
    return {"company_name": company_name,
            "user": {"id": user.public_id, "name": user.name or user.email,
                     "email": user.email}}


def _reset_recipient(event: Event) -> list[Recipient]:
    user = _reset_user(event)
    if user is None:
        return []
    return [Recipient(email=user.email, name=user.name, kind="contact")]


def _reset_link(context: dict[str, Any]) -> dict[str, Any]:
    from nestogy.accounts.models import User
    from nestogy.accounts.tokens import LINK_LIFETIME, reset_url

    user_id = (context.get("user") or {}).get("id")
    user = User.objects.filter(public_id=user_id, is_active=True).first()
    if user is None:
        raise LookupError("the account no longer exists or was deactivated")
    return {"link": reset_url(user), "valid_minutes": int(LINK_LIFETIME.total_seconds() // 60)}


register("user.password_reset",
         description="A staff member asked for a password-reset link (e-mailed to them)",
         context=_reset_context, recipients=_reset_recipient,
         default_channels={"contact": ("email",)}, private=True, render_context=_reset_link)
