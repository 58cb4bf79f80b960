"""Staff sign-in beyond the password: reset by e-mail, the code step, the account page.

- ``/app/password-reset/``: asks for a link; the answer is the same whether or not the
  address has an account (the lookup and the mail happen in a background task, through the
  notification outbox), and requests are throttled like the portal's (three per e-mail, ten
  per address an hour).
- ``/app/password-reset/<user>/<token>/``: the one-time link (``accounts.tokens``) sets a new
  password checked by Django's validators, then sends the user to sign in (with their code,
  if they use one).
- ``/app/login/code/``: the second step of a sign-in for accounts with an authenticator app.
- ``/app/account/``: every signed-in staff member's own password and second factor.

The work is done by :mod:`nestogy.accounts.security`; these views draw the forms.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import django_otp
import segno
from django import forms
from django.contrib import auth as django_auth
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from nestogy.accounts import security
from nestogy.accounts.models import User
from nestogy.accounts.tokens import LINK_LIFETIME, staff_tokens
from nestogy.core import throttle
from nestogy.core.errors import ValidationError
from nestogy.workspace import auth

RESET_LIMIT = throttle.Limit("workspace.reset", per_key=3, per_ip=10, window=timedelta(hours=1))
ACCOUNT_LIMIT = throttle.Limit("workspace.account", per_key=5, per_ip=20,
                               window=timedelta(minutes=15))
ACCOUNT_LOCKED = (f"Too many wrong passwords or codes. Wait {ACCOUNT_LIMIT.minutes} minutes "
                  "and try again.")


def _password_input(autocomplete: str) -> forms.PasswordInput:
    return forms.PasswordInput(attrs={"autocomplete": autocomplete})


class ResetForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "username",
                                                            "autofocus": True}))


class NewPasswordForm(forms.Form):
    password = forms.CharField(label="New password", strip=False, max_length=128,
                               widget=_password_input("new-password"),
                               help_text="At least 8 characters, not a common password.")
    confirm = forms.CharField(label="Repeat the new password", strip=False, max_length=128,
                              widget=_password_input("new-password"))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("confirm") \
                and data["password"] != data["confirm"]:
            self.add_error("confirm", "The two passwords differ.")
        return data


class ChangePasswordForm(NewPasswordForm):
    current_password = forms.CharField(label="Current password", strip=False, max_length=128,
                                       widget=_password_input("current-password"))
    field_order = ["current_password", "password", "confirm"]


class CodeForm(forms.Form):
    code = forms.CharField(label="Code", max_length=32,
                           help_text="The 6-digit code from your authenticator app, or one "
                                     "of your backup codes.",
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "text",
                                                         "autofocus": True}))


class ConfirmForm(forms.Form):
    code = forms.CharField(label="Code from the app", max_length=12,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric"}))


class DisableForm(forms.Form):
    code = forms.CharField(label="Code from the app or a backup code", max_length=32,
                           required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}))
    password = forms.CharField(label="Or your password", strip=False, max_length=128,
                               required=False, widget=_password_input("current-password"))


def _apply_error(form: forms.Form, exc: ValidationError) -> None:
    for error in exc.errors:
        form.add_error(error.field if error.field in form.fields else None, error.message)


# -- password reset -------------------------------------------------------------------------


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def password_reset_view(request: HttpRequest) -> HttpResponse:
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email, ip = form.cleaned_data["email"], throttle.client_ip(request)
        if throttle.is_throttled(RESET_LIMIT, email, ip):
            form.add_error(None, f"Too many reset requests. Wait {RESET_LIMIT.minutes} "
                                 "minutes and try again.")
            return render(request, "workspace/password_reset.html", {"form": form},
                          status=429)
        # Counted whether or not the address is known, and the lookup happens in the
        # background: the answer is the same either way.
        throttle.hit(RESET_LIMIT, email, ip)
        security.request_password_reset_for_email(email)
        return render(request, "workspace/password_reset_sent.html",
                      {"email": email, "minutes": int(LINK_LIFETIME.total_seconds() // 60)})
    status = 400 if request.method == "POST" else 200
    return render(request, "workspace/password_reset.html", {"form": form}, status=status)


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def set_password_view(request: HttpRequest, user_id: str, token: str) -> HttpResponse:
    user = User.objects.filter(public_id=user_id, is_active=True).first()
    if user is None or not staff_tokens.check_token(user, token) \
            or security.reset_candidate(user.email) is None:
        return render(request, "workspace/link_invalid.html", status=400)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            security.set_password(user, form.cleaned_data["password"], actor=user)
        except ValidationError as exc:
            _apply_error(form, exc)
        else:
            if request.user.is_authenticated:
                django_auth.logout(request)
            messages.success(request, "Your password is changed. Sign in with it.")
            return redirect("/app/login/")
    status = 400 if request.method == "POST" else 200
    return render(request, "workspace/set_password.html", {"form": form, "target": user},
                  status=status)


# -- the code step of a sign-in ---------------------------------------------------------------


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def code_view(request: HttpRequest) -> HttpResponse:
    user = auth.pending_user(request)
    if user is None:
        messages.error(request, "Sign in again: the sign-in was not finished in time.")
        return redirect(f"/app/login/?next={quote(auth.safe_next(request))}")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        ok, error = auth.verify_code(request, user, form.cleaned_data["code"])
        if ok:
            return redirect(auth.safe_next(request))
        locked = error.startswith("Too many")
        form.add_error(None if locked else "code", error)
        status = 429 if locked else 400
    elif request.method == "POST":
        status = 400
    return render(request, "workspace/login_code.html",
                  {"form": form, "next": auth.safe_next(request)}, status=status)


# -- the account page -------------------------------------------------------------------------


def _requiring_company(request: HttpRequest) -> str:
    company = request.company
    return company.name if security.company_requires_two_factor(company) else ""


def _account(request: HttpRequest, *, password_form=None, disable_form=None,
             status: int = 200) -> HttpResponse:
    user = request.user
    return render(request, "workspace/account.html", {
        "password_form": password_form or ChangePasswordForm(),
        "disable_form": disable_form or DisableForm(),
        "two_factor": security.has_two_factor(user),
        "backup_left": security.backup_codes_left(user),
        "required_by": _requiring_company(request),
    }, status=status)


def _account_throttled(request: HttpRequest) -> bool:
    return throttle.is_throttled(ACCOUNT_LIMIT, request.user.email, throttle.client_ip(request))


def _account_miss(request: HttpRequest) -> None:
    throttle.hit(ACCOUNT_LIMIT, request.user.email, throttle.client_ip(request))


def _guarded(request: HttpRequest, form, slot: str, act) -> HttpResponse | None:
    """Run ``act(cleaned_data)`` for an account form that asks for a password or a code:
    refused while the account is locked out (429), on invalid input (400), and when the
    action says the password or code is wrong (400, and the miss counts towards the lock).
    ``None`` when it went through; otherwise the account page with ``form`` in ``slot``."""
    if _account_throttled(request):
        form.is_valid()
        form.add_error(None, ACCOUNT_LOCKED)
        return _account(request, **{slot: form}, status=429)
    if not form.is_valid():
        return _account(request, **{slot: form}, status=400)
    try:
        act(form.cleaned_data)
    except ValidationError as exc:
        if exc.errors[0].code == security.WRONG:
            _account_miss(request)
        _apply_error(form, exc)
        return _account(request, **{slot: form}, status=400)
    return None


@auth.staff_view("account.own", enrolment=True)
@require_http_methods(["GET"])
def account_view(request: HttpRequest) -> HttpResponse:
    return _account(request)


@sensitive_post_parameters()
@auth.staff_view("account.own", enrolment=True)
@require_POST
def password_change_view(request: HttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.POST)
    refused = _guarded(request, form, "password_form", lambda data: security.change_password(
        request.user, data["current_password"], data["password"]))
    if refused:
        return refused
    # This session stays signed in; every other session of the account ends.
    django_auth.update_session_auth_hash(request, request.user)
    messages.success(request, "Your password is changed. Other sessions were signed out.")
    return redirect("/app/account/")


def _qr_data_uri(device) -> str:
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=4,
                                                                 dark="#111827")


@auth.staff_view("account.own", enrolment=True)
@require_http_methods(["GET", "POST"])
def enrol_view(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: QR code and secret, then one code to confirm."""
    user = request.user
    if security.has_two_factor(user):
        messages.info(request, "Two-factor sign-in is already on.")
        return redirect("/app/account/")
    device = security.start_totp_enrolment(user)
    form = ConfirmForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if _account_throttled(request):
            form.is_valid()
            form.add_error(None, ACCOUNT_LOCKED)
            status = 429
        elif form.is_valid():
            try:
                codes = security.confirm_totp(user, form.cleaned_data["code"])
            except ValidationError as exc:
                _account_miss(request)
                _apply_error(form, exc)
                status = 400
            else:
                django_otp.login(request, security.totp_device(user))
                return render(request, "workspace/backup_codes.html",
                              {"codes": codes, "enrolled": True,
                               "next": auth.safe_next(request)})
        else:
            status = 400
    return render(request, "workspace/two_factor_enrol.html", {
        "form": form, "qr": _qr_data_uri(device), "secret": security.totp_secret(device),
        "required_by": _requiring_company(request), "next": auth.safe_next(request),
    }, status=status)


@auth.staff_view("account.own", enrolment=True)
@require_POST
def backup_codes_view(request: HttpRequest) -> HttpResponse:
    try:
        codes = security.new_backup_codes(request.user)
    except ValidationError as exc:
        messages.error(request, exc.errors[0].message)
        return redirect("/app/account/")
    return render(request, "workspace/backup_codes.html",
                  {"codes": codes, "enrolled": False, "next": "/app/account/"})


@sensitive_post_parameters()
@auth.staff_view("account.own", enrolment=True)
@require_POST
def disable_view(request: HttpRequest) -> HttpResponse:
    form = DisableForm(request.POST)
    refused = _guarded(request, form, "disable_form", lambda data: security.disable_two_factor(
        request.user, code=data["code"], password=data["password"],
        required_by=_requiring_company(request)))
    if refused:
        return refused
    messages.success(request, "Two-factor sign-in is off. Your backup codes no longer work.")
    return redirect("/app/account/")
