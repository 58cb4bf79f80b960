"""Portal pages for client contacts: sign in, password links, dashboard.

Views are thin: they read through the domain apps' queries and change things only through
their actions. Every page other than sign-in and the password links is wrapped in
:func:`nestogy.portal.auth.contact_required`.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_scopes import scope, scopes_disabled

from nestogy.clients.actions import request_password_reset_for_email, set_contact_password
from nestogy.clients.queries import portal_contacts
from nestogy.clients.tokens import contact_tokens
from nestogy.core.errors import ValidationError
from nestogy.portal import auth
from nestogy.portal.dashboard import dashboard_sections


class LoginForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email",
                                                            "autofocus": True}))
    password = forms.CharField(label="Password", strip=False, max_length=128,
                               widget=forms.PasswordInput(
                                   attrs={"autocomplete": "current-password"}))


class ResetForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class SetPasswordForm(forms.Form):
    password = forms.CharField(label="New password", strip=False, min_length=10, max_length=128,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text="At least 10 characters.")
    confirm = forms.CharField(label="Repeat the new password", strip=False, max_length=128,
                              widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("confirm"):
            self.add_error("confirm", "The two passwords differ.")
        return data


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/portal/"
    if target.startswith("/portal/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/portal/"


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if auth.current_contact(request) is not None:
        return redirect("/portal/")
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email, ip = form.cleaned_data["email"], auth.client_ip(request)
        if auth.is_throttled(email, ip):
            form.add_error(None, "Too many failed attempts. Wait 15 minutes, or reset your "
                                 "password.")
            status = 429
        else:
            contact = auth.authenticate(request, email, form.cleaned_data["password"])
            if contact is not None:
                auth.login(request, contact)
                return redirect(_safe_next(request))
            if auth.is_throttled(email, ip):
                form.add_error(None, "Too many failed attempts. Wait 15 minutes, or reset "
                                     "your password.")
                status = 429
            else:
                form.add_error(None, "Email or password is wrong.")
                status = 401
    return render(request, "portal/login.html",
                  {"form": form, "next": _safe_next(request)}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return redirect("/portal/login/")


@require_http_methods(["GET", "POST"])
def password_reset_view(request: HttpRequest) -> HttpResponse:
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email, ip = form.cleaned_data["email"], auth.client_ip(request)
        if auth.reset_throttled(email, ip):
            form.add_error(None, "Too many reset requests. Wait an hour and try again.")
            return render(request, "portal/password_reset.html", {"form": form}, status=429)
        # The same work and the same answer whether or not the email is known: the lookup
        # and the mail happen in a background task.
        auth.count_reset_request(email, ip)
        request_password_reset_for_email(email)
        return render(request, "portal/password_reset_sent.html", {"email": email})
    return render(request, "portal/password_reset.html", {"form": form})


@require_http_methods(["GET", "POST"])
def set_password_view(request: HttpRequest, contact_id: str, token: str) -> HttpResponse:
    with scopes_disabled():
        contact = portal_contacts().filter(public_id=contact_id).first()
    if contact is None or not contact_tokens.check_token(contact, token):
        return render(request, "portal/link_invalid.html", status=400)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with scope(company=contact.company_id):
            try:
                set_contact_password(contact, form.cleaned_data["password"])
            except ValidationError as exc:
                form.add_error("password", exc.message)
            else:
                auth.login(request, contact)
                messages.success(request, "Your password is set. Welcome!")
                return redirect("/portal/")
    return render(request, "portal/set_password.html", {"form": form, "target": contact})


@auth.contact_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/dashboard.html",
                  {"sections": dashboard_sections(request.contact)})


def not_found(request: HttpRequest) -> HttpResponse:
    raise Http404


@auth.contact_required
@require_http_methods(["GET", "HEAD"])
def logo_view(request: HttpRequest) -> HttpResponse:
    """The signed-in contact's company logo (the stored, cleaned image); 404 without one."""
    from nestogy.tenancy.queries import company_logo

    logo = company_logo(request.contact.company_id)
    if logo is None:
        raise Http404("no logo")
    response = HttpResponse(bytes(logo.content), content_type=logo.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["ETag"] = f'"{logo.sha256}"'
    return response
