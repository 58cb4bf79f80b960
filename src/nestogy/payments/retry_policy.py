"""The retry policy for failed automatic payments (docs/payments.md). Pure: no I/O.

After the n-th consecutive failure of an automatic charge the next attempt waits
``base × factor^(n-1)`` (default base 1 day, factor 2: 1, 2, 4, 8 days), plus an optional
random jitter in ``[0, jitter]``. After ``max_retries`` retries have failed too (the
``max_retries + 1``-th failure; 5 failures with the defaults) the policy answers ``None``:
retries are exhausted and the invoice goes to collections.

No single delay exceeds :data:`MAX_DELAY` (90 days): large factors and retry counts allowed
by the settings are clamped rather than overflowing.

Companies override each number through their settings (``payments.retry_base_hours``,
``payments.retry_factor``, ``payments.max_retries``, ``payments.retry_jitter_hours``).

The business rules this implements: docs/semantics.md#automatic-charges-and-retries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

MAX_DELAY = timedelta(days=90)


class RandomSource(Protocol):
    def random(self) -> float: ...


@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(days=1)
    factor: int = 2
    max_retries: int = 4
    jitter: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.base <= timedelta(0):
            raise ValueError("base delay must be positive")
        if self.factor < 1:
            raise ValueError("factor must be at least 1")
        if self.max_retries < 0:
            raise ValueError("max_retries must not be negative")
        if self.jitter < timedelta(0):
            raise ValueError("jitter must not be negative")

    @classmethod
    def for_company(cls, company: Any) -> RetryPolicy:
        """The policy with the company's overrides (its settings registry values)."""
        return cls(base=timedelta(hours=int(company.get_setting("payments.retry_base_hours"))),
                   factor=int(company.get_setting("payments.retry_factor")),
                   max_retries=int(company.get_setting("payments.max_retries")),
                   jitter=timedelta(hours=int(company.get_setting(
                       "payments.retry_jitter_hours"))))

    def delay_after(self, failures: int) -> timedelta | None:
        """Base delay after ``failures`` consecutive failures (1-based); None = exhausted."""
        if failures < 1:
            raise ValueError("failures counts from 1")
        if failures > self.max_retries:
            return None
        seconds = int(self.base.total_seconds()) * self.factor ** (failures - 1)
        return min(timedelta(seconds=min(seconds, int(MAX_DELAY.total_seconds()))), MAX_DELAY)

    def schedule(self) -> list[timedelta]:
        """Every base delay in order (without jitter): ``[1d, 2d, 4d, 8d]`` by default."""
        return [self.delay_after(n) for n in range(1, self.max_retries + 1)]  # type: ignore[misc]

    def jitter_for(self, rng: RandomSource | None) -> timedelta:
        if not self.jitter:
            return timedelta(0)
        source = rng if rng is not None else random.SystemRandom()
        return timedelta(seconds=round(source.random() * self.jitter.total_seconds()))

    def next_retry_at(self, failed_at: datetime, failures: int, *,
                      rng: RandomSource | None = None) -> datetime | None:
        """When to try again after the ``failures``-th failure at ``failed_at``; None = stop."""
        delay = self.delay_after(failures)
        if delay is None:
            return None
        return failed_at + delay + self.jitter_for(rng)

    def exhausted(self, failures: int) -> bool:
        return failures > self.max_retries
