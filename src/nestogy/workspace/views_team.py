"""The team (``/app/team/``): who works in the company and with which role, and the pending
invitations. Owners and admins add people as the API does (``add_or_invite_member``): a new
e-mail gets its account at once and the password-reset mail to choose a password; an
e-mail that already has an account gets an invitation its owner accepts while signed in.
They resend or revoke an invitation, change a member's role and remove a member. Every
change goes through ``accounts.actions`` with the acting role (nobody grants a role above
their own; the last owner stays), audited; another company's member or invitation is not
found (404)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from nestogy.accounts import actions as account_actions
from nestogy.accounts import security
from nestogy.accounts.models import Invitation, Membership
from nestogy.accounts.roles import GRANTABLE, Role
from nestogy.core.errors import Conflict, NestogyError, ValidationError
from nestogy.workspace import auth

HERE = "/app/team/"
ROLE_ORDER = {role: i for i, role in enumerate(Role.values)}


def _grantable(request: HttpRequest) -> list[tuple[str, str]]:
    allowed = GRANTABLE.get(request.membership.role, frozenset())
    return [(value, label) for value, label in Role.choices if value in allowed]


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail", max_length=254,
                             error_messages={"required": "Enter the person's e-mail address."})
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles
        self.fields["role"].initial = Role.TECHNICIAN


def _page(request: HttpRequest, form: InviteForm | None, status: int = 200) -> HttpResponse:
    members = sorted(Membership.objects.select_related("user"),
                     key=lambda m: (not m.is_active, ROLE_ORDER.get(m.role, 99),
                                    (m.user.name or m.user.email).lower()))
    invitations = list(Invitation.objects.filter(
        status__in=(Invitation.Status.PENDING, Invitation.Status.EXPIRED))
        .order_by("-created_at", "-id"))
    can_invite = auth.can(request, "users.create")
    return render(request, "workspace/team.html", {
        "members": members, "invitations": invitations,
        "form": form or (InviteForm(roles=_grantable(request)) if can_invite else None),
        "roles": _grantable(request), "can_invite": can_invite,
        "can_update": auth.can(request, "users.update"),
        "can_remove": auth.can(request, "users.delete"),
    }, status=status)


@auth.staff_view("users.view")
@require_GET
def team_view(request: HttpRequest) -> HttpResponse:
    return _page(request, None)


@auth.staff_view("users.create")
@require_POST
def invite_view(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST, roles=_grantable(request))
    if form.is_valid():
        try:
            added = account_actions.add_or_invite_member(
                request.company, email=form.cleaned_data["email"],
                role=form.cleaned_data["role"], actor=request.user,
                actor_role=request.membership.role)
        except ValidationError as exc:
            name = exc.field if exc.field in form.fields else None
            form.add_error(name, exc.errors[0].message)
        except Conflict as exc:
            form.add_error("email", f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        else:
            if isinstance(added, Invitation):
                messages.success(request, f"{added.email} already has an account: an "
                                          f"invitation to join as {added.get_role_display()} "
                                          "was e-mailed.")
            else:
                # A new account has no password yet: the reset mail lets them choose one.
                security.request_password_reset_for_email(added.user.email)
                messages.success(request, f"{added.user.email} joined as "
                                          f"{added.get_role_display()}; an e-mail with a link "
                                          "to choose a password is on its way.")
            return redirect(HERE)
    return _page(request, form, status=400)


def _invitation(invitation_id: str) -> Invitation:
    invitation = Invitation.objects.filter(public_id=invitation_id).first()
    if invitation is None:
        raise Http404("invitation not found")
    return invitation


def _member(member_id: str) -> Membership:
    membership = Membership.objects.select_related("user").filter(public_id=member_id).first()
    if membership is None:
        raise Http404("member not found")
    return membership


def _done(request: HttpRequest, work, success: str) -> HttpResponse:
    """Run an action; its refusal becomes the page's error message."""
    try:
        work()
    except NestogyError as exc:
        messages.error(request, f"Not done: {exc}.")
    else:
        messages.success(request, success)
    return redirect(HERE)


@auth.staff_view("users.create")
@require_POST
def resend_view(request: HttpRequest, invitation_id: str) -> HttpResponse:
    invitation = _invitation(invitation_id)
    return _done(request, lambda: account_actions.resend_invitation(
        invitation, actor=request.user, actor_role=request.membership.role),
        f"A new link was e-mailed to {invitation.email}; the previous one no longer works.")


@auth.staff_view("users.create")
@require_POST
def revoke_view(request: HttpRequest, invitation_id: str) -> HttpResponse:
    invitation = _invitation(invitation_id)
    return _done(request, lambda: account_actions.revoke_invitation(
        invitation, actor=request.user),
        f"The invitation to {invitation.email} is revoked; its link no longer works.")


@auth.staff_view("users.update")
@require_POST
def role_view(request: HttpRequest, member_id: str) -> HttpResponse:
    membership = _member(member_id)
    role = request.POST.get("role", "")
    if role not in dict(Role.choices):
        messages.error(request, "Not done: choose one of the roles.")
        return redirect(HERE)
    label = dict(Role.choices)[role]
    return _done(request, lambda: account_actions.update_member(
        membership, {"role": role}, actor=request.user, actor_role=request.membership.role),
        f"{membership.user.email} is now {label}.")


@auth.staff_view("users.delete")
@require_POST
def remove_view(request: HttpRequest, member_id: str) -> HttpResponse:
    membership = _member(member_id)
    return _done(request, lambda: account_actions.remove_member(
        membership, actor=request.user, actor_role=request.membership.role),
        f"{membership.user.email} no longer has access to {request.company.name}.")
