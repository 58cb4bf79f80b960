"""Reads of invoices, the overdue aging report. The active company scope filters all."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Min, Prefetch, Q, QuerySet, Sum

from nestogy.billing.models import Invoice, InvoiceLine
from nestogy.clients.models import Client
from nestogy.core.errors import NotFound, ValidationError

AGING_BUCKETS = (("0", 0, 0), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90),
                 ("90+", 91, None))
OPEN = [Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.OVERDUE]


def invoices(*, status: str | None = None, client=None, overdue: bool | None = None,
             today: date | None = None) -> QuerySet[Invoice]:
    qs = Invoice.objects.select_related("client", "contract", "credits").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id")))
    if status:
        if status not in Invoice.Status.values:
            raise ValidationError("status", f"must be one of {', '.join(Invoice.Status.values)}")
        qs = qs.filter(status=status)
    if client is not None:
        qs = qs.filter(client=client)
    if overdue is True:
        qs = qs.filter(status__in=OPEN, balance__gt=0, due_date__lt=today)
    elif overdue is False:
        qs = qs.exclude(status__in=OPEN, balance__gt=0, due_date__lt=today)
    return qs


def get_invoice(public_id: str, field: str = "invoice") -> Invoice:
    invoice = invoices().filter(public_id=public_id).first()
    if invoice is None:
        raise NotFound(f"{field} not found")
    return invoice


def bucket_for(days_overdue: int) -> str:
    for name, lo, hi in AGING_BUCKETS:
        if days_overdue >= lo and (hi is None or days_overdue <= hi):
            return name
    return "0"


def aging(today: date, *, client=None) -> dict:
    """Open invoices with a balance, by days past due: 0 (not yet due), 1-30, ... 90+."""
    qs = Invoice.objects.filter(status__in=OPEN, balance__gt=0, kind=Invoice.Kind.INVOICE)
    if client is not None:
        qs = qs.filter(client=client)
    buckets = {name: {"bucket": name, "count": 0, "balance": Decimal(0)}
               for name, _, _ in AGING_BUCKETS}
    rows = []
    for invoice in qs.select_related("client").order_by("due_date", "id"):
        days = max(0, (today - invoice.due_date).days) if invoice.due_date else 0
        name = bucket_for(days)
        buckets[name]["count"] += 1
        buckets[name]["balance"] += invoice.balance
        rows.append((invoice, days, name))
    return {"buckets": list(buckets.values()), "rows": rows}


def open_invoices(client) -> QuerySet[Invoice]:
    """The client's issued invoices with a balance left to pay, the earliest due first."""
    return (Invoice.objects.filter(client=client, status__in=OPEN, balance__gt=0,
                                   kind=Invoice.Kind.INVOICE)
            .order_by("due_date", "id"))


def open_totals(client) -> list[dict]:
    """What the client owes: the open invoices' balance and count per currency (one query;
    a client is normally billed in one currency)."""
    return list(open_invoices(client).order_by().values("currency")
                .annotate(balance=Sum("balance"), count=Count("pk")).order_by("currency"))


def search_invoices(*, status: str | None = None, q: str | None = None,
                    overdue: bool = False, today: date | None = None,
                    issued_from: date | None = None, issued_to: date | None = None
                    ) -> QuerySet[Invoice]:
    """Invoices and credit notes for a list (no lines): ``status`` one of the statuses or
    ``open`` (issued, partially paid, overdue); ``q`` matches the number or the client's
    name; ``overdue`` keeps open ones past their due date on ``today``; issue dates from
    and to (inclusive)."""
    qs = Invoice.objects.select_related("client")
    if status == "open":
        qs = qs.filter(status__in=OPEN)
    elif status:
        if status not in Invoice.Status.values:
            raise ValidationError("status", f"must be one of {', '.join(Invoice.Status.values)}")
        qs = qs.filter(status=status)
    if q:
        # The clients matching the name first (a few of them), then their invoices.
        named = Client.objects.filter(name__icontains=q).values("pk")
        qs = qs.filter(Q(number__icontains=q) | Q(client__in=named))
    if overdue:
        qs = qs.filter(status__in=OPEN, balance__gt=0, due_date__lt=today)
    if issued_from:
        qs = qs.filter(issue_date__gte=issued_from)
    if issued_to:
        qs = qs.filter(issue_date__lte=issued_to)
    return qs


def invoice_totals(qs: QuerySet[Invoice]) -> list[dict]:
    """Count, total and balance per currency of a list's invoices (one query; credit notes
    count against the total)."""
    return list(qs.order_by().values("currency").annotate(
        count=Count("pk"), total=Sum("total"), balance=Sum("balance")).order_by("currency"))


def days_past_due(invoice: Invoice, today: date) -> int:
    """How many days an open invoice with a balance is past its due date on ``today`` (0 when
    it is not due yet, settled, void, a draft or a credit note)."""
    if (invoice.kind != Invoice.Kind.INVOICE or invoice.status not in OPEN
            or invoice.balance <= 0 or not invoice.due_date or invoice.due_date >= today):
        return 0
    return (today - invoice.due_date).days


AGING_COLUMNS = ("current", "d1_30", "d31_60", "d61_90", "d90")


def aging_totals(rows: list[dict]) -> list[dict]:
    """Per currency, over the rows of :func:`aging_by_client`: clients, the balance and each
    bucket's sum."""
    totals: dict[str, dict] = {}
    for row in rows:
        total = totals.setdefault(row["currency"], {
            "currency": row["currency"], "clients": 0, "balance": Decimal(0),
            **{key: Decimal(0) for key in AGING_COLUMNS}})
        total["clients"] += 1
        total["balance"] += row["owed"]
        for key in AGING_COLUMNS:
            total[key] += row[key]
    return [totals[c] for c in sorted(totals)]


def _days_late(today: date, low: int, high: int | None) -> Q:
    """Open invoices ``low`` to ``high`` days past their due date on ``today`` (0: not yet
    due, or no due date; ``high`` None: and more)."""
    if low == 0:
        return Q(due_date__gte=today) | Q(due_date__isnull=True)
    condition = Q(due_date__lte=today - timedelta(days=low))
    if high is not None:
        condition &= Q(due_date__gte=today - timedelta(days=high))
    return condition


def aging_by_client(today: date, *, overdue_only: bool = False) -> list[dict]:
    """What each client owes on open invoices, per currency, by days past due on ``today``:
    ``current`` (not yet due), ``d1_30``, ``d31_60``, ``d61_90``, ``d90`` (91 and more),
    with the count, the balance (``owed``) and the oldest due date; the longest overdue
    first. One
    aggregate query."""
    def bucket(low: int, high: int | None) -> Sum:
        return Sum("balance", filter=_days_late(today, low, high), default=Decimal(0))

    rows = list(Invoice.objects.filter(status__in=OPEN, balance__gt=0,
                                       kind=Invoice.Kind.INVOICE)
                .values("client_id", "client__public_id", "client__name", "currency")
                .annotate(count=Count("pk"), owed=Sum("balance"), oldest_due=Min("due_date"),
                          current=bucket(0, None), d1_30=bucket(1, 30), d31_60=bucket(31, 60),
                          d61_90=bucket(61, 90), d90=bucket(91, None))
                .order_by("oldest_due", "client__name", "currency"))
    for row in rows:
        oldest = row["oldest_due"]
        row["days_late"] = (today - oldest).days if oldest and oldest < today else 0
    return [r for r in rows if r["owed"] > r["current"]] if overdue_only else rows


def days_sales_outstanding(today: date, days: int = 90) -> list[dict]:
    """Per currency: what clients owe on open invoices now, what was invoiced in the last
    ``days`` days (issued invoices, less their credit notes), and DSO = owed / invoiced ×
    ``days`` (None when nothing was invoiced); two aggregate queries."""
    since = today - timedelta(days=days)
    owed = dict(Invoice.objects.filter(status__in=OPEN, balance__gt=0,
                                       kind=Invoice.Kind.INVOICE)
                .values("currency").annotate(s=Sum("balance")).order_by()
                .values_list("currency", "s"))
    billed_rows = (Invoice.objects.filter(issue_date__gt=since, issue_date__lte=today)
                   .exclude(status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID])
                   .values("currency", "kind").annotate(s=Sum("total")).order_by())
    billed: dict[str, Decimal] = {}
    for row in billed_rows:
        sign = -1 if row["kind"] == Invoice.Kind.CREDIT_NOTE else 1
        billed[row["currency"]] = billed.get(row["currency"], Decimal(0)) + sign * row["s"]
    out = []
    for currency in sorted(set(owed) | set(billed)):
        receivable = owed.get(currency) or Decimal(0)
        invoiced = billed.get(currency) or Decimal(0)
        out.append({"currency": currency, "receivable": receivable, "invoiced": invoiced,
                    "days": days,
                    "dso": (receivable / invoiced * days).quantize(Decimal("0.1"))
                    if invoiced > 0 else None})
    return out


def aging_buckets(today: date) -> list[dict]:
    """The buckets of :func:`aging` (count and balance of open invoices by days past due)
    in one aggregate query, for pages that need the totals but not every invoice."""
    aggs = {}
    for name, low, high in AGING_BUCKETS:
        condition = _days_late(today, low, high)
        aggs[f"n{name}"] = Count("id", filter=condition)
        aggs[f"s{name}"] = Sum("balance", filter=condition, default=Decimal(0))
    totals = Invoice.objects.filter(status__in=OPEN, balance__gt=0,
                                    kind=Invoice.Kind.INVOICE).aggregate(**aggs)
    return [{"bucket": name, "count": totals[f"n{name}"], "balance": totals[f"s{name}"]}
            for name, _, _ in AGING_BUCKETS]
