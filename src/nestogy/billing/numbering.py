"""Gap-free invoice numbers per company: ``{prefix}{sequence:05d}`` (``INV-00001``).

The counter row is locked with ``SELECT ... FOR UPDATE`` in the issuing transaction and
advanced in the same transaction, so numbers are consumed only by committed invoices: a
rolled-back issue gives its number back, and two concurrent issues wait for each other.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from nestogy.billing.models import InvoiceCounter


def format_number(prefix: str, sequence: int) -> str:
    return f"{prefix}{sequence:05d}"


def locked_counter(company) -> InvoiceCounter:
    """The company's counter, locked until the current transaction ends (created if new)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("invoice numbers are taken inside the issuing transaction")
    counter = InvoiceCounter.objects.select_for_update().filter(company_id=company.pk).first()
    if counter is None:
        try:
            with transaction.atomic():
                InvoiceCounter.objects.create(
                    company_id=company.pk,
                    prefix=company.get_setting("billing.invoice_prefix") or "INV-")
        except IntegrityError:
            pass  # created concurrently
        counter = InvoiceCounter.objects.select_for_update().get(company_id=company.pk)
    return counter


def take_numbers(counter: InvoiceCounter, count: int) -> list[str]:
    """Reserve ``count`` consecutive numbers from a locked counter (saved at once)."""
    first = counter.next_value
    counter.next_value = first + count
    counter.save(update_fields=["next_value"])
    return [format_number(counter.prefix, first + i) for i in range(count)]
