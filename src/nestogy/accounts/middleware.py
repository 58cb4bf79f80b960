"""Enter the company scope for staff web requests (admin and staff pages).

The API (``/api/``) authenticates bearer tokens and enters its own scope; the client portal
(``/portal/``) does the same for contacts, and the staff workspace (``/app/``) enters the
chosen company's scope itself (``workspace.auth``), superusers included. Anonymous requests
get no scope, so any query on tenant data made on their behalf raises instead of leaking.
"""

from __future__ import annotations

from django.conf import settings
from django_scopes import scope, scopes_disabled

SESSION_COMPANY_KEY = "nestogy_company_id"


class CompanyScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.exempt = tuple(getattr(settings, "NESTOGY_SCOPE_EXEMPT_PREFIXES",
                                    ("/api/", "/portal/", "/app/", "/static/", "/healthz")))

    def __call__(self, request):
        request.company = None
        request.membership = None
        if request.path.startswith(self.exempt):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        membership = self._membership(request, user)
        if user.is_superuser:
            request.membership = membership
            request.company = membership.company if membership else None
            with scopes_disabled():
                return self.get_response(request)
        if membership is None:
            return self.get_response(request)
        request.membership = membership
        request.company = membership.company
        with scope(company=membership.company_id):
            return self.get_response(request)

    @staticmethod
    def _membership(request, user):
        from nestogy.accounts.models import Membership

        memberships = (
            Membership.objects.with_scopes_disabled()
            .select_related("company")
            .filter(user=user, is_active=True, company__is_active=True)
            .order_by("created_at")
        )
        wanted = request.session.get(SESSION_COMPANY_KEY)
        if wanted:
            chosen = memberships.filter(company__public_id=wanted).first()
            if chosen is not None:
                return chosen
        return memberships.first()
