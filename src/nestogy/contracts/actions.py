"""Every change to contracts, items and usage: validated, atomic, audited."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from nestogy.audit.actions import build_entry, log_action, log_actions_bulk
from nestogy.clients.models import Client
from nestogy.contracts.models import Contract, ContractItem, ContractItemQuantity, UsageRecord
from nestogy.contracts.pricing import Cycle, Pricing, default_anchor, validate_anchor
from nestogy.core.errors import Conflict, ValidationError
from nestogy.core.money import MoneyError, validate_currency
from nestogy.core.validation import clean_date as _date
from nestogy.core.validation import clean_decimal as _decimal
from nestogy.core.validation import clean_int as _int
from nestogy.core.validation import clean_percent as _percent
from nestogy.core.validation import clean_text
from nestogy.sla import actions as sla_actions
from nestogy.tenancy.queries import company_today

CONTRACT_FIELDS = {"name", "start_date", "end_date", "billing_cycle", "billing_anchor_day",
                   "currency", "payment_terms_days", "tax_rate_percent", "auto_renew",
                   "renewal_term_months", "renewal_uplift_percent", "renewal_notice_days",
                   "status", "sla_policy"}
# Changes that can change which SLA policy the client's tickets run on.
POLICY_SELECTION = {"sla_policy", "status", "start_date", "end_date"}
# Fields that decide past periods: frozen once the contract has invoices.
BILLING_SHAPE = {"start_date", "billing_cycle", "billing_anchor_day", "currency"}








def _apply_contract_fields(contract: Contract, data: dict[str, Any]) -> None:
    unknown = set(data) - CONTRACT_FIELDS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a contract field")
    if "name" in data:
        contract.name = clean_text(data["name"], "name", max_length=200, required=True)
    if "start_date" in data:
        contract.start_date = _date(data["start_date"], "start_date")
        if contract.start_date is None:
            raise ValidationError("start_date", "is required")
    if "end_date" in data:
        contract.end_date = _date(data["end_date"], "end_date")
    if "billing_cycle" in data:
        if data["billing_cycle"] not in Cycle._value2member_map_:
            raise ValidationError("billing_cycle",
                                  f"must be one of {', '.join(c.value for c in Cycle)}")
        contract.billing_cycle = data["billing_cycle"]
    if data.get("billing_anchor_day") is not None:
        contract.billing_anchor_day = _int(data["billing_anchor_day"], "billing_anchor_day",
                                           1, 31)
    if "currency" in data:
        try:
            contract.currency = validate_currency(data["currency"])
        except MoneyError as exc:
            raise ValidationError(exc.field, exc.message) from None
    if "payment_terms_days" in data:
        contract.payment_terms_days = _int(data["payment_terms_days"], "payment_terms_days",
                                           0, 365)
    if "tax_rate_percent" in data:
        contract.tax_rate_percent = _percent(data["tax_rate_percent"], "tax_rate_percent")
    if "auto_renew" in data:
        if not isinstance(data["auto_renew"], bool):
            raise ValidationError("auto_renew", "must be true or false")
        contract.auto_renew = data["auto_renew"]
    if "renewal_term_months" in data:
        contract.renewal_term_months = _int(data["renewal_term_months"],
                                            "renewal_term_months", 1, 120)
    if "renewal_uplift_percent" in data:
        contract.renewal_uplift_percent = _percent(data["renewal_uplift_percent"],
                                                   "renewal_uplift_percent")
    if "renewal_notice_days" in data:
        contract.renewal_notice_days = _int(data["renewal_notice_days"],
                                            "renewal_notice_days", 0, 365)
    if "sla_policy" in data:
        policy = data["sla_policy"]
        if policy is not None and getattr(policy, "company_id", None) != contract.company_id:
            raise ValidationError("sla_policy_id", "is not an SLA policy of this company")
        contract.sla_policy = policy
    if "status" in data:
        if data["status"] not in Contract.Status.values:
            raise ValidationError("status", f"must be one of {', '.join(Contract.Status.values)}")
        contract.status = data["status"]
    cycle = Cycle(contract.billing_cycle)
    if contract.billing_anchor_day is None:
        contract.billing_anchor_day = default_anchor(cycle, contract.start_date)
    validate_anchor(cycle, contract.billing_anchor_day)
    if contract.end_date is not None and contract.end_date < contract.start_date:
        raise ValidationError("end_date", "must be on or after start_date")
    if contract.auto_renew and contract.end_date is None:
        raise ValidationError("end_date", "is required for an auto-renewing contract")


# A fixed item bills quantity × unit_price per period, stored as MONEY (below 10^10).
MAX_PERIOD_AMOUNT = Decimal(10) ** 10


def _check_period_amount(quantity: Decimal, unit_price: Decimal, field: str) -> None:
    if abs(quantity * unit_price) >= MAX_PERIOD_AMOUNT:
        raise ValidationError(field, "quantity × unit_price must be less than "
                                     f"{MAX_PERIOD_AMOUNT:f} in absolute value")


def _build_item(contract: Contract, data: Any, field: str, position: int) -> ContractItem:
    if not isinstance(data, dict):
        raise ValidationError(field, "must be an object")
    kind = data.get("kind")
    if kind not in ContractItem.Kind.values:
        raise ValidationError(f"{field}.kind", "must be fixed or metered")
    allowed = ({"kind", "description", "quantity", "unit_price", "taxable"} if kind == "fixed"
               else {"kind", "description", "metric", "pricing", "taxable"})
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(f"{field}.{sorted(unknown)[0]}",
                              f"is not a field of a {kind} item")
    item = ContractItem(company_id=contract.company_id, contract=contract, kind=kind,
                        position=position)
    item.description = clean_text(data.get("description"), f"{field}.description",
                                  max_length=300, required=True)
    if "taxable" in data:
        if not isinstance(data["taxable"], bool):
            raise ValidationError(f"{field}.taxable", "must be true or false")
        item.taxable = data["taxable"]
    if kind == "fixed":
        for required in ("quantity", "unit_price"):
            if required not in data:
                raise ValidationError(f"{field}.{required}", "is required")
        item.quantity = _decimal(data["quantity"], f"{field}.quantity", allow_negative=False,
                                 max_places=6)
        item.unit_price = _decimal(data["unit_price"], f"{field}.unit_price", max_places=4)
        _check_period_amount(item.quantity, item.unit_price, f"{field}.quantity")
    else:
        item.metric = clean_text(data.get("metric"), f"{field}.metric", max_length=100,
                                 required=True)
        pricing = Pricing.from_dict(data.get("pricing"), f"{field}.pricing")
        item.pricing = pricing.as_dict()
        item.quantity = Decimal(0)
    return item


@transaction.atomic
def create_contract(company, client: Client, data: dict[str, Any], *, actor=None) -> Contract:
    data = dict(data)
    items = data.pop("items", [])
    for required in ("name", "start_date", "billing_cycle"):
        if required not in data:
            raise ValidationError(required, "is required")
    data.setdefault("currency", company.currency)
    contract = Contract(company=company, client=client, billing_anchor_day=None)
    _apply_contract_fields(contract, data)
    if not isinstance(items, list):
        raise ValidationError("items", "must be a list")
    built = [_build_item(contract, raw, f"items[{i}]", i) for i, raw in enumerate(items)]
    contract.save()
    for item in built:
        item.contract = contract
    ContractItem.objects.bulk_create(built)
    ContractItemQuantity.objects.bulk_create([
        ContractItemQuantity(company_id=contract.company_id, item=item,
                             effective_from=contract.start_date, quantity=item.quantity)
        for item in built if item.kind == ContractItem.Kind.FIXED])
    log_action(contract, "contract.created", actor=actor,
               data={"name": contract.name, "items": len(built)})
    if contract.sla_policy_id:
        sla_actions.client_policy_changed([contract.client_id])
    return contract


@transaction.atomic
def update_contract(contract: Contract, changes: dict[str, Any], *, actor=None) -> Contract:
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    changes = dict(changes)
    new_items = changes.pop("items", None)
    from_apps = contract._meta.apps
    Invoice = from_apps.get_model("billing", "Invoice") if from_apps.is_installed(
        "nestogy.billing") else None
    if Invoice is not None and BILLING_SHAPE & set(changes) and Invoice.objects.filter(
            contract=contract).exclude(status="void").exists():
        field = sorted(BILLING_SHAPE & set(changes))[0]
        raise Conflict(f"{field} cannot change once the contract has been invoiced; "
                       "end it and start a new contract")
    _apply_contract_fields(contract, changes)
    contract.save()
    if new_items is not None:
        if not isinstance(new_items, list):
            raise ValidationError("items", "must be a list")
        start = contract.items.count()
        built = [_build_item(contract, raw, f"items[{i}]", start + i)
                 for i, raw in enumerate(new_items)]
        ContractItem.objects.bulk_create(built)
        today = company_today(contract.company)
        ContractItemQuantity.objects.bulk_create([
            ContractItemQuantity(company_id=contract.company_id, item=item,
                                 effective_from=max(contract.start_date, today),
                                 quantity=item.quantity)
            for item in built if item.kind == ContractItem.Kind.FIXED])
    audit = {k: (v.public_id if k == "sla_policy" and v is not None else v)
             for k, v in changes.items()}
    log_action(contract, "contract.updated", actor=actor,
               data={**audit, **({"items_added": len(new_items)} if new_items else {})})
    if POLICY_SELECTION & set(changes):
        sla_actions.client_policy_changed([contract.client_id])
    return contract


def _invoiced(item: ContractItem) -> bool:
    apps = item._meta.apps
    if not apps.is_installed("nestogy.billing"):
        return False
    return apps.get_model("billing", "InvoiceLine").objects.filter(contract_item=item).exists()


@transaction.atomic
def rename_item(item: ContractItem, description: Any, *, actor=None) -> ContractItem:
    """Reword an item. Invoices already written keep the words they were written with (their
    lines copy the description); the next ones use the new words."""
    item = ContractItem.objects.select_for_update().get(pk=item.pk)
    text = clean_text(description, "description", max_length=300, required=True)
    if text == item.description:
        return item
    before = item.description
    item.description = text
    item.save(update_fields=["description"])
    log_action(item.contract, "contract.item_renamed", actor=actor,
               data={"item_id": item.public_id, "from": before, "to": text})
    return item


def item_removal_refusal(item: ContractItem) -> str | None:
    """Why ``item`` cannot be removed, or ``None``: an item that has been invoiced, or on which
    usage was recorded, is part of the contract's billing history."""
    if _invoiced(item):
        return ("it has been invoiced, and its invoices keep it; end the contract and start "
                "a new one without it")
    if item.usage.exists():
        return ("usage has been recorded on it, which the next invoice bills; remove it after "
                "that usage is invoiced by ending the contract, or correct the usage instead")
    return None


@transaction.atomic
def remove_item(item: ContractItem, *, actor=None) -> None:
    """Remove an item added by mistake (never invoiced, no usage). Its seat history goes
    with it."""
    item = ContractItem.objects.select_for_update().get(pk=item.pk)
    refusal = item_removal_refusal(item)
    if refusal:
        raise Conflict(f"{item.description} cannot be removed: {refusal}")
    log_action(item.contract, "contract.item_removed", actor=actor,
               data={"item_id": item.public_id, "kind": item.kind,
                     "description": item.description})
    item.delete()


@transaction.atomic
def set_item_quantity(item: ContractItem, quantity: Any, effective_from: Any, *,
                      actor=None) -> ContractItemQuantity:
    """Change a fixed item's quantity (seats) from a date on; periods starting then bill it."""
    if item.kind != ContractItem.Kind.FIXED:
        raise ValidationError("item", "only fixed items have a quantity")
    qty = _decimal(quantity, "quantity", allow_negative=False, max_places=6)
    _check_period_amount(qty, item.unit_price, "quantity")
    day = _date(effective_from, "effective_from")
    if day is None:
        raise ValidationError("effective_from", "is required")
    row, _ = ContractItemQuantity.objects.update_or_create(
        company_id=item.company_id, item=item, effective_from=day,
        defaults={"quantity": qty})
    latest = ContractItemQuantity.objects.filter(item=item).order_by("-effective_from").first()
    item.quantity = latest.quantity
    item.save(update_fields=["quantity", "updated_at"])
    log_action(item, "contract_item.quantity_changed", actor=actor,
               data={"quantity": str(qty), "effective_from": day.isoformat()})
    return row


def _usage_row(item: ContractItem, data: dict[str, Any], field: str = "") -> UsageRecord:
    prefix = f"{field}." if field else ""
    for required in ("quantity", "occurred_at", "idempotency_key"):
        if data.get(required) in (None, ""):
            raise ValidationError(f"{prefix}{required}", "is required")
    if item.kind != ContractItem.Kind.METERED:
        raise ValidationError(f"{prefix}contract_item_id", "is not a metered item")
    qty = _decimal(data["quantity"], f"{prefix}quantity", allow_negative=False, max_places=6)
    occurred = data["occurred_at"]
    if isinstance(occurred, str):
        try:
            occurred = datetime.fromisoformat(occurred)
        except ValueError:
            raise ValidationError(f"{prefix}occurred_at", "must be an ISO 8601 timestamp") \
                from None
    if not isinstance(occurred, datetime) or timezone.is_naive(occurred):
        raise ValidationError(f"{prefix}occurred_at", "must be a timestamp with an offset")
    key = clean_text(data["idempotency_key"], f"{prefix}idempotency_key", max_length=200,
                     required=True)
    return UsageRecord(company_id=item.company_id, item=item, quantity=qty,
                       occurred_at=occurred, idempotency_key=key)


def validate_usage(item: ContractItem, data: dict[str, Any], field: str = "") -> UsageRecord:
    """Check one measurement as :func:`record_usage` would, writing nothing: the unsaved
    record, or a ``ValidationError`` naming the field (a dry run of an upload)."""
    return _usage_row(item, data, field)


def record_usage(item: ContractItem, data: dict[str, Any], *, actor=None
                 ) -> tuple[UsageRecord, bool]:
    """Record one measurement. Returns ``(record, created)``; a repeated key changes nothing."""
    row = _usage_row(item, data)
    try:
        with transaction.atomic():
            row.save()
            log_action(row, "usage.recorded", actor=actor,
                       data={"item": item.public_id, "quantity": str(row.quantity)})
    except IntegrityError:
        existing = UsageRecord.objects.get(item=item, idempotency_key=row.idempotency_key)
        return existing, False
    return row, True


@transaction.atomic
def record_usage_bulk(records: list[tuple[ContractItem, dict[str, Any]]], *, actor=None
                      ) -> tuple[int, int]:
    """Validate every record first (nothing is written if one is bad), then insert in bulk.

    Repeated idempotency keys (already stored, or repeated in the batch) are skipped.
    Returns ``(created, duplicates)``.
    """
    rows, errors = [], []
    for i, (item, data) in enumerate(records):
        try:
            rows.append(_usage_row(item, data, f"records[{i}]"))
        except ValidationError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationError.many(errors[:20])
    if not rows:
        return 0, 0
    seen: set[tuple[int, str]] = set()
    unique = []
    for row in rows:
        key = (row.item_id, row.idempotency_key)
        if key not in seen:
            seen.add(key)
            unique.append(row)
    existing = set(UsageRecord.objects.filter(
        item_id__in={r.item_id for r in unique},
        idempotency_key__in={r.idempotency_key for r in unique},
    ).values_list("item_id", "idempotency_key"))
    fresh = [r for r in unique if (r.item_id, r.idempotency_key) not in existing]
    # ignore_conflicts: a concurrent request with the same key wins quietly.
    UsageRecord.objects.bulk_create(fresh, batch_size=1000, ignore_conflicts=True)
    if fresh:
        contract_item = records[0][0]
        log_actions_bulk([build_entry(contract_item, "usage.bulk_recorded", actor=actor,
                                      data={"records": len(fresh)})])
    return len(fresh), len(rows) - len(fresh)

