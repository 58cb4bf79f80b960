"""Builders shared by the billing suites."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from nestogy.contracts.actions import create_contract, record_usage_bulk
from nestogy.contracts.models import ContractItem

BACKUP_TIERS = {"mode": "graduated", "tiers": [
    {"up_to": 100, "unit_price": "0.10", "flat_fee": "5"},
    {"up_to": 1000, "unit_price": "0.05"},
    {"up_to": None, "unit_price": "0.02"}]}


def make_contract(company, client, *, start="2025-01-01", cycle="monthly", anchor=None,
                  seats="10", price="25.00", metered=True, tax="0", end=None, **extra):
    items = [{"kind": "fixed", "description": "Managed workstation", "quantity": seats,
              "unit_price": price}]
    if metered:
        items.append({"kind": "metered", "description": "Backup storage", "metric": "GB",
                      "pricing": BACKUP_TIERS})
    data = {"name": f"MSA {client.name}", "start_date": start, "billing_cycle": cycle,
            "tax_rate_percent": tax, "items": items, **extra}
    if anchor is not None:
        data["billing_anchor_day"] = anchor
    if end is not None:
        data["end_date"] = end
    return create_contract(company, client, data)


def metered_item(contract) -> ContractItem:
    return contract.items.get(kind="metered")


def fixed_item(contract) -> ContractItem:
    return contract.items.get(kind="fixed")


def add_usage(contract, rows: list[tuple[str, str]], tz: str = "UTC", prefix: str = "u"):
    """rows: (local 'YYYY-MM-DD HH:MM', quantity)."""
    item = metered_item(contract)
    zone = ZoneInfo(tz)
    records = []
    for i, (when, qty) in enumerate(rows):
        at = datetime.fromisoformat(when).replace(tzinfo=zone)
        records.append((item, {"quantity": Decimal(qty), "occurred_at": at,
                               "idempotency_key": f"{prefix}-{contract.pk}-{i}-{when}"}))
    return record_usage_bulk(records)
