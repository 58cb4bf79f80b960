"""The company's own settings and its audit log, in the workspace.

- **Company settings** (``/app/settings/company/``, ``company.settings``): every declared
  company setting (``tenancy.company_settings.REGISTRY``: branding, security, billing,
  payments and the card gateway, notifications, routing, time, portal), grouped by area,
  each with its help and default and an input of its kind. Secrets (gateway keys, webhook
  secrets) are write-only: the page says only whether one is set and its last four
  characters; an empty box keeps it, *Remove* clears it. Saving sends only what changed
  through ``accounts.actions.change_company_settings`` (validated, audited, secrets sealed);
  a refused value is named on its field and nothing is saved. The logo is uploaded here
  (PNG, JPEG, GIF or WebP, checked and re-encoded) or removed.
- **Test the channels** (``POST /app/settings/company/test/slack`` and ``…/test/sms``,
  ``company.settings``): the company's latest notification that company channels may receive
  is queued to every company Slack URL, or as an SMS to the asking user's own number through
  the company gateway (``notifications.company_channels``); a refusal (nothing set, no event
  yet, no number) is shown as a message and nothing is written. No URL is ever shown.
- **Audit log** (``/app/settings/audit/``, ``audit.view``): every recorded change of the
  company, newest first, filtered by action, person, object id and dates; 50 per page and a
  CSV download of what the filters select (at most 10,000 rows).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from nestogy.accounts import actions as account_actions
from nestogy.audit.models import AuditEntry
from nestogy.core.errors import Conflict, NestogyError, ValidationError
from nestogy.notifications import company_channels
from nestogy.tenancy import company_settings
from nestogy.tenancy.queries import company_logo
from nestogy.workspace import auth

HERE = "/app/settings/company/"
AREAS = {"branding": "Branding", "security": "Security", "billing": "Billing",
         "payments": "Payments and the card gateway", "notifications": "Notifications",
         "routing": "Routing", "time": "Time tracking", "portal": "Client portal"}
MAX_LOGO_BYTES = 2 * 1024 * 1024
AUDIT_PAGE = 50
AUDIT_EXPORT_LIMIT = 10_000


def _label(key: str) -> str:
    return key.split(".", 1)[1].replace("_", " ").capitalize()


def _shown(value) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, sort_keys=True)
    return "" if value is None else str(value)


def _fields(company, posted=None, errors=None) -> list[dict]:
    """The settings as the form shows them, grouped by area (in AREAS order)."""
    stored = company.settings or {}
    groups: dict[str, list] = {}
    for key, d in sorted(company_settings.REGISTRY.items()):
        area = key.split(".", 1)[0]
        field = {"key": key, "name": key.replace(".", "__"), "label": _label(key),
                 "help": d.help, "secret": d.secret, "choices": d.choices,
                 "kind": "secret" if d.secret else (
                     "bool" if d.kind is bool else "number" if d.kind in (int, float)
                     else "json" if d.kind in (dict, list) else "choice" if d.choices
                     else "text"),
                 "default": _shown(d.default), "changed": key in stored,
                 "error": (errors or {}).get(key, "")}
        if d.secret:
            field["state"] = company.secret_state(key)
        else:
            value = company.get_setting(key)
            field["value"] = posted.get(field["name"], _shown(value)) if posted else \
                _shown(value)
            field["checked"] = (posted.get(field["name"]) == "on") if posted else bool(value)
        groups.setdefault(area, []).append(field)
    order = list(AREAS) + sorted(set(groups) - set(AREAS))
    return [{"area": a, "title": AREAS.get(a, a.capitalize()), "fields": groups[a]}
            for a in order if a in groups]


def _changes(company, post) -> tuple[dict, dict]:
    """What the form changes: ``{key: value}`` and ``{key: error}`` for values that cannot
    even be read (the action checks the rest)."""
    values, errors = {}, {}
    for key, d in company_settings.REGISTRY.items():
        name = key.replace(".", "__")
        if d.secret:
            if post.get(f"{name}__clear") == "on":
                values[key] = None
            elif post.get(name, "").strip():
                values[key] = post[name].strip()
            continue
        if f"{name}__present" not in post:
            continue  # not on the form that was sent
        current = company.get_setting(key)
        raw = post.get(name, "")
        if d.kind is bool:
            value = raw == "on"
        elif d.kind in (int, float):
            try:
                value = d.kind(raw.strip()) if raw.strip() else None
            except ValueError:
                errors[key] = "Enter a number."
                continue
        elif d.kind in (dict, list):
            try:
                value = json.loads(raw) if raw.strip() else None
            except json.JSONDecodeError as exc:
                errors[key] = f"Not valid JSON (line {exc.lineno}, column {exc.colno})."
                continue
        else:
            value = raw.strip()
        if value is None:
            if key in (company.settings or {}):
                values[key] = None  # back to the default
        elif value != current:
            values[key] = value
    return values, errors


@auth.staff_view("company.settings")
@require_http_methods(["GET", "POST"])
def company_view(request: HttpRequest) -> HttpResponse:
    company = request.company
    if request.method == "POST":
        values, errors = _changes(company, request.POST)
        if not errors and values:
            try:
                account_actions.change_company_settings(company, values, actor=request.user)
            except ValidationError as exc:
                for error in exc.errors:
                    key = (error.field or "").removeprefix("settings.")
                    errors[key if key in company_settings.REGISTRY else "_"] = \
                        f"{error.message[:1].upper()}{error.message[1:]}."
            else:
                changed = ", ".join(_label(k).lower() for k in sorted(values))
                messages.success(request, f"Saved: {changed}.")
                return redirect(HERE)
        elif not errors:
            messages.info(request, "Nothing changed.")
            return redirect(HERE)
        company.refresh_from_db()
        return render(request, "workspace/settings_company.html", {
            "groups": _fields(company, request.POST, errors), "errors": errors,
            "general_error": errors.get("_", ""), "logo": company_logo(company.pk),
            "channels": company_channels.status(company, request.user)}, status=400)
    return render(request, "workspace/settings_company.html", {
        "groups": _fields(company), "errors": {}, "logo": company_logo(company.pk),
        "channels": company_channels.status(company, request.user)})


@auth.staff_view("company.settings")
@require_POST
def test_slack_view(request: HttpRequest) -> HttpResponse:
    try:
        queued = company_channels.send_test_slack(request.company, actor=request.user)
    except Conflict as exc:
        messages.error(request, f"No test sent: {exc}.")
    else:
        n = len(queued.deliveries)
        messages.success(request, f"A test was queued to Slack ({n} address"
                                  f"{'es' if n != 1 else ''}) with the latest "
                                  f"{queued.event_type} notification; its outcome shows in "
                                  "the delivery log in a moment.")
    return redirect(HERE)


@auth.staff_view("company.settings")
@require_POST
def test_sms_view(request: HttpRequest) -> HttpResponse:
    try:
        queued = company_channels.send_test_sms(request.company, request.user,
                                                actor=request.user)
    except Conflict as exc:
        messages.error(request, f"No test sent: {exc}.")
    else:
        messages.success(request, f"A test SMS was queued to your number ending in "
                                  f"{queued.phone_last4} with the latest {queued.event_type} "
                                  "notification; its outcome shows in the delivery log in a "
                                  "moment.")
    return redirect(HERE)


class LogoForm(forms.Form):
    file = forms.FileField(label="Logo", error_messages={"required": "Choose an image file."})


@auth.staff_view("company.settings")
@require_POST
def logo_upload_view(request: HttpRequest) -> HttpResponse:
    form = LogoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, f"Logo: {' '.join(form.errors['file'])}")
        return redirect(HERE)
    upload = form.cleaned_data["file"]
    if upload.size > MAX_LOGO_BYTES:
        messages.error(request, "Logo: the file is larger than 2 MB.")
        return redirect(HERE)
    try:
        account_actions.upload_company_logo(request.company, upload.read(),
                                            actor=request.user)
    except NestogyError as exc:
        messages.error(request, f"Logo: {getattr(exc, 'message', exc)}.")
    else:
        messages.success(request, "Logo saved. Client mail, invoices and the portal use it.")
    return redirect(HERE)


@auth.staff_view("company.settings")
@require_POST
def logo_remove_view(request: HttpRequest) -> HttpResponse:
    if account_actions.remove_company_logo(request.company, actor=request.user):
        messages.success(request, "Logo removed.")
    else:
        messages.info(request, "There was no logo.")
    return redirect(HERE)


@auth.staff_view("company.settings")
@require_GET
def logo_view(request: HttpRequest) -> HttpResponse:
    logo = company_logo(request.company.pk)
    if logo is None:
        raise Http404("no logo")
    response = HttpResponse(bytes(logo.content), content_type=logo.content_type)
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# -- the audit log ---------------------------------------------------------------------------

class AuditFilter(forms.Form):
    action = forms.CharField(label="Action", max_length=80, required=False,
                             help_text="e.g. invoice. or ticket.assigned")
    person = forms.CharField(label="Person", max_length=200, required=False)
    object = forms.CharField(label="Object id", max_length=40, required=False)
    since = forms.DateField(label="From", required=False,
                            error_messages={"invalid": "Enter a date as YYYY-MM-DD."})
    until = forms.DateField(label="To", required=False,
                            error_messages={"invalid": "Enter a date as YYYY-MM-DD."})

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", "Must be on or after the start date.")
        return data


def _entries(request: HttpRequest, form: AuditFilter):
    qs = AuditEntry.objects.select_related("actor").order_by("-created_at", "-id")
    if not (form.is_bound and form.is_valid()):
        return qs
    data = form.cleaned_data
    zone = ZoneInfo(request.company.timezone or "UTC")
    if data["action"]:
        qs = qs.filter(action__startswith=data["action"].strip())
    if data["person"]:
        person = data["person"].strip()
        qs = qs.filter(actor__email__icontains=person) | qs.filter(
            actor_label__icontains=person)
    if data["object"]:
        qs = qs.filter(object_id=data["object"].strip())
    if data["since"]:
        qs = qs.filter(created_at__gte=datetime.combine(data["since"], time(), zone))
    if data["until"]:
        qs = qs.filter(created_at__lt=datetime.combine(data["until"] + timedelta(days=1),
                                                       time(), zone))
    return qs


@auth.staff_view("audit.view")
@require_GET
def audit_view(request: HttpRequest) -> HttpResponse:
    params = {k: v for k, v in request.GET.items() if k not in ("page", "export")}
    form = AuditFilter(params or None)
    entries = _entries(request, form)
    if request.GET.get("export") == "csv" and (not form.is_bound or form.is_valid()):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["time (UTC)", "action", "by", "object type", "object id", "object",
                         "data"])
        for e in entries[:AUDIT_EXPORT_LIMIT]:
            row = [e.created_at.isoformat(), e.action,
                   e.actor.email if e.actor else (e.actor_label or "system"),
                   e.object_type, e.object_id, e.object_repr,
                   json.dumps(e.data, sort_keys=True)]
            writer.writerow([f"'{v}" if v[:1] in ("=", "+", "-", "@") else v for v in row])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, "audit-log.csv")
        return response
    page = Paginator(entries, AUDIT_PAGE).get_page(request.GET.get("page"))
    query = urlencode(params)
    return render(request, "workspace/settings_audit.html", {
        "form": form, "page": page, "entries": page.object_list, "query": query,
    }, status=400 if form.is_bound and form.errors else 200)
