"""Staff, memberships, invitations and tokens in the admin; also the admin of the company
itself (``tenancy.Company``) and of the audit trail (``audit.AuditEntry``), registered here
because their permissions come from ``accounts.roles``, which sits above those apps.

Rules (the same as the API's, from ``accounts.actions``):
- A company's staff see only the company's users. An account that also belongs to another
  company, or a superuser's, is read-only here (its change form refuses to save, its password
  page answers 403); otherwise the actor's role must be able to grant the member's role.
- Staff are added by e-mail through ``add_or_invite_member``: a new e-mail gets its account,
  an existing account an invitation. No membership is created from a raw user id.
- Role and active-flag changes go through ``update_member`` (grants, the owner grant for an
  owner, at least one active owner).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from nestogy.accounts import (
    actions,
    admin_company,  # noqa: F401  (registers the company page)
    security,
)
from nestogy.accounts.admin_base import (
    CompanyAdmin,
    TenantAdmin,
    TenantStackedInline,
    request_may,
    role_of,
)
from nestogy.accounts.models import ApiToken, Invitation, Membership, TechnicianProfile, User
from nestogy.accounts.roles import GRANTABLE, Role
from nestogy.audit.models import AuditEntry
from nestogy.core.errors import NestogyError, ValidationError

# Staff permissions come from accounts.roles.MATRIX, not from Django groups.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)
# Second-factor devices (django-otp) are not company objects: each person manages their own on
# the workspace's account page; django-otp's own admin pages (every user's devices, QR codes)
# are withdrawn.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)


@admin.register(AuditEntry)
class AuditEntryAdmin(TenantAdmin):
    list_display = ("created_at", "action", "actor_label", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("action", "object_id", "object_repr", "actor_label")
    date_hierarchy = "created_at"
    view_perm = "audit.view"
    change_perm = None


@admin.register(User)
class UserAdmin(CompanyAdmin, BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "name", "is_active", "is_staff", "is_superuser", "two_factor",
                    "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    actions = ["reset_two_factor_selected"]
    search_fields = ("email", "name")
    readonly_fields = ("public_id", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("public_id", "email", "password")}),
        ("Profile", {"fields": ("name", "timezone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",),
                             "fields": ("email", "name", "password1", "password2")}),)
    view_perm = "users.view"
    change_perm = "users.update"
    add_perm = None  # staff are added through Memberships → Add (by e-mail)
    delete_perm = None

    @admin.display(description="two-factor", boolean=True)
    def two_factor(self, obj):
        return security.has_two_factor(obj)

    def has_reset_two_factor_permission(self, request):
        return request_may(request, "users.update")

    @admin.action(description="Turn off two-factor sign-in (lost phone and backup codes)",
                  permissions=["reset_two_factor"])
    def reset_two_factor_selected(self, request, queryset):
        done = 0
        for user in queryset:
            try:
                security.reset_two_factor(user, company=getattr(request, "company", None),
                                          actor=request.user, actor_role=role_of(request))
                done += 1
            except NestogyError as exc:
                self.message_user(request, f"{user.email}: {exc.message}", messages.ERROR)
        self.message_user(request, f"Two-factor sign-in turned off for {done} accounts; they "
                                   "sign in with their password and set up a new app.")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        company = getattr(request, "company", None)
        if company is None:
            return qs.none()
        members = (Membership.objects.with_scopes_disabled().filter(company_id=company.pk)
                   .values("user_id"))
        return qs.filter(pk__in=members)

    def refusal(self, request, obj) -> str | None:
        """Why this request may not change ``obj``'s account (None: it may)."""
        if request.user.is_superuser:
            return None
        company = getattr(request, "company", None)
        if company is None:
            return "no company"
        return actions.account_change_refusal(company, obj, actor=request.user,
                                              actor_role=role_of(request))

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or self.refusal(request, obj) is None

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or obj is None:
            return fieldsets
        return tuple((name, {**opts, "fields": tuple(f for f in opts["fields"]
                                                     if f not in ("is_staff", "is_superuser"))})
                     for name, opts in fieldsets)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and not request.user.is_superuser:
            refusal = self.refusal(request, obj)
            if refusal and request.method == "POST":
                raise DjangoPermissionDenied(refusal)
            if refusal:
                extra_context["subtitle"] = f"Read-only: {refusal}."
        return super().change_view(request, object_id, form_url, extra_context)


class TechnicianInline(TenantStackedInline):
    model = TechnicianProfile
    readonly_fields = ("public_id", "last_assigned_at")
    view_perm = "users.view"
    add_perm = change_perm = "users.update"
    delete_perm = None


class AddStaffForm(forms.Form):
    email = forms.EmailField(help_text="A new address gets an account; an address that "
                                       "already has one is sent an invitation to accept.")
    name = forms.CharField(max_length=200, required=False,
                           help_text="Used only when a new account is created")
    role = forms.ChoiceField(choices=())

    def __init__(self, *args, grantable=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(value, label) for value, label in Role.choices
                                       if grantable is None or value in grantable]


class MembershipForm(forms.ModelForm):
    """Role and active flag, checked by the same rules as ``update_member``."""

    request = None  # set per request by MembershipAdmin.get_form

    class Meta:
        model = Membership
        fields = ("role", "is_active")

    def clean(self):
        data = super().clean()
        changes = {f: data[f] for f in self.changed_data if f in ("role", "is_active")
                   and f in data}
        if changes and self.instance.pk:
            request = self.request
            try:
                actions.check_member_change(self.instance, changes, actor=request.user,
                                            actor_role=role_of(request))
            except ValidationError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
            except NestogyError as exc:
                raise forms.ValidationError(exc.message) from None
        return data


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ("user", "role", "is_active", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("user__email", "user__name")
    list_select_related = ("user",)
    readonly_fields = ("public_id", "user", "created_at", "updated_at")
    form = MembershipForm
    inlines = [TechnicianInline]
    view_perm = "users.view"
    add_perm = "users.create"
    change_perm = "users.update"
    delete_perm = None  # a member is removed by deactivating the membership (history stays)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and getattr(request, "company", None) \
            is not None

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form

    def save_model(self, request, obj, form, change):
        changes = {f: form.cleaned_data[f] for f in form.changed_data
                   if f in ("role", "is_active")}
        if changes:
            actions.update_member(obj, changes, actor=request.user,
                                  actor_role=role_of(request))
            obj.refresh_from_db()

    def add_view(self, request, form_url="", extra_context=None):
        """Add staff by e-mail (the API's rule): never a membership for a raw user id."""
        if not self.has_add_permission(request):
            raise DjangoPermissionDenied
        role = None if request.user.is_superuser else role_of(request)
        grantable = None if role is None else GRANTABLE.get(role, frozenset())
        form = AddStaffForm(request.POST or None, grantable=grantable)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    added = actions.add_or_invite_member(
                        request.company, email=form.cleaned_data["email"],
                        name=form.cleaned_data["name"], role=form.cleaned_data["role"],
                        actor=request.user, actor_role=role)
            except ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            except NestogyError as exc:
                form.add_error(None, exc.message)
            else:
                if isinstance(added, Invitation):
                    self.message_user(request, f"{added.email} already has an account: an "
                                               "invitation was e-mailed; they join when they "
                                               "accept it.", messages.SUCCESS)
                    return HttpResponseRedirect(
                        reverse("admin:accounts_invitation_changelist"))
                self.message_user(request, f"{added.user.email} was added as "
                                           f"{added.get_role_display().lower()}.",
                                  messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:accounts_membership_change", args=[added.pk]))
        context = {**self.admin_site.each_context(request), "title": "Add staff member",
                   "opts": self.opts, "form": form, "media": self.media + form.media,
                   **(extra_context or {})}
        return TemplateResponse(request, "admin/accounts/membership/add_staff.html", context)


@admin.register(TechnicianProfile)
class TechnicianProfileAdmin(TenantAdmin):
    list_display = ("membership", "max_open_tickets", "out_of_office", "last_assigned_at")
    list_filter = ("out_of_office",)
    search_fields = ("membership__user__email", "membership__user__name")
    list_select_related = ("membership__user",)
    view_perm = "users.view"
    add_perm = change_perm = "users.update"
    delete_perm = None


@admin.register(Invitation)
class InvitationAdmin(TenantAdmin):
    """Invitations sent to existing accounts; sent from Memberships → Add (by e-mail)."""

    list_display = ("email", "role", "shown_status", "invited_by", "expires_at", "created_at")
    list_filter = ("status", "role")
    search_fields = ("email",)
    readonly_fields = ("public_id", "email", "role", "skills", "max_open_tickets",
                       "calendar_id", "invited_by", "status", "expires_at", "sent_at",
                       "responded_at", "created_at", "updated_at")
    actions = ["resend_selected", "revoke_selected"]
    view_perm = "users.create"
    add_perm = change_perm = delete_perm = None

    @admin.display(description="status")
    def shown_status(self, obj):
        return obj.current_status

    def has_invite_permission(self, request):
        return request_may(request, "users.create")

    @admin.action(description="Send the selected invitations again (new link)",
                  permissions=["invite"])
    def resend_selected(self, request, queryset):
        done = 0
        for invitation in queryset:
            try:
                actions.resend_invitation(invitation, actor=request.user,
                                          actor_role=role_of(request))
                done += 1
            except NestogyError as exc:
                self.message_user(request, f"{invitation.email}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{done} invitations sent again.")

    @admin.action(description="Revoke the selected invitations", permissions=["invite"])
    def revoke_selected(self, request, queryset):
        done = 0
        for invitation in queryset:
            try:
                actions.revoke_invitation(invitation, actor=request.user)
                done += 1
            except NestogyError as exc:
                self.message_user(request, f"{invitation.email}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{done} invitations revoked.")


@admin.register(ApiToken)
class ApiTokenAdmin(TenantAdmin):
    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__email")
    readonly_fields = ("public_id", "name", "prefix", "token_hash", "user", "created_at",
                       "updated_at", "last_used_at", "expires_at", "revoked_at")
    actions = ["revoke"]
    view_perm = "users.update"
    add_perm = change_perm = delete_perm = None  # tokens: API or `nestogy create_user`

    def has_revoke_permission(self, request):
        return request_may(request, "users.update")

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        for token in queryset:
            actions.revoke_api_token(token, actor=request.user)
