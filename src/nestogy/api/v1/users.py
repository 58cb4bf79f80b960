"""/users (staff of the token's company), /tokens and /me."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.db import transaction
from ninja import Router, Schema, Status
from pydantic import Field

from nestogy.accounts import actions, queries
from nestogy.accounts.models import ApiToken, Invitation, Membership, TechnicianProfile
from nestogy.accounts.roles import Role, require
from nestogy.api.pagination import paginate
from nestogy.api.schemas import (
    Cursor,
    Email,
    InputSchema,
    Limit,
    ObjectId,
    OptionalTimeZone,
    responses,
    text,
)
from nestogy.core.errors import NotFound, PermissionDenied, ValidationError
from nestogy.routing.actions import set_technician_calendar

router = Router(tags=["users"])
tokens_router = Router(tags=["users"])
me_router = Router(tags=["users"])


RoleName = Literal[tuple(Role.values)]
SkillName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.+#/-]{0,49}$",
                                 description="1-50 letters, digits, spaces or _.+#/- "
                                             "(stored lower-case)")]
SkillLevel = Annotated[int, Field(ge=1, le=5)]
Skills = dict[SkillName, SkillLevel]
MaxOpen = Annotated[int, Field(ge=0, le=1000)]


class UserIn(InputSchema):
    email: Email
    name: text(200) = ""
    role: RoleName
    skills: Skills | None = None
    max_open_tickets: MaxOpen | None = None
    calendar_id: ObjectId | None = None


class UserPatch(InputSchema):
    name: text(200) | None = None
    role: RoleName | None = None
    timezone: OptionalTimeZone | None = None
    skills: Skills | None = None
    max_open_tickets: MaxOpen | None = None
    out_of_office: bool | None = None
    is_active: bool | None = None
    calendar_id: ObjectId | None = None


class UserOut(Schema):
    id: str
    email: str
    name: str
    role: str
    is_active: bool
    timezone: str
    skills: dict[str, int]
    max_open_tickets: int | None
    calendar_id: str | None = None
    out_of_office: bool
    created_at: datetime


class UserList(Schema):
    items: list[UserOut]
    next_cursor: str | None


InvitationStatus = Literal["pending", "accepted", "declined", "revoked", "expired"]


class InvitationOut(Schema):
    id: str
    email: str
    role: RoleName
    status: InvitationStatus
    expires_at: datetime


class InvitationList(Schema):
    items: list[InvitationOut]
    next_cursor: str | None


class TokenIn(InputSchema):
    name: text(100) = "API token"


class TokenOut(Schema):
    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str


class TokenList(Schema):
    items: list[TokenOut]
    next_cursor: str | None


class MeOut(Schema):
    user: UserOut
    company: dict


def _calendar_ids(user_ids) -> dict[int, str]:
    """Working calendar of each user, one query for a whole page."""
    from nestogy.routing.models import TechnicianCalendar

    return dict(TechnicianCalendar.objects.filter(user_id__in=list(user_ids))
                .values_list("user_id", "calendar__public_id"))


def _calendar(calendar_id: str | None):
    """The calendar for ``calendar_id`` (None clears it); an unknown id is a 422."""
    if not calendar_id:
        return None
    from nestogy.sla.queries import get_calendar

    try:
        return get_calendar(calendar_id)
    except NotFound:
        raise ValidationError("calendar_id", "is not a calendar of this company") from None


def user_out(membership: Membership, calendar_ids: dict[int, str] | None = None) -> dict:
    if calendar_ids is None:
        calendar_ids = _calendar_ids([membership.user_id])
    try:
        profile = membership.technician
    except TechnicianProfile.DoesNotExist:
        profile = None
    user = membership.user
    return {
        "id": user.public_id, "email": user.email, "name": user.name, "role": membership.role,
        "is_active": membership.is_active and user.is_active, "timezone": user.timezone,
        "skills": profile.skills if profile else {},
        "max_open_tickets": profile.max_open_tickets if profile else None,
        "out_of_office": profile.out_of_office if profile else False,
        "calendar_id": calendar_ids.get(membership.user_id),
        "created_at": membership.created_at,
    }


def invitation_out(invitation: Invitation) -> dict:
    """What the company sees of an invitation: nothing about the account behind the e-mail."""
    return {"id": invitation.public_id, "email": invitation.email, "role": invitation.role,
            "status": invitation.current_status, "expires_at": invitation.expires_at}


def token_out(token: ApiToken) -> dict:
    return {"id": token.public_id, "name": token.name, "prefix": token.prefix,
            "created_at": token.created_at, "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at}


@router.get("", response=responses({200: UserList}), summary="List staff")
def list_users(request, limit: int = Limit(), cursor: str | None = Cursor(),
               role: RoleName | None = None):
    require(request.auth, "users.view")
    qs = queries.members(request.auth)
    if role:
        qs = qs.filter(role=role)
    rows, next_cursor = paginate(qs, limit=limit, cursor=cursor, order=("id",))
    calendars = _calendar_ids(m.user_id for m in rows)
    return {"items": [user_out(m, calendars) for m in rows], "next_cursor": next_cursor}


@router.post("", response=responses({201: UserOut, 202: InvitationOut}),
             summary="Add a staff member (an existing account is invited instead)",
             description="A new e-mail gets its account and membership at once (201). An "
                         "e-mail that already has an account is sent an invitation its owner "
                         "accepts while signed in (202, the invitation; nothing about the "
                         "account is returned).")
def create_user(request, payload: UserIn):
    require(request.auth, "users.create")
    calendar = _calendar(payload.calendar_id)
    with transaction.atomic():
        added = actions.add_or_invite_member(
            request.auth.company, email=payload.email, name=payload.name, role=payload.role,
            skills=payload.skills, max_open_tickets=payload.max_open_tickets,
            calendar_id=calendar.public_id if calendar is not None else "",
            actor=request.auth.user, actor_role=request.auth.role)
        if isinstance(added, Invitation):
            return Status(202, invitation_out(added))
        if calendar is not None:
            set_technician_calendar(request.auth.company, added.user, calendar,
                                    actor=request.auth.user)
    return Status(201, user_out(added))


@router.get("/invitations", response=responses({200: InvitationList}),
            summary="List invitations sent to existing accounts")
def list_invitations(request, limit: int = Limit(), cursor: str | None = Cursor(),
                     status: InvitationStatus | None = None):
    require(request.auth, "users.create")
    rows, next_cursor = paginate(queries.invitations(status), limit=limit, cursor=cursor,
                                 order=("-id",))
    return {"items": [invitation_out(i) for i in rows], "next_cursor": next_cursor}


@router.delete("/invitations/{invitation_id}", response=responses({204: None}),
               summary="Revoke an invitation (its link stops working)")
def revoke_invitation(request, invitation_id: str):
    require(request.auth, "users.create")
    actions.revoke_invitation(queries.get_invitation(invitation_id), actor=request.auth.user)
    return Status(204, None)


@router.post("/invitations/{invitation_id}/resend", response=responses({200: InvitationOut}),
             summary="E-mail an invitation again with a new link and a new expiry")
def resend_invitation(request, invitation_id: str):
    require(request.auth, "users.create")
    invitation = actions.resend_invitation(queries.get_invitation(invitation_id),
                                           actor=request.auth.user,
                                           actor_role=request.auth.role)
    return invitation_out(invitation)


@router.get("/{user_id}", response=responses({200: UserOut}), summary="Get a staff member")
def get_user(request, user_id: str):
    require(request.auth, "users.view")
    return user_out(queries.get_member(user_id))


@router.patch("/{user_id}", response=responses({200: UserOut}),
              summary="Update a staff member")
def update_user(request, user_id: str, payload: UserPatch):
    membership = queries.get_member(user_id)
    changes = payload.model_dump(exclude_unset=True)
    own_profile = membership.user_id == request.auth.user.pk and set(changes) <= {
        "name", "timezone", "out_of_office"}
    if not own_profile:
        require(request.auth, "users.update")
    has_calendar = "calendar_id" in changes
    calendar = _calendar(changes.pop("calendar_id", None))
    with transaction.atomic():
        membership = actions.update_member(membership, changes, actor=request.auth.user,
                                           actor_role=request.auth.role)
        if has_calendar:
            set_technician_calendar(request.auth.company, membership.user, calendar,
                                    actor=request.auth.user)
    return user_out(queries.get_member(user_id))


@router.delete("/{user_id}", response=responses({204: None}),
               summary="Remove a staff member (deactivates the membership)")
def delete_user(request, user_id: str):
    require(request.auth, "users.delete")
    actions.remove_member(queries.get_member(user_id), actor=request.auth.user,
                          actor_role=request.auth.role)
    return Status(204, None)


@tokens_router.get("", response=responses({200: TokenList}), summary="List your API tokens")
def list_tokens(request, limit: int = Limit(), cursor: str | None = Cursor()):
    qs = ApiToken.objects.filter(user=request.auth.user)
    rows, next_cursor = paginate(qs, limit=limit, cursor=cursor, order=("-id",))
    return {"items": [token_out(t) for t in rows], "next_cursor": next_cursor}


@tokens_router.post("", response=responses({201: TokenCreated}),
                    summary="Create an API token (the token is shown once)")
def create_token(request, payload: TokenIn):
    token, raw = actions.issue_api_token(request.auth.membership, name=payload.name,
                                         actor=request.auth.user)
    return Status(201, {**token_out(token), "token": raw})


@tokens_router.delete("/{token_id}", response=responses({204: None}),
                      summary="Revoke an API token")
def revoke_token(request, token_id: str):
    token = ApiToken.objects.filter(public_id=token_id).first()
    if token is None:
        raise NotFound("token not found")
    if token.user_id != request.auth.user.pk:
        try:
            require(request.auth, "users.update")
        except PermissionDenied:
            raise NotFound("token not found") from None
    actions.revoke_api_token(token, actor=request.auth.user)
    return Status(204, None)


@me_router.get("", response=responses({200: MeOut}), summary="Who am I")
def me(request):
    company = request.auth.company
    return {"user": user_out(request.auth.membership),
            "company": {"id": company.public_id, "name": company.name,
                        "timezone": company.timezone, "currency": company.currency}}
