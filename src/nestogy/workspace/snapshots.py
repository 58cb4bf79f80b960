"""The dashboards' last figures, kept so a page opens from one row instead of re-reading
every ticket and contract of the company.

A dashboard page (``service:7``, ``service:30``, ``service:90``, ``revenue``) is computed by
``workspace.dashboards`` and stored in ``DashboardSnapshot`` with the time it was computed.
Opening the page shows the stored figures while they are fresh: computed less than
``MAX_AGE`` ago and on the company's current date. Otherwise the page computes them there and
then and stores them. The scheduler (``refresh_dashboards``, every five minutes) recomputes
in the background every page someone opened in the last ``WATCHED_FOR``, so those who read
the dashboards during the day seldom wait for a computation. Each page says when its figures
were computed and offers *Refresh now* (:func:`refresh`).

The stored figures are exactly what the computation returned: decimals, dates and aware
times are written as tagged JSON and read back with their type, so the tables and their CSV
downloads equal the API's reports on the data as it was at ``computed_at``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from nestogy.tenancy.queries import company_today
from nestogy.workspace.models import DashboardSnapshot

MAX_AGE = timedelta(minutes=5)
REFRESH_AFTER = timedelta(minutes=4)  # the scheduler runs every five minutes
WATCHED_FOR = timedelta(hours=24)
VIEW_STAMP_EVERY = timedelta(minutes=10)  # viewed_at is rewritten at most this often


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return {"$decimal": str(o)}
        if isinstance(o, datetime):
            return {"$datetime": o.isoformat()}
        if isinstance(o, date):
            return {"$date": o.isoformat()}
        return super().default(o)


def _decode(obj: dict) -> Any:
    if len(obj) == 1:
        (tag, value), = obj.items()
        if tag == "$decimal":
            return Decimal(value)
        if tag == "$datetime":
            return datetime.fromisoformat(value)
        if tag == "$date":
            return date.fromisoformat(value)
    return obj


def dumps(payload: Any) -> str:
    return json.dumps(payload, cls=_Encoder, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_decode)


@dataclass(frozen=True)
class Figures:
    payload: Any
    computed_at: datetime
    compute_ms: int


def _store(company, key: str, payload: Any, compute_ms: int, computed_at: datetime,
           today: date, viewed: bool) -> None:
    fields = {"payload": dumps(payload), "computed_at": computed_at, "compute_ms": compute_ms,
              "local_date": today}
    if viewed:
        fields["viewed_at"] = computed_at
    if DashboardSnapshot.objects.filter(company=company, key=key).update(**fields):
        return
    fields.setdefault("viewed_at", computed_at)
    try:
        with transaction.atomic():
            DashboardSnapshot.objects.create(company=company, key=key, **fields)
    except IntegrityError:  # another request stored it meanwhile: ours is as new
        DashboardSnapshot.objects.filter(company=company, key=key).update(**fields)


def refresh(company, key: str, compute: Callable[[], Any], *, viewed: bool = True) -> Figures:
    """Compute the page now and store it."""
    today = company_today(company)
    started = time.perf_counter()
    payload = compute()
    compute_ms = round((time.perf_counter() - started) * 1000)
    computed_at = timezone.now()
    _store(company, key, payload, compute_ms, computed_at, today, viewed)
    # read back through the same decoding as a stored page, so both paths show the same
    return Figures(loads(dumps(payload)), computed_at, compute_ms)


def current(company, key: str, compute: Callable[[], Any]) -> Figures:
    """The page's figures: the stored ones while fresh (one query), else computed now."""
    row = (DashboardSnapshot.objects.filter(company=company, key=key)
           .only("payload", "computed_at", "compute_ms", "local_date", "viewed_at").first())
    now = timezone.now()
    if row is not None and now - row.computed_at < MAX_AGE \
            and row.local_date == company_today(company):
        if now - row.viewed_at >= VIEW_STAMP_EVERY:
            DashboardSnapshot.objects.filter(pk=row.pk).update(viewed_at=now)
        return Figures(loads(row.payload), row.computed_at, row.compute_ms)
    return refresh(company, key, compute)


def due(now: datetime | None = None) -> dict[int, list[str]]:
    """Per company, the pages opened in the last day whose figures are due a refresh (all
    companies; the scheduler's view)."""
    now = now or timezone.now()
    out: dict[int, list[str]] = {}
    rows = (DashboardSnapshot.objects
            .filter(viewed_at__gte=now - WATCHED_FOR, computed_at__lte=now - REFRESH_AFTER,
                    company__is_active=True)
            .order_by("company_id", "key").values_list("company_id", "key"))
    for company_id, key in rows:
        out.setdefault(company_id, []).append(key)
    return out


def keys_due(company, now: datetime | None = None) -> list[str]:
    """The company's watched pages that are due a refresh (stale or of an earlier day)."""
    now = now or timezone.now()
    today = company_today(company)
    rows = (DashboardSnapshot.objects.filter(company=company, viewed_at__gte=now - WATCHED_FOR)
            .values_list("key", "computed_at", "local_date"))
    return sorted(key for key, computed_at, local_date in rows
                  if now - computed_at >= REFRESH_AFTER or local_date != today)
