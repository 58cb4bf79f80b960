"""/contracts, /usage and /pricing/quote."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Router, Schema, Status
from pydantic import Discriminator, Field, Tag

from nestogy.accounts.roles import require
from nestogy.api.idempotency import idempotent
from nestogy.api.pagination import paginate
from nestogy.api.schemas import (
    Currency,
    Cursor,
    Day,
    InputSchema,
    Limit,
    Money,
    ObjectId,
    Percent,
    Quantity,
    QuantityPositive,
    TierPrice,
    Timestamp,
    name_text,
    responses,
)
from nestogy.clients import queries as client_queries
from nestogy.contracts import actions, queries
from nestogy.contracts.models import Contract, ContractItem
from nestogy.contracts.pricing import Cycle, Mode, Pricing, quote, tier_breakdown
from nestogy.core.errors import NotFound, ValidationError
from nestogy.core.money import MoneyError, money_str, to_decimal, validate_currency
from nestogy.sla import queries as sla_queries

router = Router(tags=["contracts"])
usage_router = Router(tags=["contracts"])
pricing_router = Router(tags=["contracts"])

class TierIn(InputSchema):
    up_to: QuantityPositive | None = Field(
        None, description="cumulative upper bound of the tier, greater than the previous "
                          "tier's; null (open-ended) only for the last tier")
    unit_price: TierPrice
    flat_fee: TierPrice | None = None


class PricingIn(InputSchema):
    mode: Literal[tuple(Mode)]
    tiers: Annotated[list[TierIn], Field(min_length=1, max_length=50)]


class FixedItemIn(InputSchema):
    kind: Literal["fixed"]
    description: name_text(300)
    quantity: Quantity
    unit_price: Money
    taxable: bool | None = None


class MeteredItemIn(InputSchema):
    kind: Literal["metered"]
    description: name_text(300)
    metric: name_text(100)
    pricing: PricingIn
    taxable: bool | None = None


def _item_kind(value: Any) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return {"fixed": "FixedItemIn", "metered": "MeteredItemIn"}.get(kind)


ContractItemIn = Annotated[
    Annotated[FixedItemIn, Tag("FixedItemIn")] | Annotated[MeteredItemIn, Tag("MeteredItemIn")],
    Discriminator(_item_kind, custom_error_type="invalid_kind",
                  custom_error_message="must be fixed or metered")]
Items = Annotated[list[ContractItemIn], Field(max_length=200)]
CycleName = Literal[tuple(Cycle)]
AnchorDay = Annotated[int, Field(ge=1, le=31, description="1-31 (day of the month); 1-7 "
                                                          "(ISO weekday) for weekly cycles")]
TermDays = Annotated[int, Field(ge=0, le=365)]
TermMonths = Annotated[int, Field(ge=1, le=120)]
ContractStatus = Literal[tuple(Contract.Status.values)]


class ContractIn(InputSchema):
    client_id: ObjectId
    name: name_text(200)
    start_date: Day
    end_date: Annotated[Day, Field(description="on or after start_date; required when "
                                               "auto_renew")] | None = None
    billing_cycle: CycleName
    billing_anchor_day: AnchorDay | None = None
    currency: Currency | None = None
    payment_terms_days: TermDays = 30
    tax_rate_percent: Percent = "0"
    auto_renew: bool = False
    renewal_term_months: TermMonths = 12
    renewal_uplift_percent: Percent = "0"
    renewal_notice_days: TermDays = 30
    status: ContractStatus | None = None
    sla_policy_id: ObjectId | None = None
    items: Items = []


class ContractPatch(InputSchema):
    name: name_text(200) | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    billing_cycle: CycleName | None = None
    billing_anchor_day: AnchorDay | None = None
    currency: Currency | None = None
    payment_terms_days: TermDays | None = None
    tax_rate_percent: Percent | None = None
    auto_renew: bool | None = None
    renewal_term_months: TermMonths | None = None
    renewal_uplift_percent: Percent | None = None
    renewal_notice_days: TermDays | None = None
    status: ContractStatus | None = None
    sla_policy_id: ObjectId | None = None
    items: Items | None = Field(None, description="items to add")


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
    sla_policy_id: str | None
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


def _with_policy(data: dict[str, Any]) -> dict[str, Any]:
    """Swap ``sla_policy_id`` for the policy object (an unknown id is a 422 naming it)."""
    if "sla_policy_id" in data:
        policy_id = data.pop("sla_policy_id")
        try:
            data["sla_policy"] = sla_queries.get_policy(policy_id) if policy_id else None
        except NotFound:
            raise ValidationError("sla_policy_id", "is not an SLA policy of this company") \
                from None
    return data


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
        "sla_policy_id": contract.sla_policy.public_id if contract.sla_policy_id else None,
        "items": [item_out(i) for i in contract.items.all()],
        "created_at": contract.created_at, "updated_at": contract.updated_at,
    }


@router.get("", response=responses({200: ContractList}), summary="List contracts")
def list_contracts(request, limit: int = Limit(), cursor: str | None = Cursor(),
                   client_id: ObjectId | None = None, status: ContractStatus | None = None):
    require(request.auth, "contracts.view")
    client = client_queries.get_client(client_id, "client_id") if client_id else None
    qs = queries.contracts(client=client, status=status)
    rows, next_cursor = paginate(qs, limit=limit, cursor=cursor, order=("-id",))
    return {"items": [contract_out(c) for c in rows], "next_cursor": next_cursor}


@router.post("", response=responses({201: ContractOut}), summary="Create a contract")
def create_contract(request, payload: ContractIn):
    require(request.auth, "contracts.manage")

    def run():
        data = _with_policy(payload.model_dump(exclude_unset=True))
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
        actions.update_contract(contract, _with_policy(payload.model_dump(exclude_unset=True)),
                                actor=request.auth.user)
        return 200, contract_out(queries.get_contract(contract_id))

    return idempotent(request, run)


class QuantityIn(InputSchema):
    quantity: Quantity
    effective_from: Day


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
    contract_item_id: ObjectId
    quantity: Quantity
    occurred_at: Timestamp
    idempotency_key: name_text(200)


class UsageOut(Schema):
    id: str
    contract_item_id: str
    quantity: str
    occurred_at: datetime
    idempotency_key: str
    created: bool


class UsageBulkIn(InputSchema):
    records: Annotated[list[UsageIn], Field(max_length=10_000)]


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
    pricing: PricingIn
    quantity: Quantity
    currency: Currency | None = None


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
    pricing = Pricing.from_dict(payload.pricing.model_dump(exclude_unset=True))
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
