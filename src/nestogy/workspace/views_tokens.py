"""Your API tokens (``/app/account/tokens/``): create one (the token is shown once, on the
page the form leads to, and never again: only its SHA-256 is stored), see your tokens
with their first characters, last use and state, and revoke one. The same actions as
``POST /tokens`` and ``DELETE /tokens/{id}`` (``accounts.actions``), audited; a token of
another user or company is not found (404)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from nestogy.accounts import actions as account_actions
from nestogy.accounts.models import ApiToken
from nestogy.workspace import auth


class TokenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100,
                           help_text="What it is for, e.g. “RMM sync” or “Reporting script”",
                           error_messages={"required": "Name the token."})


def _mine(request: HttpRequest):
    return ApiToken.objects.filter(user=request.user).order_by("-created_at", "-id")


# The raw token waits in the session between the form and the page that shows it, and is
# removed when that page is rendered: a reload shows it no more and creates nothing.
SESSION_KEY = "workspace_new_api_token"  # the key of a session entry, not a secret


@auth.staff_view("account.own")
@require_http_methods(["GET", "POST"])
def tokens_view(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            token, raw = account_actions.issue_api_token(
                request.membership, name=form.cleaned_data["name"], actor=request.user)
            request.session[SESSION_KEY] = {"id": token.public_id, "raw": raw}
            return redirect("/app/account/tokens/")
    tokens = list(_mine(request))
    fresh = request.session.pop(SESSION_KEY, None) if request.method == "GET" else None
    created = next((t for t in tokens if fresh and t.public_id == fresh["id"]), None)
    return render(request, "workspace/tokens.html", {
        "form": form, "tokens": tokens, "created": created,
        "raw": fresh["raw"] if created else None, "api_base": "/api/v1",
    }, status=400 if form.is_bound and form.errors else 200)


@auth.staff_view("account.own")
@require_POST
def token_revoke_view(request: HttpRequest, token_id: str) -> HttpResponse:
    token = _mine(request).filter(public_id=token_id).first()
    if token is None:
        raise Http404("token not found")
    account_actions.revoke_api_token(token, actor=request.user)
    messages.success(request, f"{token.name} ({token.prefix}…) is revoked: requests with it "
                              "are refused from now on.")
    return redirect("/app/account/tokens/")
