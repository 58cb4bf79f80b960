"""Contract pages of the workspace (``/app/contracts/``).

- **Contracts** (``contracts.view``): search by contract or client name; show active, ending
  soon (an end date within ``ENDING_SOON_DAYS`` days, or within the contract's renewal notice
  days), auto-renewing or ended ones; per contract its cycle, what its fixed items come to per
  month at today's seat counts (quarterly, semi-annual and annual cycles divided into months,
  weekly ones × 52 ÷ 12; metered usage not included), start, end, auto-renew and status.
  50 per page, a bounded number of queries.
- **Contract** (``contracts.view``): the header facts, fixed items with their seat history and
  (``contracts.manage``) a change of the seat count from a date
  (``contracts.actions.set_item_quantity``); metered items with their tiers and the usage of
  the current and the last period (``contracts.queries.usage_totals``), priced through the
  tiers; the invoices billed for it; a link to its billing run drill-in.
- **Usage upload** (``usage.record``): a CSV file of usage (``workspace.usage_csv``), checked
  line by line (dry run: nothing written) or recorded through
  ``contracts.actions.record_usage_bulk``, all or nothing.
- **Renewals** (``contracts.view``): active contracts ending in the next 12 months by month,
  with their notice date and whether the notice went out; for auto-renewing ones the new end
  date and the uplifted prices (``contracts.renewals``).

Another company's contract or item is not found (404); every decision asks the one role
matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from nestogy.billing.models import Invoice
from nestogy.contracts import actions, queries
from nestogy.contracts.models import Contract, ContractItem, quantity_on
from nestogy.contracts.pricing import add_months, period_containing, quote
from nestogy.contracts.renewals import renewed_end, uplifted
from nestogy.core.errors import Conflict, NotFound, ValidationError
from nestogy.core.money import quantize_money
from nestogy.tenancy.queries import company_today
from nestogy.workspace import auth, usage_csv

PAGE_SIZE = 50
ENDING_SOON_DAYS = queries.ENDING_SOON_DAYS
RENEWAL_MONTHS = 12
INVOICES_SHOWN = 50
SHOW_CHOICES = [("", "All contracts"), ("active", "Active"), ("ending", "Ending soon"),
                ("auto", "Auto-renewing"), ("ended", "Ended")]
PERIOD_NOUN = {"weekly": "week", "monthly": "month", "quarterly": "quarter",
               "semiannual": "half-year", "annual": "year"}


class ContractSearch(forms.Form):
    q = forms.CharField(label="Search", max_length=200, required=False)
    show = forms.ChoiceField(label="Show", choices=SHOW_CHOICES, required=False)


def _contract(contract_id: str) -> Contract:
    try:
        return queries.get_contract(contract_id)
    except NotFound:
        raise Http404("contract not found") from None


def _filtered(show: str, today: date):
    qs = queries.contracts()
    if show == "active":
        qs = qs.filter(status=Contract.Status.ACTIVE)
    elif show == "auto":
        qs = qs.filter(status=Contract.Status.ACTIVE, auto_renew=True)
    elif show == "ended":
        qs = qs.filter(Q(status__in=[Contract.Status.ENDED, Contract.Status.CANCELLED])
                       | Q(status=Contract.Status.ACTIVE, auto_renew=False,
                           end_date__lt=today))
    elif show == "ending":
        # notice days differ per contract: read the few candidates' dates, decide here
        candidates = Contract.objects.filter(status=Contract.Status.ACTIVE,
                                             end_date__gte=today).values_list(
            "pk", "status", "end_date", "renewal_notice_days")
        ids = [pk for pk, status, end, notice in candidates
               if queries.ends_soon(Contract(status=status, end_date=end,
                                     renewal_notice_days=notice), today)]
        qs = qs.filter(pk__in=ids)
    return qs


@auth.staff_view("contracts.view")
@require_GET
def contracts_view(request: HttpRequest) -> HttpResponse:
    today = company_today(request.company)
    form = ContractSearch(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = _filtered(filters.get("show") or "", today)
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(client__name__icontains=q))
    page = Paginator(qs.order_by("client__name", "name", "id"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = list(page.object_list)
    history = queries.quantity_history([i.pk for c in rows for i in c.items.all()
                                        if i.kind == ContractItem.Kind.FIXED])
    for contract in rows:
        contract.per_period = quantize_money(queries.fixed_per_period(contract, today, history),
                                             contract.currency)
        contract.per_month = queries.per_month(contract, contract.per_period)
        contract.period_noun = PERIOD_NOUN[contract.billing_cycle]
        contract.ending_soon = queries.ends_soon(contract, today)
        contract.days_left = (contract.end_date - today).days if contract.end_date else None
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "workspace/contracts.html", {
        "form": form, "page": page, "contracts": rows, "query": params.urlencode(),
        "today": today, "ending_days": ENDING_SOON_DAYS,
        "filtered": bool(filters.get("q") or filters.get("show")),
    }, status=400 if form.is_bound and form.errors else 200)


# -- one contract ----------------------------------------------------------------------------

class SeatForm(forms.Form):
    # The number is checked by set_item_quantity (its decimals, not negative, the period
    # amount), so the text goes through as typed; its message lands on this field.
    quantity = forms.CharField(label="Seats", max_length=30,
                               error_messages={"required": "Enter the new seat count."})
    effective_from = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Enter the day the new count applies from.",
                        "invalid": "Enter a date as YYYY-MM-DD."})


class UsageForm(forms.Form):
    file = forms.FileField(label="CSV file", allow_empty_file=True,
                           error_messages={"required": "Choose a CSV file."})
    mode = forms.ChoiceField(choices=[("check", "Check only"), ("record", "Record")],
                             required=False)  # no button: a check


@dataclass
class UsageRow:
    item: ContractItem
    label: str
    period: object
    quantity: Decimal
    amount: Decimal


def _periods(contract: Contract, today: date) -> list[tuple[str, object]]:
    """The current period and the one before it (the last ones of an ended contract)."""
    if today < contract.start_date:
        return []
    terms = contract.terms
    current = period_containing(terms, min(today, contract.end_date or today))
    if current is None:
        return []
    out = [("Current period" if current.start <= today < current.end else "Last period",
            current)]
    before = period_containing(terms, current.start - timedelta(days=1))
    if before is not None:
        out.append(("Previous period", before))
    return out


def _usage(contract: Contract, metered: list[ContractItem], today: date, tz: str
           ) -> list[UsageRow]:
    periods = _periods(contract, today)
    windows = [(item.pk, p.start, p.end) for item in metered for _, p in periods]
    totals = queries.usage_totals(windows, tz)
    rows = []
    for item in metered:
        pricing = item.pricing_obj
        for label, p in periods:
            qty = totals.get((item.pk, p.start)) or Decimal(0)
            rows.append(UsageRow(item, label, p, qty,
                                 quantize_money(quote(pricing, qty), contract.currency)))
    return rows


def _detail_context(request: HttpRequest, contract: Contract, *, seat_item=None,
                    seat_form=None) -> dict:
    today = company_today(request.company)
    items = list(contract.items.all())
    fixed = [i for i in items if i.kind == ContractItem.Kind.FIXED]
    metered = [i for i in items if i.kind == ContractItem.Kind.METERED]
    history = queries.quantity_history([i.pk for i in fixed])
    can_manage = auth.can(request, "contracts.manage")
    for item in fixed:
        item.history = history[item.pk]
        item.today_quantity = quantity_on(item, today, item.history)
        item.seat_form = (seat_form if seat_item is not None and seat_item.pk == item.pk
                          else SeatForm(auto_id=f"id_{item.public_id}_%s",
                                        initial={"quantity": f"{item.today_quantity.normalize():f}",
                                                 "effective_from": today}))
    for item in metered:
        item.tiers = item.pricing_obj.tiers
        item.mode = item.pricing_obj.mode.value
    invoices = Invoice.objects.filter(contract=contract).order_by("-period_start", "-id")
    amount = quantize_money(queries.fixed_per_period(contract, today, history), contract.currency)
    return {
        "contract": contract, "today": today, "fixed": fixed, "metered": metered,
        "usage": _usage(contract, metered, today, request.company.timezone or "UTC"),
        "invoices": list(invoices[:INVOICES_SHOWN]), "invoice_count": invoices.count(),
        "per_period": amount, "per_month": queries.per_month(contract, amount),
        "period_noun": PERIOD_NOUN[contract.billing_cycle],
        "ending_soon": queries.ends_soon(contract, today),
        "notice_date": (contract.end_date - timedelta(days=contract.renewal_notice_days)
                        if contract.end_date else None),
        "can_manage": can_manage, "can_record": auth.can(request, "usage.record"),
        "usage_form": UsageForm(), "timezone": request.company.timezone or "UTC",
        "max_mb": usage_csv.MAX_BYTES // (1024 * 1024), "max_lines": usage_csv.MAX_LINES,
    }


@auth.staff_view("contracts.view")
@require_GET
def contract_view(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = _contract(contract_id)
    return render(request, "workspace/contract.html", _detail_context(request, contract))


@auth.staff_view("contracts.manage")
@require_POST
def seats_view(request: HttpRequest, contract_id: str, item_id: str) -> HttpResponse:
    contract = _contract(contract_id)
    item = next((i for i in contract.items.all() if i.public_id == item_id), None)
    if item is None or item.kind != ContractItem.Kind.FIXED:
        raise Http404("item not found")
    form = SeatForm(request.POST, auto_id=f"id_{item.public_id}_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            row = actions.set_item_quantity(item, data["quantity"].strip(),
                                            data["effective_from"], actor=request.user)
        except ValidationError as exc:
            error = exc.errors[0]
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"{item.description}: {row.quantity.normalize():f} "
                                      f"from {row.effective_from:%-d %B %Y}.")
            return redirect(f"/app/contracts/{contract.public_id}/#items-title")
    return render(request, "workspace/contract.html",
                  _detail_context(request, contract, seat_item=item, seat_form=form),
                  status=400)


# -- one item: reword or remove ---------------------------------------------------------------

class ItemRenameForm(forms.Form):
    description = forms.CharField(label="Description", max_length=300)


def _item(contract: Contract, item_id: str) -> ContractItem:
    item = next((i for i in contract.items.all() if i.public_id == item_id), None)
    if item is None:
        raise Http404("item not found")
    return item


def _item_page(request: HttpRequest, contract: Contract, item: ContractItem, *,
               form: ItemRenameForm | None = None, status: int = 200) -> HttpResponse:
    return render(request, "workspace/contract_item.html", {
        "contract": contract, "item": item,
        "form": form or ItemRenameForm(initial={"description": item.description}),
        "refusal": actions.item_removal_refusal(item),
    }, status=status)


@auth.staff_view("contracts.manage")
@require_http_methods(["GET", "POST"])
def item_view(request: HttpRequest, contract_id: str, item_id: str) -> HttpResponse:
    contract = _contract(contract_id)
    item = _item(contract, item_id)
    if request.method == "GET":
        return _item_page(request, contract, item)
    form = ItemRenameForm(request.POST)
    if form.is_valid():
        before = item.description
        try:
            item = actions.rename_item(item, form.cleaned_data["description"],
                                       actor=request.user)
        except ValidationError as exc:
            form.add_error("description", exc.errors[0].message)
        else:
            if item.description == before:
                messages.info(request, "Nothing to save: the description is unchanged.")
            else:
                messages.success(request, f"“{before}” is now “{item.description}”.")
            return redirect(f"/app/contracts/{contract.public_id}/#items-title")
    item.refresh_from_db()
    return _item_page(request, contract, item, form=form, status=400)


@auth.staff_view("contracts.manage")
@require_POST
def item_remove_view(request: HttpRequest, contract_id: str, item_id: str) -> HttpResponse:
    contract = _contract(contract_id)
    item = _item(contract, item_id)
    try:
        actions.remove_item(item, actor=request.user)
    except Conflict as exc:
        messages.error(request, f"Not removed: {exc.message}.")
        return _item_page(request, contract, item, status=409)
    messages.success(request, f"“{item.description}” is removed from {contract.name}.")
    return redirect(f"/app/contracts/{contract.public_id}/#items-title")


# -- usage upload ----------------------------------------------------------------------------

@auth.staff_view("usage.record")
@require_http_methods(["GET", "POST"])
def usage_view(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = _contract(contract_id)
    context = {"contract": contract,
               "metered": [i for i in contract.items.all()
                           if i.kind == ContractItem.Kind.METERED],
               "can_view": auth.can(request, "contracts.view"),
               "max_mb": usage_csv.MAX_BYTES // (1024 * 1024),
               "max_lines": usage_csv.MAX_LINES, "shown": usage_csv.LINES_SHOWN,
               "timezone": request.company.timezone or "UTC"}
    if request.method == "GET":
        return render(request, "workspace/contract_usage.html",
                      {**context, "form": UsageForm()})
    form = UsageForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "workspace/contract_usage.html", {**context, "form": form},
                      status=400)
    upload = form.cleaned_data["file"]
    raw = upload.read(usage_csv.MAX_BYTES + 1)
    report = usage_csv.read(raw, contract, request.company)
    recording = form.cleaned_data["mode"] == "record"
    context.update(form=UsageForm(), report=report, recording=recording,
                   filename=(upload.name or "")[:100])
    if not recording or not report.ok:
        return render(request, "workspace/contract_usage.html", context,
                      status=400 if report.problem or recording else 200)
    try:
        created, duplicates = actions.record_usage_bulk(report.records, actor=request.user)
    except ValidationError as exc:  # the lines were checked; a change in between
        context["problem"] = f"Nothing was recorded: {exc.message}."
        return render(request, "workspace/contract_usage.html", context, status=400)
    text = f"Recorded {created} usage line{'s' if created != 1 else ''}"
    if duplicates:
        text += (f"; {duplicates} line{'s were' if duplicates != 1 else ' was'} already "
                 "recorded and changed nothing")
    messages.success(request, text + ".")
    if auth.can(request, "contracts.view"):
        return redirect(f"/app/contracts/{contract.public_id}/#usage-title")
    return redirect(f"/app/contracts/{contract.public_id}/usage")


# -- renewals --------------------------------------------------------------------------------

@auth.staff_view("contracts.view")
@require_GET
def renewals_view(request: HttpRequest) -> HttpResponse:
    today = company_today(request.company)
    until = add_months(today, RENEWAL_MONTHS)
    rows = list(queries.contracts(status=Contract.Status.ACTIVE).filter(
        end_date__gte=today, end_date__lt=until).order_by("end_date", "client__name", "id"))
    for contract in rows:
        contract.notice_date = contract.end_date - timedelta(
            days=contract.renewal_notice_days)
        contract.notice_sent = contract.renewal_notice_sent_for == contract.end_date
        contract.notice_late = not contract.notice_sent and contract.notice_date <= today
        if contract.auto_renew:
            contract.new_end = renewed_end(contract.end_date, contract.renewal_term_months)
            contract.prices = [
                (item, uplifted(item.unit_price, contract.renewal_uplift_percent,
                                contract.currency))
                for item in contract.items.all() if item.kind == ContractItem.Kind.FIXED]
    months = [(month, list(group)) for month, group in
              groupby(rows, key=lambda c: c.end_date.replace(day=1))]
    return render(request, "workspace/contract_renewals.html", {
        "months": months, "today": today, "until": until - timedelta(days=1),
        "count": len(rows)})
