"""Every change to staff, memberships and tokens. Each writes one audit entry."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from nestogy.accounts.models import ApiToken, Membership, TechnicianProfile, User
from nestogy.accounts.queries import hash_token
from nestogy.accounts.roles import GRANTABLE, Role
from nestogy.audit.actions import log_action
from nestogy.core.errors import Conflict, PermissionDenied, ValidationError
from nestogy.core.timeutil import validate_timezone
from nestogy.tenancy.models import Company

TOKEN_PREFIX = "nst_"  # noqa: S105 (a public prefix, not a secret)
SKILL_NAME = re.compile(r"^[a-z0-9][a-z0-9 _.+#/-]{0,49}$")


def generate_token() -> tuple[str, str, str]:
    """Return (raw token, visible prefix, sha256 hash). The raw token is shown once."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return raw, raw[:12], hash_token(raw)


def clean_email(value: Any, field: str = "email") -> str:
    email = (value or "").strip().lower() if isinstance(value, str) else ""
    if not email:
        raise ValidationError(field, "is required")
    try:
        validate_email(email)
    except Exception:
        raise ValidationError(field, "is not a valid email address") from None
    return email


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
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
            raise ValidationError(f"{field}.{name}", "level must be a whole number from 1 to 5")
        cleaned[key] = level
    return cleaned


def clean_role(role: Any, field: str = "role") -> str:
    if role not in Role.values:
        raise ValidationError(field, f"must be one of {', '.join(Role.values)}")
    return role


def _check_grant(actor_role: str | None, role: str) -> None:
    if actor_role is not None and role not in GRANTABLE.get(actor_role, frozenset()):
        raise PermissionDenied(f"the {actor_role} role may not grant the {role} role")


@transaction.atomic
def add_member(company: Company, *, email: str, name: str = "", role: str,
               skills: dict | None = None, max_open_tickets: int | None = None,
               actor: User | None = None, actor_role: str | None = None,
               password: str | None = None) -> Membership:
    """Add a staff member to ``company``; the user account is created on first use."""
    email = clean_email(email)
    role = clean_role(role)
    _check_grant(actor_role, role)
    skills = clean_skills(skills)
    if max_open_tickets is not None and (
        isinstance(max_open_tickets, bool) or not isinstance(max_open_tickets, int)
        or not 0 <= max_open_tickets <= 1000
    ):
        raise ValidationError("max_open_tickets", "must be a whole number from 0 to 1000")
    name = (name or "").strip()
    if len(name) > 200:
        raise ValidationError("name", "must be at most 200 characters")
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, name=name)
    elif Membership.objects.with_scopes_disabled().filter(company=company, user=user).exists():
        raise Conflict(f"{email} is already a member of this company")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(company=company, user=user, role=role)
    except IntegrityError:
        raise Conflict(f"{email} is already a member of this company") from None
    if role == Role.TECHNICIAN or skills or max_open_tickets is not None:
        TechnicianProfile.objects.create(
            company=company, membership=membership, skills=skills,
            max_open_tickets=15 if max_open_tickets is None else max_open_tickets)
    log_action(membership, "user.added", actor=actor,
               data={"email": email, "role": role, "skills": skills})
    return membership


@transaction.atomic
def update_member(membership: Membership, changes: dict[str, Any], *,
                  actor: User | None = None, actor_role: str | None = None) -> Membership:
    """Apply a partial update: name, role, skills, max_open_tickets, out_of_office, is_active."""
    allowed = {"name", "role", "skills", "max_open_tickets", "out_of_office", "is_active",
               "timezone"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(sorted(unknown)[0], "cannot be changed here")
    user = membership.user
    audit: dict[str, Any] = {}
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if len(name) > 200:
            raise ValidationError("name", "must be at most 200 characters")
        user.name = name
        user.save(update_fields=["name"])
        audit["name"] = name
    if "timezone" in changes:
        user.timezone = validate_timezone(changes["timezone"]) if changes["timezone"] else ""
        user.save(update_fields=["timezone"])
        audit["timezone"] = user.timezone
    if "role" in changes:
        role = clean_role(changes["role"])
        _check_grant(actor_role, role)
        if membership.role == Role.OWNER and role != Role.OWNER:
            _ensure_other_owner(membership)
        membership.role = role
        audit["role"] = role
    if "is_active" in changes:
        if not isinstance(changes["is_active"], bool):
            raise ValidationError("is_active", "must be true or false")
        if not changes["is_active"] and membership.role == Role.OWNER:
            _ensure_other_owner(membership)
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
            value = profile_fields["max_open_tickets"]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
                raise ValidationError("max_open_tickets", "must be a whole number from 0 to 1000")
            profile.max_open_tickets = value
        if "out_of_office" in profile_fields:
            if not isinstance(profile_fields["out_of_office"], bool):
                raise ValidationError("out_of_office", "must be true or false")
            profile.out_of_office = profile_fields["out_of_office"]
        profile.save()
        audit.update({k: getattr(profile, k) for k in profile_fields})
    log_action(membership, "user.updated", actor=actor, data=audit)
    return membership


def _ensure_other_owner(membership: Membership) -> None:
    others = (Membership.objects.filter(role=Role.OWNER, is_active=True)
              .exclude(pk=membership.pk).exists())
    if not others:
        raise Conflict("a company must keep at least one active owner")


@transaction.atomic
def remove_member(membership: Membership, *, actor: User | None = None,
                  actor_role: str | None = None) -> None:
    """Deactivate a membership (history such as tickets and audit entries keeps the user)."""
    if membership.role == Role.OWNER:
        _check_grant(actor_role, Role.OWNER)
        _ensure_other_owner(membership)
    membership.is_active = False
    membership.save(update_fields=["is_active", "updated_at"])
    ApiToken.objects.filter(user=membership.user, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
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


@transaction.atomic
def change_company_settings(company, values: dict, *, actor=None):
    """Validated settings change of ``company`` (see tenancy.company_settings), audited."""
    from nestogy.tenancy.actions import update_company_settings

    if not isinstance(values, dict) or not values:
        raise ValidationError("settings", "must be an object with at least one setting")
    company = update_company_settings(company, values)
    log_action(company, "company.settings_updated", actor=actor, company=company,
               data={"keys": sorted(values)})
    return company


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
