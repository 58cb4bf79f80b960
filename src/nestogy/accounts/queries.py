"""Reads and access checks for staff, memberships and tokens."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_scopes import scopes_disabled

from nestogy.accounts.models import ApiToken, Invitation, Membership, User
from nestogy.core.errors import NotFound, ValidationError
from nestogy.tenancy.models import Company


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user, in one company, with one role (and the token used, if any)."""

    user: User
    membership: Membership
    company: Company
    token: ApiToken | None = None

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def company_id(self) -> int:
        return self.company.pk


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def principal_for_token(raw: str) -> Principal | None:
    """Resolve a bearer token. Runs before any scope exists, so it reads unscoped."""
    if not raw or len(raw) > 200:
        return None
    with scopes_disabled():
        token = (
            ApiToken.objects.select_related("user", "company")
            .filter(token_hash=hash_token(raw))
            .first()
        )
        if token is None or not token.is_usable or not token.user.is_active:
            return None
        if not token.company.is_active:
            return None
        membership = (
            Membership.objects.filter(company_id=token.company_id, user_id=token.user_id,
                                      is_active=True)
            .first()
        )
        if membership is None:
            return None
        membership.company = token.company
        membership.user = token.user
        now = timezone.now()
        interval = timedelta(seconds=getattr(settings, "NESTOGY_TOKEN_TOUCH_INTERVAL", 60))
        if token.last_used_at is None or now - token.last_used_at > interval:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return Principal(user=token.user, membership=membership, company=token.company, token=token)


def principal_for_membership(membership: Membership) -> Principal:
    return Principal(user=membership.user, membership=membership, company=membership.company)


def members(principal_or_company) -> QuerySet[Membership]:
    """Active and inactive memberships of the current company (the scope filters it)."""
    return Membership.objects.select_related("user", "technician").order_by("created_at", "id")


def get_member(public_user_id: str) -> Membership:
    """The membership of the user with this public id in the current company, or NotFound."""
    membership = (
        Membership.objects.select_related("user", "technician")
        .filter(user__public_id=public_user_id)
        .first()
    )
    if membership is None:
        raise NotFound("user not found")
    return membership


def members_with_role(*roles: str) -> QuerySet[Membership]:
    return Membership.objects.filter(role__in=roles, is_active=True, user__is_active=True)


def invitations(status: str | None = None) -> QuerySet[Invitation]:
    """Invitations of the current company, newest first; ``status`` as the API shows it
    (``expired`` = pending past its expiry)."""
    qs = Invitation.objects.select_related("invited_by")
    if not status:
        return qs
    now = timezone.now()
    if status == Invitation.Status.EXPIRED:
        return qs.filter(Q(status=status) | Q(status=Invitation.Status.PENDING,
                                              expires_at__lte=now))
    if status == Invitation.Status.PENDING:
        return qs.filter(status=status, expires_at__gt=now)
    if status not in Invitation.Status.values:
        raise ValidationError("status", f"must be one of {', '.join(Invitation.Status.values)}")
    return qs.filter(status=status)


def get_invitation(public_id: str) -> Invitation:
    invitation = Invitation.objects.filter(public_id=public_id).first()
    if invitation is None:
        raise NotFound("invitation not found")
    return invitation
