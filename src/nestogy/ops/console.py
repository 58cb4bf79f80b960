"""The operators' console (``/admin/platform/``, superusers only): every company with its
usage, switching a company off or on, and the health of the task queue and the outbox.

- **Companies**: staff members (active), clients, tickets, invoices and stored files
  (ticket attachments and the logo, in bytes); one aggregate query per measure, whatever
  the number of companies.
- **Switching a company off** (:func:`set_company_active`) stops its staff's sign-in to the
  workspace and the admin, its API tokens, its portal invitations and its daily jobs;
  nothing is deleted, and switching it on again restores everything. Audited
  ``company.deactivated`` / ``company.reactivated`` in that company's log.
- **Task queue** per queue: ready, running, failed in the last 24 hours, and the age of
  the oldest ready task (a number that grows means no worker takes that queue).
- **Outbox**: deliveries queued and due, the oldest due one's age, failed in the last 24
  hours, per channel.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import transaction
from django.db.models import Count, Min, Q, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_scopes import scopes_disabled

from nestogy.accounts.models import Membership
from nestogy.audit.actions import log_action
from nestogy.billing.models import Invoice
from nestogy.clients.models import Client
from nestogy.notifications.models import Delivery
from nestogy.tenancy.models import Company, CompanyLogo
from nestogy.tickets.models import Ticket, TicketAttachment

HERE = "/admin/platform/"


def set_company_active(company: Company, active: bool, *, actor=None) -> Company:
    """Switch a company off or on (see module); a no-op when it already is."""
    if company.is_active == active:
        return company
    with transaction.atomic():
        Company.objects.filter(pk=company.pk).update(is_active=active)
        company.is_active = active
        log_action(company, "company.reactivated" if active else "company.deactivated",
                   actor=actor, company=company, data={"slug": company.slug})
    return company


def _per_company(queryset, **aggregate) -> dict[int, dict]:
    rows = queryset.values("company_id").annotate(**aggregate).order_by()
    return {r.pop("company_id"): r for r in rows}


def company_usage() -> list[dict]:
    """Every company with its usage (see module)."""
    with scopes_disabled():
        companies = list(Company.objects.order_by("name"))
        staff = _per_company(Membership.objects.filter(is_active=True), n=Count("id"))
        clients = _per_company(Client.objects.all(), n=Count("id"))
        tickets = _per_company(Ticket.objects.all(), n=Count("id"),
                               open=Count("id", filter=Q(resolved_at__isnull=True)))
        invoices = _per_company(Invoice.objects.all(), n=Count("id"))
        files = _per_company(TicketAttachment.objects.all(), b=Sum("size"))
        logos = dict(CompanyLogo.objects.values_list("company_id", "width"))
    out = []
    for c in companies:
        out.append({
            "company": c, "staff": staff.get(c.pk, {}).get("n", 0),
            "clients": clients.get(c.pk, {}).get("n", 0),
            "tickets": tickets.get(c.pk, {}).get("n", 0),
            "open_tickets": tickets.get(c.pk, {}).get("open", 0),
            "invoices": invoices.get(c.pk, {}).get("n", 0),
            "storage": (files.get(c.pk, {}).get("b") or 0),
            "has_logo": c.pk in logos,
        })
    return out


def queue_health(now=None) -> list[dict]:
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    day = now - timedelta(days=1)
    rows = (DBTaskResult.objects.values("queue_name").annotate(
        ready=Count("id", filter=Q(status="READY")),
        running=Count("id", filter=Q(status="RUNNING")),
        failed=Count("id", filter=Q(status="FAILED", finished_at__gte=day)),
        oldest=Min("enqueued_at", filter=Q(status="READY"))).order_by("queue_name"))
    return [dict(r, oldest_age=(now - r["oldest"]) if r["oldest"] else None) for r in rows]


def outbox_backlog(now=None) -> list[dict]:
    now = now or timezone.now()
    day = now - timedelta(days=1)
    with scopes_disabled():
        rows = (Delivery.objects.values("channel").annotate(
            queued=Count("id", filter=Q(status=Delivery.Status.QUEUED)),
            due=Count("id", filter=Q(status=Delivery.Status.QUEUED, next_attempt_at__lte=now)),
            oldest=Min("next_attempt_at", filter=Q(status=Delivery.Status.QUEUED,
                                                   next_attempt_at__lte=now)),
            failed=Count("id", filter=Q(status=Delivery.Status.FAILED, updated_at__gte=day)))
            .order_by("channel"))
        return [dict(r, oldest_age=(now - r["oldest"]) if r["oldest"] else None)
                for r in rows]


@staff_member_required
@require_http_methods(["GET", "POST"])
def platform_view(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        return HttpResponseForbidden("The platform page is for the operators (superusers).")
    if request.method == "POST":
        with scopes_disabled():
            company = Company.objects.filter(public_id=request.POST.get("company", "")).first()
        if company is None:
            messages.error(request, "No such company.")
        else:
            active = request.POST.get("action") == "activate"
            set_company_active(company, active, actor=request.user)
            messages.success(request, f"{company.name} is switched "
                                      f"{'on' if active else 'off'}.")
        return redirect(HERE)
    context = {**admin.site.each_context(request), "title": "Platform",
               "companies": company_usage(), "queues": queue_health(),
               "outbox": outbox_backlog()}
    response = TemplateResponse(request, "admin/platform.html", context)
    response["Cache-Control"] = "no-store"
    return response
