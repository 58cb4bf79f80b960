"""The admin is limited to the company: every relation field of every admin form, the role
matrix on every admin page, and what the billing role can read.

- One walk over every registered ModelAdmin and inline: no foreign-key, one-to-one or
  many-to-many field accepts another company's user or object.
- Raw ids of another company's user posted to admin forms are form errors; nothing is written.
- Admin permissions come from accounts.roles.MATRIX: the table below (like tests/api_catalog.py
  for the API) says which permission each admin page needs; each role gets 200 exactly where
  the matrix allows and 403 elsewhere, for the changelist, the add page and a change page.
- The billing role (no tickets.view) reads no internal note anywhere in the admin.
"""

from __future__ import annotations

import pytest
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.test import RequestFactory
from django_scopes import scope, scopes_disabled

from nestogy.accounts.models import Membership, User
from nestogy.accounts.roles import MATRIX
from nestogy.tenancy.models import Company
from tests.support import admin_world

ROLES = ["owner", "admin", "manager", "technician", "billing"]
SUPERUSER_ONLY = (None, None, None, None)
# model label -> MATRIX permission to (view, add, change, delete); None = superusers only.
ADMIN_PERMISSIONS: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    "tenancy.Company": ("company.settings", None, "company.settings", None),
    "tenancy.CompanyLogo": ("company.settings", None, None, None),
    "audit.AuditEntry": ("audit.view", None, None, None),
    "accounts.User": ("users.view", None, "users.update", None),
    "accounts.Membership": ("users.view", "users.create", "users.update", None),
    "accounts.TechnicianProfile": ("users.view", "users.update", "users.update", None),
    "accounts.Invitation": ("users.create", None, None, None),
    "accounts.ApiToken": ("users.update", None, None, None),
    "clients.Client": ("clients.view", "clients.create", "clients.update", "clients.delete"),
    "clients.Site": ("clients.view", "clients.update", "clients.update", "clients.update"),
    "clients.Contact": ("contacts.view", "contacts.create", "contacts.update",
                        "contacts.delete"),
    "sla.BusinessCalendar": ("calendars.view",) + ("calendars.manage",) * 3,
    "sla.SLAPolicy": ("sla_policies.view",) + ("sla_policies.manage",) * 3,
    "sla.ClientSLAPolicy": ("sla_policies.view",) + ("sla_policies.manage",) * 3,
    "routing.CategorySkill": ("tickets.view",) + ("routing.manage",) * 3,
    "routing.OutOfOffice": ("users.view",) + ("routing.manage",) * 3,
    "routing.TechnicianCalendar": ("users.view",) + ("users.update",) * 3,
    "contracts.Contract": ("contracts.view",) + ("contracts.manage",) * 3,
    "contracts.ContractItem": ("contracts.view",) + ("contracts.manage",) * 3,
    "contracts.ContractItemQuantity": ("contracts.view",) + ("contracts.manage",) * 3,
    "contracts.UsageRecord": ("contracts.view",) + ("contracts.manage",) * 3,
    "contracts.RenewalRecord": ("contracts.view", None, None, None),
    "tickets.Ticket": ("tickets.view", None, "tickets.update", "tickets.delete"),
    "tickets.Reply": ("tickets.view", None, None, None),
    "tickets.StatusChange": ("tickets.view", None, None, None),
    "tickets.PriorityChange": ("tickets.view", None, None, None),
    "tickets.Escalation": ("tickets.view", None, None, None),
    "tickets.TicketCounter": ("tickets.view", None, None, None),
    "timesheets.WorkType": ("time.own", "company.settings", "company.settings", None),
    "timesheets.TimeEntry": ("time.view_all", None, None, None),
    "timesheets.RunningTimer": ("time.view_all", None, None, None),
    "tickets.CannedResponse": ("canned.manage", None, None, None),
    "workspace.SavedView": ("company.settings", None, None, None),
    "workspace.DashboardSnapshot": ("tickets.reports", None, None, None),
    "billing.Invoice": ("invoices.view",) + ("invoices.manage",) * 3,
    "billing.InvoiceLine": ("invoices.view", None, None, None),
    "billing.BillingRun": ("invoices.view", None, None, None),
    "billing.InvoiceCounter": ("invoices.view", None, "invoices.manage", None),
    "api.IdempotencyRecord": ("invoices.manage", None, None, None),
    "payments.Payment": ("invoices.view", None, None, None),
    "payments.PaymentAllocation": ("invoices.view", None, None, None),
    "payments.Refund": ("invoices.view", None, None, None),
    "payments.PaymentMethodOnFile": ("invoices.view", None, None, None),
    "payments.PaymentAttempt": ("invoices.view", None, None, None),
    "payments.CollectionsFlag": ("invoices.view", None, None, None),
    "payments.WebhookEvent": SUPERUSER_ONLY,
    "core.ThrottleHit": SUPERUSER_ONLY,
    "tickets.TicketAttachment": ("tickets.view", None, None, None),
    "notifications.Delivery": ("notifications.deliveries", None, None, None),
    "notifications.StoredEvent": ("notifications.deliveries", None, None, None),
    "notifications.DeliveryAttempt": ("notifications.deliveries", None, None, None),
    "notifications.Notification": ("notifications.deliveries", None, None, None),
    "notifications.WebhookEndpoint": ("company.settings",) * 4,
    "notifications.TemplateOverride": ("company.settings",) * 4,
    "notifications.Preference": ("company.settings",) * 4,
    "notifications.ChannelAddress": ("company.settings",) * 4,
    "notifications.SenderVerification": ("company.settings", None, None, None),
    "django_tasks_database.DBTaskResult": SUPERUSER_ONLY,
}


def persona(p, role):
    return {"owner": p.owner_a, "admin": p.admin_a, "manager": p.manager_a,
            "technician": p.tech_a, "billing": p.billing_a}[role]


def worlds(p):
    a = admin_world.build(p.company_a, client=p.client_a, contact=p.contact_a,
                          tech=p.tech_a.user, invitee_email="outsider-a@elsewhere.test")
    b = admin_world.build(p.company_b, client=p.client_b, contact=p.contact_b,
                          tech=p.tech_b.user, invitee_email="outsider-b@elsewhere.test")
    return a, b


def staff_request(member):
    request = RequestFactory().get("/admin/")
    request.user = member.user
    request.membership = member.membership
    request.company = member.membership.company
    return request


def company_field(model):
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is Company:
            return field.attname
    return None


def foreign_rows(model, p) -> list:
    """Rows of ``model`` that company A's staff must never be able to pick."""
    with scopes_disabled():
        if issubclass(model, User):
            members_of_a = Membership.objects.filter(company=p.company_a).values("user_id")
            return list(User.objects.filter(memberships__company=p.company_b)
                        .exclude(pk__in=members_of_a).distinct())
        if issubclass(model, Company):
            return [p.company_b]
        field = company_field(model)
        if field is None:
            return list(model._default_manager.all()[:3])  # not the company's at all
        return list(model._default_manager.filter(**{field: p.company_b.pk})[:3])


def first_row_of_a(model, p):
    with scopes_disabled():
        if issubclass(model, User):
            return p.tech_a.user
        if issubclass(model, Company):
            return p.company_a
        field = company_field(model)
        if field is None:
            return None
        return model._default_manager.filter(**{field: p.company_a.pk}).order_by("pk").first()


def relation_fields(form_class):
    for name, field in form_class.base_fields.items():
        if isinstance(field, forms.ModelChoiceField):
            yield name, field


def test_no_admin_form_field_accepts_another_companys_user_or_object(personas):
    """Every registered ModelAdmin and inline, every relation field, as company A's owner."""
    p = personas
    worlds(p)
    request = staff_request(p.owner_a)
    failures: list[str] = []
    exercised: set[str] = set()
    checked_fields = 0
    with scope(company=p.company_a.pk):
        for model, model_admin in admin.site._registry.items():
            label = model._meta.label
            obj = first_row_of_a(model, p)
            forms_to_check = [(label, model_admin.get_form(request, None, change=False))]
            if obj is not None:
                forms_to_check.append((f"{label}#change",
                                       model_admin.get_form(request, obj, change=False)))
            for inline_class in model_admin.inlines:
                inline = inline_class(model, admin.site)
                forms_to_check.append((f"{label}>{inline_class.__name__}",
                                       inline.get_formset(request, obj).form))
            for where, form_class in forms_to_check:
                for name, field in relation_fields(form_class):
                    checked_fields += 1
                    target = field.queryset.model
                    foreign = foreign_rows(target, p)
                    if not foreign:
                        failures.append(f"{where}.{name}: company B has no {target._meta.label} "
                                        "to try; add one to tests/support/admin_world.py")
                        continue
                    exercised.add(target._meta.label)
                    for row in foreign:
                        key = getattr(row, field.to_field_name or "pk")
                        value = [key] if isinstance(field, forms.ModelMultipleChoiceField) \
                            else key
                        try:
                            field.clean(value)
                        except ValidationError:
                            continue
                        failures.append(f"{where}.{name} accepts {target._meta.label} "
                                        f"{row.pk} of company B")
    assert not failures, "\n".join(failures)
    # The walk saw the fields that matter: users (assignees, authors, actors, absences,
    # calendars, memberships' inline) and tenant objects.
    assert {"accounts.User", "clients.Client", "tickets.Ticket"} <= exercised, exercised
    assert checked_fields > 30


def test_admin_permission_table_covers_every_registered_admin():
    labels = {model._meta.label for model in admin.site._registry}
    assert labels == set(ADMIN_PERMISSIONS), (
        f"missing: {sorted(labels - set(ADMIN_PERMISSIONS))}, "
        f"stale: {sorted(set(ADMIN_PERMISSIONS) - labels)}")
    for perms in ADMIN_PERMISSIONS.values():
        assert all(perm is None or perm in MATRIX for perm in perms)


def _allowed(role, permission):
    return permission is not None and role in MATRIX[permission]


@pytest.mark.parametrize("role", ROLES)
def test_no_role_of_a_company_opens_any_admin_page(personas, role):
    """The admin is for operators: every list, add and change page (with a row of every
    model to open) sends a company's staff, whatever their role, to the operators' sign-in.
    The matrix names above stay the admin's second wall (the form test above)."""
    p = personas
    worlds(p)
    http = login_staff(persona(p, role).user)
    failures = []
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls = [base, f"{base}add/", f"{base}?q=INTERNAL"]
        obj = first_row_of_a(model, p)
        if obj is not None:
            urls.append(f"{base}{obj.pk}/change/")
        for url in urls:
            response = http.get(url)
            if response.status_code != 302 or not response["Location"].startswith(
                    "/admin/login/"):
                failures.append(f"{url}: {role} got {response.status_code}")
    assert not failures, "\n".join(failures)


def login_staff(user):
    http = HttpClient()
    http.force_login(user)
    return http
