"""``{% invitation_url invitation.id %}``: the link of a pending invitation, computed when the
e-mail is rendered (inside the inviting company's scope), so the token is never stored."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def invitation_url(invitation_id: str) -> str:
    from nestogy.accounts import invitations
    from nestogy.accounts.models import Invitation

    invitation = Invitation.objects.filter(public_id=invitation_id).first()
    if invitation is None:
        raise ValueError(f"no invitation {invitation_id!r} in this company")
    if invitation.current_status != Invitation.Status.PENDING:
        raise ValueError(f"invitation {invitation_id} is {invitation.current_status}; "
                         "its link is not sent")
    return invitations.url_for(invitation)
