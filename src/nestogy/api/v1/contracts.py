"""/contracts, /usage and /pricing/quote."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Query, Router, Schema, Status

from nestogy.accounts.roles import require
from nestogy.api.idempotency import idempotent
from nestogy.api.pagination import paginate
from nestogy.api.schemas import DecimalStr, InputSchema, responses
from nestogy.clients import queries as client_queries
from nestogy.contracts import actions, queries
from nestogy.contracts.models import Contract, ContractItem
from nestogy.contracts.pricing import Pricing, quote, tier_breakdown
from nestogy.core.errors import ValidationError
from nestogy.core.money import MoneyError, money_str, to_decimal, validate_currency

router = Router(tags=["contracts"])
usage_router = Router(tags=["contracts"])
pricing_router = Router(tags=["contracts"])

Money = DecimalStr


class ContractIn(InputSchema):
    client_id: str
    name: str
    start_date: date
    end_date: date | None = None
    billing_cycle: str
    billing_anchor_day: int | None = None
    currency: str | None = None
    payment_terms_days: int = 30
    tax_rate_percent: Money = "0"
    auto_renew: bool = False
    renewal_term_months: int = 12
    renewal_uplift_percent: Money = "0"
    renewal_notice_days: int = 30
    status: str | None = None
    items: list[dict[str, Any]] = []


class ContractPatch(InputSchema):
    name: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    billing_cycle: str | None = None
    billing_anchor_day: int | None = None
    currency: str | None = None
    payment_terms_days: int | None = None
    tax_rate_percent: Money | None = None
    auto_renew: bool | None = None
    renewal_term_months: int | None = None
    renewal_uplift_percent: Money | None = None
    renewal_notice_days: int | None = None
    status: str | None = None
    items: list[dict[str, Any]] | None = None


class ItemOut(Schema):
    id: str
    kind: str
    description: str
    quantity: str | None
    unit_price: str | None
    taxable: bool
    metric: str | None
    pricing: dict | None


class ContractOut(Schema):
    id: str
    client_id: str
    name: str
    start_date: date
    end_date: date | None
    billing_cycle: str
    billing_anchor_day: int
    currency: str
    payment_terms_days: int
    tax_rate_percent: str
    auto_renew: bool
    renewal_term_months: int
    renewal_uplift_percent: str
    renewal_notice_days: int
    status: str
    items: list[ItemOut]
    created_at: datetime
    updated_at: datetime


class ContractList(Schema):
    items: list[ContractOut]
    next_cursor: str | None


def _num(value) -> str:
    return format(value.normalize(), "f")


def item_out(item: ContractItem) -> dict:
    fixed = item.kind == ContractItem.Kind.FIXED
    return {"id": item.public_id, "kind": item.kind, "description": item.description,
            "quantity": _num(item.quantity) if fixed else None,
            "unit_price": _num(item.unit_price) if fixed else None,
            "taxable": item.taxable, "metric": item.metric or None,
            "pricing": item.pricing if not fixed else None}


def contract_out(contract: Contract) -> dict:
    return {
        "id": contract.public_id, "client_id": contract.client.public_id,
        "name": contract.name, "start_date": contract.start_date,
        "end_date": contract.end_date, "billing_cycle": contract.billing_cycle,
        "billing_anchor_day": contract.billing_anchor_day, "currency": contract.currency,
        "payment_terms_days": contract.payment_terms_days,
        "tax_rate_percent": _num(contract.tax_rate_percent),
        "auto_renew": contract.auto_renew,
        "renewal_term_months": contract.renewal_term_months,
        "renewal_uplift_percent": _num(contract.renewal_uplift_percent),
        "renewal_notice_days": contract.renewal_notice_days, "status": contract.status,
        "items": [item_out(i) for i in contract.items.all()],
        "created_at": contract.created_at, "updated_at": contract.updated_at,
    }


@router.get("", response=responses({200: ContractList}), summary="List contracts")
def list_contracts(request, limit: int = Query(50), cursor: str | None = None,
                   client_id: str | None = None, status: str | None = None):
    require(request.auth, "contracts.view")
    client = client_queries.get_client(client_id, "client_id") if client_id else None
    qs = queries.contracts(client=client, status=status)
    rows, next_cursor = paginate(qs, limit=limit, cursor=cursor, order=("-id",))
    return {"items": [contract_out(c) for c in rows], "next_cursor": next_cursor}


@router.post("", response=responses({201: ContractOut}), summary="Create a contract")
def create_contract(request, payload: ContractIn):
    require(request.auth, "contracts.manage")

    def run():
        data = payload.model_dump(exclude_unset=True)
        client = client_queries.get_client(data.pop("client_id"), "client_id")
        contract = actions.create_contract(request.auth.company, client, data,
                                           actor=request.auth.user)
        return 201, contract_out(queries.get_contract(contract.public_id))

    return idempotent(request, run)


@router.get("/{contract_id}", response=responses({200: ContractOut}), summary="Get a contract")
def get_contract(request, contract_id: str):
    require(request.auth, "contracts.view")
    return contract_out(queries.get_contract(contract_id))


@router.patch("/{contract_id}", response=responses({200: ContractOut}),
              summary="Update a contract (items in the body are added)")
def update_contract(request, contract_id: str, payload: ContractPatch):
    require(request.auth, "contracts.manage")
    contract = queries.get_contract(contract_id)

    def run():
        actions.update_contract(contract, payload.model_dump(exclude_unset=True),
                                actor=request.auth.user)
        return 200, contract_out(queries.get_contract(contract_id))

    return idempotent(request, run)


class QuantityIn(InputSchema):
    quantity: Money
    effective_from: date


class QuantityOut(Schema):
    item_id: str
    quantity: str
    effective_from: date


@router.post("/{contract_id}/items/{item_id}/quantity", response=responses({200: QuantityOut}),
             summary="Change a fixed item's quantity (seats) from a date on")
def set_quantity(request, contract_id: str, item_id: str, payload: QuantityIn):
    require(request.auth, "contracts.manage")
    contract = queries.get_contract(contract_id)
    item = queries.get_item(item_id, "item")
    if item.contract_id != contract.pk:
        from nestogy.core.errors import NotFound
        raise NotFound("item not found")
    row = actions.set_item_quantity(item, payload.quantity, payload.effective_from,
                                    actor=request.auth.user)
    return {"item_id": item.public_id, "quantity": _num(row.quantity),
            "effective_from": row.effective_from}


# -- usage ----------------------------------------------------------------------------------

class UsageIn(InputSchema):
    contract_item_id: str
    quantity: Money
    occurred_at: datetime
    idempotency_key: str


class UsageOut(Schema):
    id: str
    contract_item_id: str
    quantity: str
    occurred_at: datetime
    idempotency_key: str
    created: bool


class UsageBulkIn(InputSchema):
    records: list[UsageIn]


class UsageBulkOut(Schema):
    created: int
    duplicates: int


@usage_router.post("", response=responses({200: UsageOut, 201: UsageOut}),
                   summary="Record usage of a metered item (a repeated key changes nothing)")
def record_usage(request, payload: UsageIn):
    require(request.auth, "usage.record")
    item = queries.get_item(payload.contract_item_id, "contract_item_id")
    row, created = actions.record_usage(item, payload.model_dump(), actor=request.auth.user)
    body = {"id": row.public_id, "contract_item_id": item.public_id,
            "quantity": _num(row.quantity), "occurred_at": row.occurred_at,
            "idempotency_key": row.idempotency_key, "created": created}
    return Status(201 if created else 200, body)


@usage_router.post("/bulk", response=responses({200: UsageBulkOut}),
                   summary="Record many usage measurements at once (all-or-nothing validation)")
def record_usage_bulk(request, payload: UsageBulkIn):
    require(request.auth, "usage.record")
    if len(payload.records) > 10_000:
        raise ValidationError("records", "at most 10000 records per request")
    ids = {r.contract_item_id for r in payload.records}
    items = queries.items_by_public_id(ids)
    pairs = []
    for i, record in enumerate(payload.records):
        item = items.get(record.contract_item_id)
        if item is None:
            raise ValidationError(f"records[{i}].contract_item_id", "not found")
        pairs.append((item, record.model_dump()))
    created, duplicates = actions.record_usage_bulk(pairs, actor=request.auth.user)
    return {"created": created, "duplicates": duplicates}


# -- pricing --------------------------------------------------------------------------------

class QuoteIn(InputSchema):
    pricing: dict[str, Any]
    quantity: Money
    currency: str | None = None


class QuoteTier(Schema):
    tier: int
    quantity: str
    unit_price: str
    flat_fee: str
    amount: str


class QuoteOut(Schema):
    amount: str
    currency: str
    tiers: list[QuoteTier]


@pricing_router.post("/quote", response=responses({200: QuoteOut}),
                     summary="Price a quantity with graduated or volume tiers")
def pricing_quote(request, payload: QuoteIn):
    require(request.auth, "contracts.view")
    pricing = Pricing.from_dict(payload.pricing)
    try:
        quantity = to_decimal(payload.quantity, "quantity", allow_negative=False)
        currency = validate_currency(payload.currency or request.auth.company.currency)
    except MoneyError as exc:
        raise ValidationError(exc.field, exc.message) from None
    return {"amount": money_str(quote(pricing, quantity), currency), "currency": currency,
            "tiers": [{"tier": row["tier"], "quantity": _num(row["quantity"]),
                       "unit_price": _num(row["unit_price"]), "flat_fee": _num(row["flat_fee"]),
                       "amount": money_str(row["amount"], currency)}
                      for row in tier_breakdown(pricing, quantity)]}
