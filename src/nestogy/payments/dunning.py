"""The dunning job: retry due failed charges, reconcile unanswered ones and start auto-pay for
open invoices that never got an attempt, one company at a time (:func:`run_dunning`).

Each due row is claimed with a conditional UPDATE before anything is sent, so two workers
running at once never act on the same row; each retry is a new attempt with its own
idempotency key; reconciliation re-sends the unanswered attempt's own key. The hourly
scheduler hands out one task per company (``payments.tasks``);
:func:`process_failed_payments` runs every company with due work in one process (the
management command).

The business rules this implements: docs/semantics.md#automatic-charges-and-retries.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from nestogy.billing.models import Invoice
from nestogy.billing.settlement import OPEN, lock_invoice
from nestogy.core.errors import Conflict
from nestogy.payments.charging import new_attempt, run_attempt, start_charge
from nestogy.payments.gateways import Gateway
from nestogy.payments.methods import method_for
from nestogy.payments.models import PaymentAttempt, PaymentMethodOnFile
from nestogy.tenancy.models import Company


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


@dataclass
class DunningReport:
    dry_run: bool
    due: list[dict[str, Any]] = field(default_factory=list)
    charged: int = 0
    succeeded: int = 0
    declined: int = 0
    unknown: int = 0
    errors: int = 0
    exhausted: int = 0
    cancelled: int = 0
    skipped: int = 0
    auto_pay_started: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "dry_run", "due", "charged", "succeeded", "declined", "unknown", "errors",
            "exhausted", "cancelled", "skipped", "auto_pay_started")}


def _claim(attempt_id: int, now: datetime, worker: str) -> bool:
    """Take a due row for this worker: a conditional UPDATE only one process can win."""
    return PaymentAttempt.objects.filter(pk=attempt_id, next_retry_at__isnull=False,
                                         next_retry_at__lte=now).update(
        next_retry_at=None, claimed_by=worker, claimed_at=now) == 1


def _tally(report: DunningReport, attempt: PaymentAttempt) -> None:
    report.charged += 1
    status = attempt.status
    if status == PaymentAttempt.Status.SUCCEEDED:
        report.succeeded += 1
    elif status == PaymentAttempt.Status.DECLINED:
        report.declined += 1
        if attempt.next_retry_at is None:
            report.exhausted += 1
    elif status == PaymentAttempt.Status.UNKNOWN:
        report.unknown += 1
    else:
        report.errors += 1


@transaction.atomic
def _next_for_retry(attempt_id: int, worker: str) -> PaymentAttempt | None:
    """After claiming a declined attempt: the next attempt, or None (invoice settled)."""
    attempt = PaymentAttempt.objects.select_related("payment_method").get(pk=attempt_id)
    invoice = lock_invoice(attempt.invoice_id)
    if invoice.status not in OPEN or invoice.balance <= 0:
        return None
    method = attempt.payment_method if (attempt.payment_method
                                        and attempt.payment_method.is_active) else \
        method_for(invoice.client_id, auto_pay_only=False)
    if method is None:
        return None
    return new_attempt(invoice, method, trigger="retry", worker=worker)


def _auto_pay_backlog(company_id: int) -> list[int]:
    """Open invoices of auto-pay clients that were never attempted (issued since the card)."""
    methods = dict(PaymentMethodOnFile.objects.filter(auto_pay=True, is_active=True)
                   .values_list("client_id", "created_at"))
    if not methods:
        return []
    rows = (Invoice.objects.filter(client_id__in=list(methods), kind=Invoice.Kind.INVOICE,
                                   status__in=OPEN, balance__gt=0,
                                   payment_attempts__isnull=True)
            .values_list("id", "client_id", "issue_date"))
    return [pk for pk, client_id, issued in rows
            if issued is None or issued >= methods[client_id].date()]


def run_dunning(company: Company, *, now: datetime | None = None, dry_run: bool = False,
                worker: str | None = None, gateway: Gateway | None = None, limit: int = 1000,
                progress: Any = None, report: DunningReport | None = None) -> DunningReport:
    """One company's due retries, reconciliations and auto-pay backlog (in its scope).

    ``report`` adds to a report already started (the all-companies run); ``limit`` caps the
    due rows taken in one run (the rest wait for the next one).
    """
    now = now or timezone.now()
    worker = worker or worker_name()
    report = report if report is not None else DunningReport(dry_run=dry_run)
    company_id = company.pk
    with scope(company=company_id):
        due = list(PaymentAttempt.objects.filter(next_retry_at__lte=now)
                   .select_related("invoice").order_by("next_retry_at", "id")[:limit])
        backlog = _auto_pay_backlog(company_id)
        if dry_run:
            for attempt in due:
                report.due.append({
                    "company_id": company_id, "invoice": attempt.invoice.number,
                    "attempt": attempt.attempt_number, "amount": str(attempt.invoice.balance),
                    "action": ("reconcile" if attempt.status in (
                        PaymentAttempt.Status.UNKNOWN, PaymentAttempt.Status.PENDING)
                        else "retry"),
                    "due_at": attempt.next_retry_at.isoformat()})
            for invoice in Invoice.objects.filter(pk__in=backlog):
                report.due.append({"company_id": company_id, "invoice": invoice.number,
                                   "attempt": 1, "amount": str(invoice.balance),
                                   "action": "auto_pay", "due_at": None})
            return report
        for attempt in due:
            # Claim and create the follow-up in one transaction: a crash loses neither.
            with transaction.atomic():
                if not _claim(attempt.pk, now, worker):
                    report.skipped += 1
                    continue
                if attempt.status in (PaymentAttempt.Status.UNKNOWN,
                                      PaymentAttempt.Status.PENDING):
                    target = attempt.pk
                else:
                    nxt = _next_for_retry(attempt.pk, worker)
                    if nxt is None:  # paid or voided meanwhile: the chain ends
                        report.cancelled += 1
                        continue
                    target = nxt.pk
            result = run_attempt(target, gateway=gateway)
            _tally(report, result)
            if progress:
                progress(result)
        for invoice_id in backlog:
            invoice = Invoice.objects.get(pk=invoice_id)
            try:
                attempt = start_charge(invoice, trigger="auto_pay", auto_pay_only=True)
            except (Conflict, IntegrityError):
                report.skipped += 1
                continue
            report.auto_pay_started += 1
            result = run_attempt(attempt.pk, gateway=gateway)
            _tally(report, result)
            if progress:
                progress(result)
    return report


def companies_with_work(now: datetime) -> list[int]:
    """Companies with a due attempt or an active auto-pay card (any may have work)."""
    with scopes_disabled():
        return sorted(
            set(PaymentAttempt.objects.filter(next_retry_at__lte=now)
                .values_list("company_id", flat=True).distinct())
            | set(PaymentMethodOnFile.objects.filter(auto_pay=True, is_active=True)
                  .values_list("company_id", flat=True).distinct()))


def process_failed_payments(*, now: datetime | None = None, dry_run: bool = False,
                            worker: str | None = None, gateway: Gateway | None = None,
                            limit: int = 1000, progress: Any = None) -> DunningReport:
    """:func:`run_dunning` for every company with work, in this process, one after another
    (``nestogy process_failed_payments``; the scheduler runs one task per company instead)."""
    now = now or timezone.now()
    worker = worker or worker_name()
    report = DunningReport(dry_run=dry_run)
    for company_id in companies_with_work(now):
        with scopes_disabled():
            company = Company.objects.get(pk=company_id)
        run_dunning(company, now=now, dry_run=dry_run, worker=worker, gateway=gateway,
                    limit=limit, progress=progress, report=report)
    return report
