"""Renewals: notices before ``end_date`` and automatic renewal with a price uplift.

- A notice goes out ``renewal_notice_days`` before ``end_date``, once per term (recorded as a
  :class:`RenewalRecord` of kind ``notice``; a unique constraint keeps it once).
- An auto-renewing active contract whose ``end_date`` has been reached (``end_date <=
  today``) is extended by ``renewal_term_months`` (the new last day is the day before the
  same calendar day ``renewal_term_months`` after the day following the old end, clamped),
  and every fixed item's unit price is raised by ``renewal_uplift_percent`` rounded half-up
  to the currency's minor unit. Each renewal is a ``renewed`` record with the price changes.
  A contract that missed several terms catches up one term at a time.
- A contract that does not renew and whose end date has passed becomes ``ended``.
Running it twice for the same day changes nothing the second time.

The business rules this implements: docs/semantics.md#renewals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction

from nestogy.audit.actions import log_action
from nestogy.contracts.models import Contract, ContractItem, RenewalRecord
from nestogy.contracts.pricing import add_months
from nestogy.core.events import emit
from nestogy.core.money import quantize_money


@dataclass
class RenewalResult:
    notices: list[str] = field(default_factory=list)
    renewed: list[tuple[str, date, date]] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)


def renewed_end(end_date: date, months: int) -> date:
    return add_months(end_date + timedelta(days=1), months) - timedelta(days=1)


def uplifted(price: Decimal, percent: Decimal, currency: str) -> Decimal:
    return quantize_money(price * (Decimal(100) + percent) / Decimal(100), currency)


def process_renewals(company, today: date, *, dry_run: bool = False, actor=None
                     ) -> RenewalResult:
    result = RenewalResult()
    active = Contract.objects.filter(status=Contract.Status.ACTIVE, end_date__isnull=False)
    # notices (for every contract with an end date; auto-renew or not)
    for contract in active.filter(end_date__gte=today).order_by("id"):
        if contract.renewal_notice_sent_for == contract.end_date:
            continue
        if contract.end_date - timedelta(days=contract.renewal_notice_days) > today:
            continue
        result.notices.append(contract.public_id)
        if not dry_run:
            _send_notice(contract, actor=actor)
    for contract in active.filter(end_date__lte=today).order_by("id"):
        if contract.auto_renew:
            while contract.end_date <= today:
                previous = contract.end_date
                new_end = renewed_end(previous, contract.renewal_term_months)
                result.renewed.append((contract.public_id, previous, new_end))
                if dry_run:
                    contract.end_date = new_end
                    continue
                contract = _renew(contract, actor=actor)
        elif contract.end_date < today:
            result.ended.append(contract.public_id)
            if not dry_run:
                with transaction.atomic():
                    Contract.objects.filter(pk=contract.pk, status=Contract.Status.ACTIVE) \
                        .update(status=Contract.Status.ENDED)
                    log_action(contract, "contract.ended", actor=actor,
                               data={"end_date": contract.end_date.isoformat()})
    return result


@transaction.atomic
def _send_notice(contract: Contract, *, actor=None) -> None:
    try:
        with transaction.atomic():
            RenewalRecord.objects.create(company_id=contract.company_id, contract=contract,
                                         kind=RenewalRecord.Kind.NOTICE,
                                         previous_end_date=contract.end_date)
    except IntegrityError:
        return  # another worker sent it
    Contract.objects.filter(pk=contract.pk).update(renewal_notice_sent_for=contract.end_date)
    log_action(contract, "contract.renewal_notice", actor=actor,
               data={"end_date": contract.end_date.isoformat()})
    emit("contract.renewal_upcoming", company_id=contract.company_id, actor=actor,
         data={"contract_id": contract.pk, "end_date": contract.end_date.isoformat(),
               "auto_renew": contract.auto_renew,
               "renewal_term_months": contract.renewal_term_months,
               "uplift_percent": format(contract.renewal_uplift_percent.normalize(), "f")})


@transaction.atomic
def _renew(contract: Contract, *, actor=None) -> Contract:
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    previous = contract.end_date
    new_end = renewed_end(previous, contract.renewal_term_months)
    changes = []
    percent = contract.renewal_uplift_percent
    items = list(ContractItem.objects.filter(contract=contract, kind=ContractItem.Kind.FIXED))
    for item in items:
        old = item.unit_price
        item.unit_price = uplifted(old, percent, contract.currency) if percent else old
        changes.append({"item_id": item.public_id, "from": str(old),
                        "to": str(item.unit_price)})
    try:
        with transaction.atomic():
            RenewalRecord.objects.create(company_id=contract.company_id, contract=contract,
                                         kind=RenewalRecord.Kind.RENEWED,
                                         previous_end_date=previous, new_end_date=new_end,
                                         uplift_percent=percent, price_changes=changes)
    except IntegrityError:
        contract.refresh_from_db()
        return contract  # renewed concurrently
    if percent:
        ContractItem.objects.bulk_update(items, ["unit_price"])
    contract.end_date = new_end
    contract.save(update_fields=["end_date", "updated_at"])
    log_action(contract, "contract.renewed", actor=actor,
               data={"previous_end_date": previous.isoformat(),
                     "new_end_date": new_end.isoformat(), "uplift_percent": str(percent)})
    emit("contract.renewed", company_id=contract.company_id, actor=actor,
         data={"contract_id": contract.pk, "previous_end_date": previous.isoformat(),
               "new_end_date": new_end.isoformat(),
               "uplift_percent": format(percent.normalize(), "f")})
    return contract
