"""Writing contracts in the workspace (``contracts.manage``, as ``POST/PATCH
/api/v1/contracts``): a new contract with its terms and items, and changes to a contract's
terms with more items added (``contracts.actions.create_contract`` / ``update_contract``).

Items are lines: a fixed item (description, quantity, unit price) or a metered one
(description, unit of measure, tiers written one per line as ``up_to unit_price
[flat_fee]``, ``-`` for "and above", graduated or volume). Empty lines are left out. An
error names its field, or its item and field ("Item 2, tiers: …"), and nothing is written.
Fields that decide past periods (start date, cycle, anchor day, currency) are refused once
the contract has invoices, with the reason; seat counts change from the contract's page.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from nestogy.clients import queries as client_queries
from nestogy.clients.models import Client
from nestogy.contracts import actions as contract_actions
from nestogy.contracts.models import Contract
from nestogy.contracts.pricing import Cycle
from nestogy.core.errors import Conflict, NotFound, ValidationError
from nestogy.sla.models import SLAPolicy
from nestogy.workspace import auth

LABELS = {"client": "Client", "name": "Name", "start_date": "Start date",
          "end_date": "End date", "billing_cycle": "Billing cycle",
          "billing_anchor_day": "Anchor day", "currency": "Currency",
          "payment_terms_days": "Payment terms", "tax_rate_percent": "Tax rate",
          "auto_renew": "Auto-renew", "renewal_term_months": "Renewal term",
          "renewal_uplift_percent": "Renewal uplift", "renewal_notice_days": "Notice days",
          "sla_policy_id": "SLA policy", "sla_policy": "SLA policy", "items": "Items"}
ITEM_LABELS = {"kind": "kind", "description": "description", "quantity": "quantity",
               "unit_price": "unit price", "metric": "unit", "pricing": "tiers",
               "taxable": "taxable"}
TEXT_FIELDS = ("name", "start_date", "end_date", "billing_anchor_day", "currency",
               "payment_terms_days", "tax_rate_percent", "renewal_term_months",
               "renewal_uplift_percent", "renewal_notice_days")
INT_FIELDS = {"billing_anchor_day", "payment_terms_days", "renewal_term_months",
              "renewal_notice_days"}
NEW_ROWS, EDIT_ROWS = 4, 2
ITEM_FIELD = re.compile(r"^items\[(\d+)\]\.?([a-z_]*)")


def _contract(contract_id: str) -> Contract:
    contract = Contract.objects.select_related("client").filter(public_id=contract_id).first()
    if contract is None:
        raise Http404("contract not found")
    return contract


def _tiers(text: str, mode: str) -> dict:
    tiers = []
    for line in [ln.strip() for ln in text.splitlines() if ln.strip()]:
        parts = line.split()
        if len(parts) not in (2, 3):
            raise ValueError(f"write each tier as 'up_to unit_price [flat_fee]', not {line!r}")
        tier = {"up_to": None if parts[0] in ("-", "*", "above") else parts[0],
                "unit_price": parts[1]}
        if len(parts) == 3:
            tier["flat_fee"] = parts[2]
        tiers.append(tier)
    return {"mode": mode, "tiers": tiers}


def _rows(post, count: int) -> list[dict]:
    rows = []
    for i in range(min(count, 50)):
        row = {k: (post.get(f"item-{i}-{k}") or "").strip()
               for k in ("kind", "description", "quantity", "unit_price", "metric", "tiers",
                         "mode")}
        row["taxable"] = post.get(f"item-{i}-taxable") == "on"
        row["tiers"] = (post.get(f"item-{i}-tiers") or "").strip()
        rows.append(row)
    return rows


def _items(rows: list[dict]) -> tuple[list[dict], list[int]]:
    """The action's items from the filled rows, and each item's row index."""
    items, index = [], []
    for i, row in enumerate(rows):
        if not (row["description"] or row["quantity"] or row["unit_price"] or row["tiers"]):
            continue
        if row["kind"] == "metered":
            try:
                pricing = _tiers(row["tiers"], row["mode"] or "graduated")
            except ValueError as exc:
                raise ValidationError(f"items[{len(items)}].pricing", str(exc)) from None
            item = {"kind": "metered", "description": row["description"],
                    "metric": row["metric"], "pricing": pricing, "taxable": row["taxable"]}
        else:
            item = {"kind": "fixed", "description": row["description"],
                    "quantity": row["quantity"] or "1", "unit_price": row["unit_price"],
                    "taxable": row["taxable"]}
        items.append(item)
        index.append(i)
    return items, index


def _terms(post, *, new: bool) -> dict:
    data = {}
    for name in TEXT_FIELDS:
        if name == "currency" and not new:
            continue
        value = (post.get(name) or "").strip()
        if name == "end_date" and not value:
            data[name] = None
        elif name == "billing_anchor_day" and not value:
            data[name] = None
        elif name in INT_FIELDS and value:
            try:
                data[name] = int(value)
            except ValueError:
                raise ValidationError(name, "must be a whole number") from None
        elif value or name in ("name", "start_date"):
            data[name] = value
    data["billing_cycle"] = post.get("billing_cycle", "")
    data["auto_renew"] = post.get("auto_renew") == "on"
    policy_id = post.get("sla_policy", "")
    if policy_id:
        policy = SLAPolicy.objects.filter(public_id=policy_id).first()
        if policy is None:
            raise ValidationError("sla_policy", "choose one of your SLA policies")
        data["sla_policy"] = policy
    else:
        data["sla_policy"] = None
    return data


def _form(request, *, contract, values, rows, errors, status=200) -> HttpResponse:
    return render(request, "workspace/contract_form.html", {
        "contract": contract, "v": values, "rows": rows, "errors": errors,
        "cycles": [c.value for c in Cycle],
        "policies": list(SLAPolicy.objects.order_by("name").values_list("public_id", "name")),
        "clients": list(Client.objects.order_by("name").values_list("public_id", "name")[:500])
        if contract is None else [],
    }, status=status)


def _error(exc: ValidationError, rows: list[dict], index: list[int]) -> dict:
    match = ITEM_FIELD.match(exc.field or "")
    if match:
        n = int(match.group(1))
        label = ITEM_LABELS.get(match.group(2), match.group(2) or "item")
        if n < len(index):
            rows[index[n]]["error"] = True
        return {"lines": f"Item {n + 1}, {label}: {exc.message}."}
    field = exc.field or "lines"
    return {field if field != "sla_policy_id" else "sla_policy":
            f"{LABELS.get(field, field)}: {exc.message}."}


def _values(post) -> dict:
    values = {k: post.get(k, "") for k in (*TEXT_FIELDS, "billing_cycle", "sla_policy",
                                             "client")}
    values["auto_renew"] = post.get("auto_renew") == "on"
    return values


@auth.staff_view("contracts.manage")
@require_http_methods(["GET", "POST"])
def new_view(request: HttpRequest) -> HttpResponse:
    blank = [{"kind": "fixed", "mode": "graduated", "taxable": True} for _ in range(NEW_ROWS)]
    if request.method == "GET":
        values = dict.fromkeys((*TEXT_FIELDS, "sla_policy"), "")
        values |= {"billing_cycle": "monthly", "currency": request.company.currency,
                  "payment_terms_days": "30", "renewal_term_months": "12",
                  "renewal_notice_days": "30", "client": request.GET.get("client", "")[:40]}
        return _form(request, contract=None, values=values, rows=blank, errors={})
    rows = _rows(request.POST, int(request.POST.get("rows") or 0)
                 if (request.POST.get("rows") or "").isdigit() else 0)
    values = _values(request.POST)
    index: list[int] = []
    try:
        try:
            client = client_queries.get_client(request.POST.get("client", ""))
        except NotFound:
            raise ValidationError("client", "choose one of your clients") from None
        data = _terms(request.POST, new=True)
        items, index = _items(rows)
        contract = contract_actions.create_contract(request.company, client,
                                                    {**data, "items": items},
                                                    actor=request.user)
    except ValidationError as exc:
        return _form(request, contract=None, values=values, rows=rows,
                     errors=_error(exc, rows, index), status=400)
    messages.success(request, f"Contract {contract.name} created.")
    return redirect(f"/app/contracts/{contract.public_id}/")


@auth.staff_view("contracts.manage")
@require_http_methods(["GET", "POST"])
def edit_view(request: HttpRequest, contract_id: str) -> HttpResponse:
    contract = _contract(contract_id)
    blank = [{"kind": "fixed", "mode": "graduated", "taxable": True} for _ in range(EDIT_ROWS)]
    if request.method == "GET":
        values = {k: getattr(contract, k, "") for k in TEXT_FIELDS}
        values["currency"] = contract.currency
        values.update(billing_cycle=contract.billing_cycle, auto_renew=contract.auto_renew,
                      sla_policy=contract.sla_policy.public_id if contract.sla_policy_id
                      else "")
        for k in ("tax_rate_percent", "renewal_uplift_percent"):
            values[k] = values[k].normalize() if values[k] is not None else ""
        return _form(request, contract=contract, values=values, rows=blank, errors={})
    rows = _rows(request.POST, int(request.POST.get("rows") or 0)
                 if (request.POST.get("rows") or "").isdigit() else 0)
    values = _values(request.POST)
    index: list[int] = []
    try:
        data = _terms(request.POST, new=False)
        current = {"start_date": contract.start_date.isoformat(),
                   "billing_cycle": contract.billing_cycle,
                   "billing_anchor_day": contract.billing_anchor_day}
        for key, was in current.items():  # unchanged: not sent (frozen once invoiced)
            if str(data.get(key)) == str(was) or (key == "billing_anchor_day"
                                                  and data.get(key) is None):
                data.pop(key, None)
        items, index = _items(rows)
        if items:
            data["items"] = items
        contract_actions.update_contract(contract, data, actor=request.user)
    except ValidationError as exc:
        return _form(request, contract=contract, values=values, rows=rows,
                     errors=_error(exc, rows, index), status=400)
    except Conflict as exc:
        return _form(request, contract=contract, values=values, rows=rows,
                     errors={"lines": f"Not saved: {exc}."}, status=409)
    messages.success(request, "Contract saved.")
    return redirect(f"/app/contracts/{contract.public_id}/")
