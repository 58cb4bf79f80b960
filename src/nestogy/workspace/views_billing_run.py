"""The billing run review (``/app/billing/run/``): pick a date, see what the recurring run
would bill per client, drill into a contract's lines, then issue everything or a selection.

- **Preview** (``invoices.view``): ``billing.runs.preview``, the numbers of
  ``generate_recurring_invoices --preview``: per client each contract's periods, subtotal,
  tax, total and the change against the contract's previous period; the run's totals per
  currency. 50 clients per page.
- **Contract** (``invoices.view``): one contract's invoices of that run, line by line
  (fixed items with proration, usage priced through its tiers, tax).
- **Start** (``invoices.manage``): records a run and queues it for the billing worker
  (``billing.runs.start_run``), issued or as drafts, for every contract or the selected ones;
  then the run's page shows its progress (refreshed by htmx every second while it runs)
  and its summary with the invoices it made. A run that failed or stopped can be started
  again: what it billed is not billed twice.

Another company's run or contract is not found (404); a contract of another company in a
selection is refused naming the field, and nothing is written.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from nestogy.billing import recurring, runs
from nestogy.billing.models import BillingRun, Invoice
from nestogy.contracts.models import Contract
from nestogy.core.errors import NotFound, ValidationError
from nestogy.tenancy.queries import company_today
from nestogy.workspace import auth

CLIENTS_PER_PAGE = 50
RUN_INVOICES_SHOWN = 100


class RunDateForm(forms.Form):
    date = forms.DateField(label="Run date", required=False,
                           error_messages={"invalid": "Enter a date as YYYY-MM-DD."})


class StartForm(forms.Form):
    date = forms.DateField(label="Run date",
                           error_messages={"required": "Enter the run's date.",
                                           "invalid": "Enter a date as YYYY-MM-DD."})
    mode = forms.ChoiceField(label="Invoices", choices=[("issue", "Issue them"),
                                                         ("draft", "Create drafts")])
    scope = forms.ChoiceField(label="Contracts", choices=[("all", "Every due contract"),
                                                           ("selected", "Selected contracts")])
    contract = forms.MultipleChoiceField(label="Contracts", required=False, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # any value: the action checks each against the company's contracts
        self.fields["contract"].valid_value = lambda value: bool(value) and len(value) <= 40


def _next_first(today: date) -> date:
    return (today.replace(day=1) + timedelta(days=32)).replace(day=1)


def _run(run_id: str) -> BillingRun:
    try:
        return runs.get_run(run_id)
    except NotFound:
        raise Http404("billing run not found") from None


@auth.staff_view("invoices.view")
@require_GET
def run_view(request: HttpRequest) -> HttpResponse:
    today = company_today(request.company)
    form = RunDateForm(request.GET or None)
    as_of = today
    preview = None
    if form.is_bound and form.is_valid() and form.cleaned_data["date"]:
        as_of = form.cleaned_data["date"]
    if not form.is_bound or form.is_valid():
        try:
            preview = runs.preview(request.company, as_of)
        except ValidationError as exc:
            form.add_error("date", f"The run date {exc.message}.")
    page = None
    if preview is not None:
        page = Paginator(preview.clients, CLIENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "workspace/billing_run.html", {
        "form": form, "as_of": as_of, "today": today,
        "date_value": request.GET.get("date") or as_of.isoformat(),
        "next_first": _next_first(today),
        "preview": preview, "page": page, "recent": runs.recent_runs(),
        "can_start": auth.can(request, "invoices.manage"),
        "issue_default": bool(request.company.get_setting(
            "billing.issue_recurring_immediately")),
        "query": f"date={as_of.isoformat()}"})


@auth.staff_view("invoices.view")
@require_GET
def contract_view(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = Contract.objects.select_related("client").filter(public_id=contract_id).first()
    if contract is None:
        raise Http404("contract not found")
    today = company_today(request.company)
    form = RunDateForm(request.GET or None)
    as_of = today
    planned, error = [], ""
    if form.is_bound and form.is_valid() and form.cleaned_data["date"]:
        as_of = form.cleaned_data["date"]
    if not form.is_bound or form.is_valid():
        try:
            planned = recurring.run_recurring(request.company, as_of, preview=True,
                                              contract_ids=[contract.pk]).invoices
        except ValidationError as exc:
            error = f"The run date {exc.message}."
    before = runs.previous_totals([contract.pk]).get(contract.pk)
    return render(request, "workspace/billing_run_contract.html", {
        "contract": contract, "as_of": as_of, "form": form, "error": error,
        "planned": planned, "previous_total": before,
        "items": list(contract.items.order_by("position", "id"))})


@auth.staff_view("invoices.manage")
@require_POST
def start_view(request: HttpRequest) -> HttpResponse:
    form = StartForm(request.POST)
    back = "/app/billing/run/"
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else "Run"
            messages.error(request, f"{label}: {' '.join(errors)}")
        typed = (request.POST.get("date") or "")[:40]
        return redirect(back + (f"?{urlencode({'date': typed})}" if typed else ""))
    data = form.cleaned_data
    back += f"?date={data['date'].isoformat()}"
    selected = data["contract"] if data["scope"] == "selected" else None
    try:
        run = runs.start_run(request.company, data["date"], issue=data["mode"] == "issue",
                             contracts=selected, actor=request.user)
    except ValidationError as exc:
        label = {"as_of": "Run date", "contracts": "Contracts"}.get(exc.field, exc.field)
        messages.error(request, f"{label}: {exc.message}.")
        return redirect(back)
    messages.success(request, f"The billing run as of {run.as_of:%-d %B %Y} has started.")
    return redirect(f"/app/billing/runs/{run.public_id}/")


def _status_context(run: BillingRun) -> dict:
    invoices = list(Invoice.objects.filter(pk__in=run.invoice_ids[:RUN_INVOICES_SHOWN])
                    .select_related("client").order_by("client__name", "period_start"))
    return {"run": run, "stale": runs.is_stale(run), "invoices": invoices,
            "more": max(0, len(run.invoice_ids) - RUN_INVOICES_SHOWN),
            "totals": sorted((run.totals or {}).items())}


@auth.staff_view("invoices.view")
@require_GET
def run_status_view(request: HttpRequest, run_id: str) -> HttpResponse:
    run = _run(run_id)
    context = _status_context(run)
    context["can_start"] = auth.can(request, "invoices.manage")
    if request.headers.get("HX-Request"):
        return render(request, "workspace/_billing_run_status.html", context)
    return render(request, "workspace/billing_run_status.html", context)


@auth.staff_view("invoices.manage")
@require_POST
def restart_view(request: HttpRequest, run_id: str) -> HttpResponse:
    run = _run(run_id)
    try:
        runs.restart_run(run, actor=request.user)
    except ValidationError as exc:
        messages.error(request, f"Run: {exc.message}.")
    else:
        messages.success(request, "The run has started again; what it billed already is "
                                  "not billed twice.")
    return redirect(f"/app/billing/runs/{run.public_id}/")
