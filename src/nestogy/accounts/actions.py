"""Every change to staff, memberships and tokens. Each writes one audit entry."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from nestogy.accounts import invitations
from nestogy.accounts.models import ApiToken, Invitation, Membership, TechnicianProfile, User
from nestogy.accounts.queries import hash_token
from nestogy.accounts.roles import GRANTABLE, Role
from nestogy.audit.actions import log_action
from nestogy.core.errors import Conflict, PermissionDenied, ValidationError
from nestogy.core.events import emit
from nestogy.core.ids import new_public_id
from nestogy.core.timeutil import validate_timezone
from nestogy.core.validation import clean_bool, clean_email, clean_int, clean_text
from nestogy.tenancy.models import Company

TOKEN_PREFIX = "nst_"  # noqa: S105 (a public prefix, not a secret)
SKILL_NAME = re.compile(r"^[a-z0-9][a-z0-9 _.+#/-]{0,49}$")


def generate_token() -> tuple[str, str, str]:
    """Return (raw token, visible prefix, sha256 hash). The raw token is shown once."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return raw, raw[:12], hash_token(raw)


def clean_skills(skills: Any, field: str = "skills") -> dict[str, int]:
    if skills is None:
        return {}
    if not isinstance(skills, dict):
        raise ValidationError(field, "must be an object of skill name to level, "
                                     'e.g. {"networking": 4}')
    cleaned: dict[str, int] = {}
    for name, level in skills.items():
        key = str(name).strip().lower()
        if not SKILL_NAME.match(key):
            raise ValidationError(f"{field}.{name}", "skill names are 1-50 letters, digits, "
                                                     "spaces or _.+#/-")
        cleaned[key] = clean_int(level, f"{field}.{name}", 1, 5)
    return cleaned


def clean_role(role: Any, field: str = "role") -> str:
    if role not in Role.values:
        raise ValidationError(field, f"must be one of {', '.join(Role.values)}")
    return role


def _check_grant(actor_role: str | None, role: str) -> None:
    if actor_role is not None and role not in GRANTABLE.get(actor_role, frozenset()):
        raise PermissionDenied(f"the {actor_role} role may not grant the {role} role")


class AccountExists(Conflict):
    """The e-mail already has an account: it can only be invited (no details are given)."""

    code = "account_exists"


def _create_membership(company: Company, user: User, role: str, skills: dict,
                       max_open_tickets: int | None) -> Membership:
    try:
        with transaction.atomic():
            membership = Membership.objects.create(company=company, user=user, role=role)
    except IntegrityError:
        raise Conflict(f"{user.email} is already a member of this company") from None
    if role == Role.TECHNICIAN or skills or max_open_tickets is not None:
        TechnicianProfile.objects.create(
            company=company, membership=membership, skills=skills,
            max_open_tickets=15 if max_open_tickets is None else max_open_tickets)
    return membership


def is_member(company: Company, email: str) -> bool:
    """Whether ``email`` has a membership (active or not) in ``company``."""
    return (Membership.objects.with_scopes_disabled()
            .filter(company=company, user__email=email).exists())


@transaction.atomic
def add_member(company: Company, *, email: str, name: str = "", role: str,
               skills: dict | None = None, max_open_tickets: int | None = None,
               actor: User | None = None, actor_role: str | None = None,
               password: str | None = None, attach_existing: bool = False) -> Membership:
    """Create a staff account for a new e-mail and its membership in ``company``.

    An e-mail that already has an account raises :class:`AccountExists` and changes nothing:
    a company never takes over an existing account (use :func:`add_or_invite_member`, which
    sends an invitation instead). ``attach_existing`` is for the operator's provisioning of a
    brand-new company (``nestogy create_tenant``), where the account's owner is the operator's
    customer and the company holds no data yet.
    """
    email = clean_email(email)
    role = clean_role(role)
    _check_grant(actor_role, role)
    skills = clean_skills(skills)
    if max_open_tickets is not None:
        max_open_tickets = clean_int(max_open_tickets, "max_open_tickets", 0, 1000)
    name = clean_text(name, "name", max_length=200)
    if is_member(company, email):
        raise Conflict(f"{email} is already a member of this company")
    user = User.objects.filter(email=email).first()
    if user is not None and not attach_existing:
        raise AccountExists(f"{email} already has an account; invite it instead")
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=password, name=name)
        except IntegrityError:  # created concurrently by another request
            raise AccountExists(f"{email} already has an account; invite it instead") from None
    membership = _create_membership(company, user, role, skills, max_open_tickets)
    log_action(membership, "user.added", actor=actor,
               data={"email": email, "role": role, "skills": skills})
    return membership


def add_or_invite_member(company: Company, *, email: str, name: str = "", role: str,
                         skills: dict | None = None, max_open_tickets: int | None = None,
                         calendar_id: str = "", actor: User | None = None,
                         actor_role: str | None = None) -> Membership | Invitation:
    """Staff requests (API, admin): a new e-mail gets its account and membership at once; an
    e-mail that already has an account gets an invitation its owner accepts or declines."""
    try:
        with transaction.atomic():
            return add_member(company, email=email, name=name, role=role, skills=skills,
                              max_open_tickets=max_open_tickets, actor=actor,
                              actor_role=actor_role)
    except AccountExists:
        return invite_member(company, email=email, role=role, skills=skills,
                             max_open_tickets=max_open_tickets, calendar_id=calendar_id,
                             actor=actor, actor_role=actor_role)


def invitation_days() -> int:
    return int(getattr(settings, "NESTOGY_INVITATION_DAYS", 7))


def _issue_token(invitation: Invitation) -> None:
    """A fresh nonce (the previous link stops working) and the hash of the derived token."""
    if not invitation.public_id:
        invitation.public_id = new_public_id(Invitation.public_id_prefix)
    invitation.token_nonce = invitations.new_nonce()
    invitation.token_hash = hash_token(invitations.make_token(invitation.public_id,
                                                              invitation.token_nonce))
    now = timezone.now()
    invitation.expires_at = now + timedelta(days=invitation_days())
    invitation.sent_at = now


@transaction.atomic
def invite_member(company: Company, *, email: str, role: str, skills: dict | None = None,
                  max_open_tickets: int | None = None, calendar_id: str = "",
                  actor: User | None = None, actor_role: str | None = None,
                  actor_label: str = "") -> Invitation:
    """Invite the owner of an account to join ``company`` (e-mailed through the outbox).

    One pending invitation per company and e-mail; an expired one is closed first.
    ``calendar_id`` is the public id of a working calendar the caller validated.
    """
    email = clean_email(email)
    role = clean_role(role)
    _check_grant(actor_role, role)
    skills = clean_skills(skills)
    if max_open_tickets is not None:
        max_open_tickets = clean_int(max_open_tickets, "max_open_tickets", 0, 1000)
    if is_member(company, email):
        raise Conflict(f"{email} is already a member of this company")
    now = timezone.now()
    pending = Invitation.objects.with_scopes_disabled().filter(
        company=company, email=email, status=Invitation.Status.PENDING)
    pending.filter(expires_at__lte=now).update(status=Invitation.Status.EXPIRED,
                                               updated_at=now)
    if pending.exists():
        raise Conflict(f"an invitation to {email} is already pending; resend or revoke it")
    _check_invitation_cooldown(company.pk, email, now)
    invitation = Invitation(company=company, email=email, role=role, skills=skills,
                            max_open_tickets=max_open_tickets, calendar_id=calendar_id or "",
                            invited_by=actor if getattr(actor, "pk", None) else None)
    _issue_token(invitation)
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:
        raise Conflict(f"an invitation to {email} is already pending; resend or revoke it") \
            from None
    log_action(invitation, "user.invited", actor=actor, actor_label=actor_label,
               data={"email": email, "role": role})
    emit("user.invited", company_id=company.pk, data={"invitation_pk": invitation.pk},
         actor=actor)
    return invitation


def _check_invitation_cooldown(company_id: int, email: str, now) -> None:
    """At most one invitation mail per address and company per cooldown
    (``NESTOGY_INVITATION_RESEND_SECONDS``): resending, or revoking and inviting again, cannot
    be used to flood someone's mailbox."""
    cooldown = timedelta(seconds=int(getattr(settings, "NESTOGY_INVITATION_RESEND_SECONDS",
                                             300)))
    recent = Invitation.objects.with_scopes_disabled().filter(
        company_id=company_id, email=email, sent_at__gt=now - cooldown)
    if recent.exists():
        raise Conflict(f"an invitation was sent to {email} moments ago; wait a few minutes "
                       "before sending another", code="too_soon")


@transaction.atomic
def resend_invitation(invitation: Invitation, *, actor: User | None = None,
                      actor_role: str | None = None) -> Invitation:
    """E-mail a new link (the previous one stops working) valid for another full period."""
    invitation = _locked_invitation(invitation)
    _check_grant(actor_role, invitation.role)
    if invitation.status not in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
        raise Conflict(f"the invitation is {invitation.status}; it cannot be sent again")
    if is_member(invitation.company, invitation.email):
        raise Conflict(f"{invitation.email} is already a member of this company")
    _check_invitation_cooldown(invitation.company_id, invitation.email, timezone.now())
    if invitation.status == Invitation.Status.EXPIRED:
        others = Invitation.objects.with_scopes_disabled().filter(
            company_id=invitation.company_id, email=invitation.email,
            status=Invitation.Status.PENDING)
        if others.exclude(pk=invitation.pk).exists():
            raise Conflict(f"another invitation to {invitation.email} is pending")
    invitation.status = Invitation.Status.PENDING
    _issue_token(invitation)
    invitation.save(update_fields=["status", "token_nonce", "token_hash", "expires_at",
                                   "sent_at", "updated_at"])
    log_action(invitation, "user.invitation_resent", actor=actor,
               data={"email": invitation.email})
    emit("user.invited", company_id=invitation.company_id,
         data={"invitation_pk": invitation.pk}, actor=actor)
    return invitation


@transaction.atomic
def revoke_invitation(invitation: Invitation, *, actor: User | None = None) -> Invitation:
    invitation = _locked_invitation(invitation)
    if invitation.status not in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
        raise Conflict(f"the invitation is {invitation.status}; it cannot be revoked")
    invitation.status = Invitation.Status.REVOKED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at", "updated_at"])
    log_action(invitation, "user.invitation_revoked", actor=actor,
               data={"email": invitation.email})
    return invitation


def _locked_invitation(invitation: Invitation) -> Invitation:
    return (Invitation.objects.with_scopes_disabled().select_for_update()
            .get(pk=invitation.pk))


def _check_answerable(invitation: Invitation, user: User) -> None:
    if not user.is_active or user.email != invitation.email:
        raise PermissionDenied("this invitation is for another account")
    status = invitation.current_status
    if status != Invitation.Status.PENDING:
        raise Conflict(f"this invitation is {status}", code=f"invitation_{status}")


@transaction.atomic
def accept_invitation(invitation: Invitation, user: User) -> Membership:
    """The invited account joins the company with the invited role (and technician fields)."""
    invitation = _locked_invitation(invitation)
    _check_answerable(invitation, user)
    company = invitation.company
    if is_member(company, user.email):
        raise Conflict("you are already a member of this company")
    membership = _create_membership(company, user, invitation.role, invitation.skills or {},
                                    invitation.max_open_tickets)
    invitation.status = Invitation.Status.ACCEPTED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at", "updated_at"])
    # Higher apps react to user.joined (routing applies the invitation's working calendar).
    log_action(invitation, "user.joined", actor=user,
               data={"email": user.email, "role": invitation.role,
                     "membership_id": membership.public_id})
    emit("user.joined", company_id=company.pk,
         data={"invitation_pk": invitation.pk, "membership_pk": membership.pk}, actor=user)
    return membership


@transaction.atomic
def decline_invitation(invitation: Invitation, user: User) -> Invitation:
    invitation = _locked_invitation(invitation)
    _check_answerable(invitation, user)
    invitation.status = Invitation.Status.DECLINED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at", "updated_at"])
    log_action(invitation, "user.invitation_declined", actor=user,
               data={"email": user.email})
    return invitation


# --- changing members -------------------------------------------------------------------------

ACCOUNT_FIELDS = ("name", "timezone")
MEMBER_FIELDS = {"name", "role", "skills", "max_open_tickets", "out_of_office", "is_active",
                 "timezone"}


def account_change_refusal(company: Company, user: User, *, actor: User | None = None,
                           actor_role: str | None = None) -> str | None:
    """Why ``actor`` (acting in ``company`` with ``actor_role``) may not change ``user``'s
    account: its e-mail, password, name, time zone or global active flag. None = allowed.

    An account that also belongs to another company, or a superuser's, is its owner's alone;
    otherwise the actor's role must be able to grant the member's role (an admin does not
    touch an owner's account). Users always manage their own account; superusers any.
    """
    if actor is not None and (actor.pk == user.pk or actor.is_superuser):
        return None
    if user.is_superuser:
        return "this account belongs to an operator of the installation"
    if (Membership.objects.with_scopes_disabled().filter(user=user)
            .exclude(company=company).exists()):
        return "this account also belongs to another company; only its owner may change it"
    membership = (Membership.objects.with_scopes_disabled()
                  .filter(user=user, company=company).first())
    if membership is None:
        return "this account is not a member of this company"
    if actor_role is not None and membership.role not in GRANTABLE.get(actor_role, ()):
        return f"the {actor_role} role may not change the account of a {membership.role}"
    return None


def check_member_change(membership: Membership, changes: dict[str, Any], *,
                        actor: User | None = None, actor_role: str | None = None,
                        owners: list[int] | None = None) -> None:
    """Raise unless ``changes`` to ``membership`` are allowed (fields, grants, last owner).

    Without ``owners`` (the active owners' membership ids, locked by the caller) the last-owner
    rule reads them unlocked: forms call this to show errors; the action re-checks locked.
    """
    unknown = set(changes) - MEMBER_FIELDS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "cannot be changed here")

    def ensure_other_owner() -> None:
        current = owners if owners is not None else _owner_ids(membership.company_id,
                                                               lock=False)
        _ensure_other_owner(membership, current)

    if actor is not None and actor.pk != membership.user_id:
        touched = [f for f in ACCOUNT_FIELDS if f in changes]
        refusal = (account_change_refusal(membership.company, membership.user, actor=actor,
                                          actor_role=actor_role) if touched else None)
        if refusal:
            raise PermissionDenied(f"{touched[0]}: {refusal}")
    was_owner = membership.role == Role.OWNER
    if "role" in changes:
        role = clean_role(changes["role"])
        _check_grant(actor_role, role)
        if was_owner and role != Role.OWNER:
            _check_grant(actor_role, Role.OWNER)
            ensure_other_owner()
    if "is_active" in changes:
        clean_bool(changes["is_active"], "is_active")
        if was_owner and changes["is_active"] != membership.is_active:
            _check_grant(actor_role, Role.OWNER)
            if not changes["is_active"]:
                ensure_other_owner()


@transaction.atomic
def update_member(membership: Membership, changes: dict[str, Any], *,
                  actor: User | None = None, actor_role: str | None = None) -> Membership:
    """Apply a partial update: name, role, skills, max_open_tickets, out_of_office, is_active.

    ``is_active`` is the membership's flag in this company (the account's own flag is not a
    company's to change). Role and active-flag changes lock the company's active owners first,
    so two concurrent demotions cannot leave the company without one.
    """
    owners = (_owner_ids(membership.company_id, lock=True)
              if {"role", "is_active"} & set(changes) else None)
    membership = (Membership.objects.with_scopes_disabled().select_for_update()
                  .get(pk=membership.pk))
    check_member_change(membership, changes, actor=actor, actor_role=actor_role,
                        owners=owners)
    user = membership.user
    audit: dict[str, Any] = {}
    if "name" in changes:
        user.name = clean_text(changes["name"], "name", max_length=200)
        user.save(update_fields=["name"])
        audit["name"] = user.name
    if "timezone" in changes:
        user.timezone = validate_timezone(changes["timezone"]) if changes["timezone"] else ""
        user.save(update_fields=["timezone"])
        audit["timezone"] = user.timezone
    if "role" in changes:
        membership.role = changes["role"]
        audit["role"] = membership.role
    if "is_active" in changes:
        membership.is_active = changes["is_active"]
        audit["is_active"] = membership.is_active
    membership.save()
    profile_fields = {k: changes[k] for k in ("skills", "max_open_tickets", "out_of_office")
                      if k in changes}
    if profile_fields:
        try:
            profile = membership.technician
        except TechnicianProfile.DoesNotExist:
            profile = TechnicianProfile(company_id=membership.company_id, membership=membership)
        if "skills" in profile_fields:
            profile.skills = clean_skills(profile_fields["skills"])
        if "max_open_tickets" in profile_fields:
            profile.max_open_tickets = clean_int(profile_fields["max_open_tickets"],
                                                 "max_open_tickets", 0, 1000)
        if "out_of_office" in profile_fields:
            profile.out_of_office = clean_bool(profile_fields["out_of_office"], "out_of_office")
        profile.save()
        audit.update({k: getattr(profile, k) for k in profile_fields})
    log_action(membership, "user.updated", actor=actor, data=audit)
    return membership


def _owner_ids(company_id: int, *, lock: bool) -> list[int]:
    """Ids of the company's active owner memberships; with ``lock``, locked FOR UPDATE (in id
    order, so concurrent callers queue instead of deadlocking)."""
    qs = Membership.objects.with_scopes_disabled().filter(
        company_id=company_id, role=Role.OWNER, is_active=True).order_by("pk")
    if lock:
        qs = qs.select_for_update()
    return list(qs.values_list("pk", flat=True))


def _ensure_other_owner(membership: Membership, owners: list[int]) -> None:
    if not [pk for pk in owners if pk != membership.pk]:
        raise Conflict("a company must keep at least one active owner")


@transaction.atomic
def remove_member(membership: Membership, *, actor: User | None = None,
                  actor_role: str | None = None) -> None:
    """Deactivate a membership (history such as tickets and audit entries keeps the user)."""
    owners = _owner_ids(membership.company_id, lock=True)
    membership = (Membership.objects.with_scopes_disabled().select_for_update()
                  .get(pk=membership.pk))
    if membership.role == Role.OWNER:
        _check_grant(actor_role, Role.OWNER)
        if membership.is_active:
            _ensure_other_owner(membership, owners)
    membership.is_active = False
    membership.save(update_fields=["is_active", "updated_at"])
    ApiToken.objects.with_scopes_disabled().filter(
        company_id=membership.company_id, user_id=membership.user_id,
        revoked_at__isnull=True).update(revoked_at=timezone.now())
    log_action(membership, "user.removed", actor=actor, data={"email": membership.user.email})


@transaction.atomic
def issue_api_token(membership: Membership, *, name: str = "API token",
                    actor: User | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``membership``; returns the row and the raw token (shown once)."""
    raw, prefix, digest = generate_token()
    token = ApiToken.objects.create(company_id=membership.company_id, user=membership.user,
                                    name=(name or "API token")[:100], prefix=prefix,
                                    token_hash=digest)
    log_action(token, "api_token.created", actor=actor or membership.user,
               data={"name": token.name, "prefix": prefix})
    return token, raw


@transaction.atomic
def revoke_api_token(token: ApiToken, *, actor: User | None = None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        log_action(token, "api_token.revoked", actor=actor, data={"prefix": token.prefix})
    return token


def change_company_settings(company, values: dict, *, actor=None):
    """Validated settings change of ``company`` (see tenancy.company_settings), audited in the
    same transaction. Not wrapped in a transaction here: a ``branding.logo_url`` is fetched
    before ``update_company_settings`` opens its own, so no lock waits on the network."""
    from nestogy.tenancy.actions import update_company_settings

    if not isinstance(values, dict) or not values:
        raise ValidationError("settings", "must be an object with at least one setting")
    return update_company_settings(
        company, values, on_saved=lambda saved: log_action(
            saved, "company.settings_updated", actor=actor, company=saved,
            data={"keys": sorted(values)}), actor=actor)


@transaction.atomic
def upload_company_logo(company, data: bytes, *, actor=None, field: str = "file"):
    """Store an uploaded logo (PNG/JPEG/GIF/WebP, checked and re-encoded), audited."""
    from nestogy.tenancy.actions import set_company_logo

    logo = set_company_logo(company, data, field=field)
    log_action(company, "company.logo_uploaded", actor=actor, company=company,
               data={"content_type": logo.content_type, "width": logo.width,
                     "height": logo.height, "bytes": logo.size, "sha256": logo.sha256})
    return logo


@transaction.atomic
def remove_company_logo(company, *, actor=None) -> bool:
    """Delete the company logo (and ``branding.logo_url``), audited when there was one."""
    from nestogy.tenancy.actions import delete_company_logo

    deleted = delete_company_logo(company)
    if deleted:
        log_action(company, "company.logo_deleted", actor=actor, company=company)
    return deleted
