"""The recurring run as the billing clerk sees it: preview, then start, then follow.

- :func:`preview` is ``run_recurring(preview=True)`` (the very numbers of
  ``generate_recurring_invoices --preview``) laid out per client, with each invoice's
  change against the contract's previous period.
- :func:`start_run` records a :class:`BillingRun` (audited ``billing.run_started``) and
  hands it to the billing worker after the transaction commits.
- :func:`execute_run` is the worker's part: ``run_recurring`` with the run's date, choice of
  contracts and issue-or-draft, writing its progress after every batch and its summary at
  the end (audited ``billing.run_finished``). Each batch commits on its own, so a worker
  that dies half-way loses nothing; starting the run again (or the task being retried)
  bills only what is still unbilled.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Max

from nestogy.audit.actions import log_action
from nestogy.billing import recurring
from nestogy.billing.models import BillingRun, Invoice
from nestogy.clients.models import Client
from nestogy.contracts.models import Contract
from nestogy.core.errors import NotFound, ValidationError
from nestogy.core.money import money_str
from nestogy.core.timeutil import now as utc_now

ZERO = Decimal(0)
STALE_AFTER = timedelta(minutes=10)  # a running run not heard of for this long has stopped


@dataclass
class PreviewInvoice:
    planned: recurring.PlannedInvoice
    previous_total: Decimal | None  # the contract's previous period (billed or in this run)

    @property
    def change(self) -> Decimal | None:
        if self.previous_total is None:
            return None
        return self.planned.total - self.previous_total


@dataclass
class PreviewClient:
    client_id: int
    name: str
    public_id: str
    invoices: list[PreviewInvoice] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for inv in self.invoices:
            out[inv.planned.contract.currency] += inv.planned.total
        return dict(out)


@dataclass
class Preview:
    as_of: date
    clients: list[PreviewClient]
    invoices: int
    totals: dict[str, Decimal]
    contracts: int


def previous_totals(contract_ids: list[int]) -> dict[int, Decimal]:
    """Each contract's total of its latest billed period (two queries)."""
    latest = (Invoice.objects.filter(contract_id__in=contract_ids, kind=Invoice.Kind.INVOICE,
                                     period_start__isnull=False)
              .exclude(status=Invoice.Status.VOID)
              .values("contract_id").annotate(last=Max("period_start")).order_by())
    wanted = {(r["contract_id"], r["last"]) for r in latest}
    rows = (Invoice.objects.filter(contract_id__in={c for c, _ in wanted},
                                   period_start__in={d for _, d in wanted},
                                   kind=Invoice.Kind.INVOICE)
            .exclude(status=Invoice.Status.VOID)
            .values_list("contract_id", "period_start", "total"))
    return {c: total for c, start, total in rows if (c, start) in wanted}


def preview(company, as_of: date) -> Preview:
    """What a run as of ``as_of`` would bill, per client (see module)."""
    result = recurring.run_recurring(company, as_of, preview=True)
    planned = sorted(result.invoices, key=lambda p: (p.contract.pk, p.period_start))
    before = previous_totals(sorted({p.contract.pk for p in planned}))
    clients: dict[int, PreviewClient] = {}
    if planned:
        for pk, name, public_id in Client.objects.filter(
                pk__in={p.contract.client_id for p in planned}).values_list(
                "pk", "name", "public_id"):
            clients[pk] = PreviewClient(pk, name, public_id)
    last: dict[int, Decimal] = dict(before)
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for plan in planned:
        clients[plan.contract.client_id].invoices.append(
            PreviewInvoice(plan, last.get(plan.contract.pk)))
        if plan.period_start != plan.period_end:
            last[plan.contract.pk] = plan.total
        totals[plan.contract.currency] += plan.total
    ordered = sorted(clients.values(), key=lambda c: c.name.lower())
    return Preview(as_of, ordered, len(planned), dict(totals),
                   len({p.contract.pk for p in planned}))


def _contract_pks(public_ids: list[str]) -> list[int]:
    found = dict(Contract.objects.filter(public_id__in=public_ids)
                 .values_list("public_id", "pk"))
    missing = [p for p in public_ids if p not in found]
    if missing:
        raise ValidationError("contracts", f"unknown contract {missing[0]}")
    return sorted(found.values())


def start_run(company, as_of: date, *, issue: bool, contracts: list[str] | None = None,
              actor=None) -> BillingRun:
    """Record a run and queue it (see module); ``contracts`` are public ids, None for all."""
    recurring.check_as_of(company, as_of)
    if contracts is not None and not contracts:
        raise ValidationError("contracts", "select at least one contract")
    pks = _contract_pks(contracts) if contracts is not None else None
    from nestogy.billing import tasks
    from nestogy.core.tasks import enqueue_on_commit

    with transaction.atomic():
        run = BillingRun.objects.create(company=company, as_of=as_of, issue=issue,
                                        contract_ids=pks, started_by=actor)
        log_action(run, "billing.run_started", actor=actor,
                   data={"as_of": as_of.isoformat(), "issue": issue,
                         "contracts": len(pks) if pks is not None else "all"})
        enqueue_on_commit(tasks.execute_billing_run, company.pk, run.pk)
    return run


def restart_run(run: BillingRun, *, actor=None) -> BillingRun:
    """Start a stopped or failed run again with the same choices: what it billed already
    is not billed twice."""
    from nestogy.billing import tasks
    from nestogy.core.tasks import enqueue_on_commit

    if not (run.status == BillingRun.Status.FAILED or is_stale(run)):
        raise ValidationError("run", "only a failed or stopped run can be started again")
    with transaction.atomic():
        BillingRun.objects.filter(pk=run.pk).update(status=BillingRun.Status.QUEUED, error="",
                                                    updated_at=utc_now())
        log_action(run, "billing.run_restarted", actor=actor,
                   data={"as_of": run.as_of.isoformat()})
        enqueue_on_commit(tasks.execute_billing_run, run.company_id, run.pk)
    run.refresh_from_db()
    return run


def is_stale(run: BillingRun) -> bool:
    """A run marked running whose worker has not reported for STALE_AFTER."""
    return run.status == BillingRun.Status.RUNNING and run.updated_at < utc_now() - STALE_AFTER


def execute_run(run_id: int) -> BillingRun:
    """Bill a recorded run (the worker's task; see module)."""
    from nestogy.tenancy.models import Company

    run = BillingRun.objects.get(pk=run_id)
    if run.status == BillingRun.Status.DONE:
        return run
    company = Company.objects.get(pk=run.company_id)
    run.status = BillingRun.Status.RUNNING
    run.started_at = run.started_at or utc_now()
    run.error = ""
    run.save(update_fields=["status", "started_at", "error", "updated_at"])

    def progress(done: int, count: int) -> None:
        BillingRun.objects.filter(pk=run.pk).update(done=done, count=count,
                                                    updated_at=utc_now())

    def written(plans: list[recurring.PlannedInvoice]) -> None:
        # inside the batch's transaction: the run's record and its invoices commit together
        row = BillingRun.objects.select_for_update().get(pk=run.pk)
        totals = {c: Decimal(v) for c, v in (row.totals or {}).items()}
        for plan in plans:
            inv = plan.invoice
            row.invoice_ids.append(inv.pk)
            totals[inv.currency] = totals.get(inv.currency, ZERO) + inv.total
            if inv.status == Invoice.Status.DRAFT:
                row.drafts += 1
            else:
                row.issued += 1
        row.totals = {c: money_str(a, c) for c, a in sorted(totals.items())}
        row.save(update_fields=["invoice_ids", "totals", "issued", "drafts", "updated_at"])

    try:
        result = recurring.run_recurring(company, run.as_of, actor=run.started_by,
                                         contract_ids=run.contract_ids, issue=run.issue,
                                         on_written=written, progress=progress)
    except Exception as exc:
        BillingRun.objects.filter(pk=run.pk).update(
            status=BillingRun.Status.FAILED, error=str(exc)[:2000] or type(exc).__name__,
            finished_at=utc_now(), updated_at=utc_now())
        log_action(run, "billing.run_failed", data={"error": str(exc)[:500]})
        raise
    run.refresh_from_db()
    run.skipped += result.skipped
    run.status = BillingRun.Status.DONE
    run.done = run.count = max(run.count, run.done)
    run.finished_at = utc_now()
    run.save(update_fields=["skipped", "status", "done", "count", "finished_at", "updated_at"])
    log_action(run, "billing.run_finished", actor=run.started_by,
               data={"as_of": run.as_of.isoformat(), "invoices": len(run.invoice_ids),
                     "issued": run.issued, "drafts": run.drafts, "totals": run.totals})
    return run


def get_run(public_id: str) -> BillingRun:
    try:
        return BillingRun.objects.get(public_id=public_id)
    except BillingRun.DoesNotExist:
        raise NotFound("billing run not found") from None


def recent_runs(limit: int = 10) -> list[BillingRun]:
    return list(BillingRun.objects.select_related("started_by").order_by("-created_at")[:limit])
