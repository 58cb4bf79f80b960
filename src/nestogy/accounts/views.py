"""The staff page where an invited account accepts or declines: ``/invitations/<token>/``.

Signed-in staff only (Django session; anonymous visitors are sent to ``LOGIN_URL`` and come
back). The page answers for the account the invitation was sent to and nobody else: another
signed-in account gets 403 without learning anything about the invitation; an unknown token
404; an expired, revoked, declined or already accepted one 410. Accepting goes through
``accounts.actions.accept_invitation`` (membership, technician profile, audit entry, event).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django_scopes import scope, scopes_disabled

from nestogy.accounts import actions
from nestogy.accounts.middleware import SESSION_COMPANY_KEY
from nestogy.accounts.models import Invitation
from nestogy.accounts.queries import hash_token
from nestogy.core.errors import NestogyError, PermissionDenied

TEMPLATE = "accounts/invitation.html"

GONE = {
    Invitation.Status.EXPIRED: "This invitation has expired. Ask the company to send a new "
                               "one.",
    Invitation.Status.REVOKED: "This invitation was withdrawn by the company.",
    Invitation.Status.DECLINED: "This invitation was declined.",
    Invitation.Status.ACCEPTED: "This invitation was already accepted.",
}


def _page(request, status: int, **context):
    # In the workspace's style; the top bar is that of the account's current company.
    return render(request, TEMPLATE, context, status=status)


def _find(token: str) -> Invitation | None:
    if not token or len(token) > 200:
        return None
    with scopes_disabled():
        return (Invitation.objects.select_related("company", "invited_by")
                .filter(token_hash=hash_token(token), company__is_active=True).first())


@login_required
@require_http_methods(["GET", "POST"])
def invitation_page(request, token: str):
    invitation = _find(token)
    if invitation is None:
        return _page(request, 404, problem="This invitation link is not valid.")
    if request.user.email != invitation.email:
        return _page(request, 403, problem="This invitation was sent to another account. Sign "
                                           "out and sign in with the account it was sent to.",
                     wrong_account=True)
    status = invitation.current_status
    if status != Invitation.Status.PENDING:
        return _page(request, 410, problem=GONE[status])
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision not in {"accept", "decline"}:
            return _page(request, 400, invitation=invitation,
                         problem="Choose Accept or Decline.")
        try:
            with scope(company=invitation.company_id):
                if decision == "accept":
                    actions.accept_invitation(invitation, request.user)
                else:
                    actions.decline_invitation(invitation, request.user)
        except PermissionDenied as exc:
            return _page(request, 403, problem=exc.message)
        except NestogyError as exc:
            return _page(request, 409, problem=exc.message)
        if decision == "decline":
            return _page(request, 200, done="You declined the invitation of "
                                            f"{invitation.company.name}.")
        request.session[SESSION_COMPANY_KEY] = invitation.company.public_id
        messages.success(request, f"You joined {invitation.company.name} as "
                                  f"{invitation.get_role_display().lower()}.")
        return HttpResponseRedirect("/app/")
    return _page(request, 200, invitation=invitation)
