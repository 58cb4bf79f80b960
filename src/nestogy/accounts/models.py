from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone as dj_timezone

from nestogy.accounts.roles import Role
from nestogy.core.ids import PublicIdField
from nestogy.tenancy.models import TenantOwnedModel


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """MSP staff. Logs in with email; belongs to companies through memberships."""

    public_id_prefix = "usr"

    public_id = PublicIdField(unique=True)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    timezone = models.CharField(max_length=64, blank=True,
                                help_text="Display time zone; empty = the company's")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=True, help_text="May log in to the staff admin")
    date_joined = models.DateTimeField(default=dj_timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.name or self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


class Membership(TenantOwnedModel):
    """A user's place in one company, with one role."""

    public_id_prefix = "mem"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "user"], name="membership_one_per_user"),
        ]
        indexes = [models.Index(fields=["company", "role"], name="membership_role_idx")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class TechnicianProfile(TenantOwnedModel):
    """What routing needs to know about a staff member who works tickets."""

    public_id_prefix = "tech"

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE,
                                      related_name="technician")
    skills = models.JSONField(default=dict, blank=True,
                              help_text='Skill name → level 1-5, e.g. {"networking": 4}')
    max_open_tickets = models.PositiveIntegerField(
        default=15, validators=[MinValueValidator(0), MaxValueValidator(1000)])
    out_of_office = models.BooleanField(default=False)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["membership__user__email"]

    def __str__(self) -> str:
        return f"Technician profile of {self.membership.user}"


class ApiToken(TenantOwnedModel):
    """A bearer token for one user in one company. Only the SHA-256 of the token is stored."""

    public_id_prefix = "tok"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="API token")
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise it")
    token_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        now = dj_timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Invitation(TenantOwnedModel):
    """An offer to join a company, made to an e-mail address that already has an account.

    A company never takes over an existing account: the person behind it accepts (signed in
    as that account) or declines. Only the SHA-256 of the link's token is stored; the token
    itself is derived when the e-mail is rendered (see ``accounts.invitations``). The fields
    a staff request carried (role, skills, ticket limit, working calendar) are applied when
    the invitation is accepted.
    """

    public_id_prefix = "inv"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    skills = models.JSONField(default=dict, blank=True)
    max_open_tickets = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1000)])
    calendar_id = models.CharField(max_length=40, blank=True,
                                   help_text="Public id of the working calendar to set")
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_nonce = models.CharField(max_length=32, editable=False)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            *TenantOwnedModel.Meta.constraints,
            models.UniqueConstraint(fields=["company", "email"],
                                    condition=models.Q(status="pending"),
                                    name="invitation_one_pending"),
        ]
        indexes = [models.Index(fields=["company", "status"], name="invitation_status_idx")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} ({self.role})"

    @property
    def current_status(self) -> str:
        """The status, with a pending invitation past its expiry shown as expired."""
        if self.status == self.Status.PENDING and self.expires_at <= dj_timezone.now():
            return self.Status.EXPIRED
        return self.status
