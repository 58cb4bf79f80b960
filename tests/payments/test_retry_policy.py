"""The retry policy: defaults, company overrides, jitter, properties."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nestogy.payments.retry_policy import MAX_DELAY, RetryPolicy

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def test_default_schedule_is_1_2_4_8_days():
    policy = RetryPolicy()
    assert policy.schedule() == [DAY, 2 * DAY, 4 * DAY, 8 * DAY]
    assert [policy.next_retry_at(T0, n) for n in range(1, 5)] == [
        T0 + DAY, T0 + 2 * DAY, T0 + 4 * DAY, T0 + 8 * DAY]


def test_fifth_failure_exhausts():
    policy = RetryPolicy()
    assert policy.next_retry_at(T0, 5) is None
    assert policy.exhausted(5) and not policy.exhausted(4)


def test_zero_failures_is_a_programming_error():
    with pytest.raises(ValueError):
        RetryPolicy().delay_after(0)


@pytest.mark.parametrize("kwargs", [{"base": timedelta(0)}, {"factor": 0},
                                    {"max_retries": -1}, {"jitter": -DAY}])
def test_invalid_policies(kwargs):
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_company_overrides(in_a):
    company = in_a.company_a
    assert RetryPolicy.for_company(company) == RetryPolicy()
    company.set_setting("payments.retry_base_hours", 6)
    company.set_setting("payments.retry_factor", 3)
    company.set_setting("payments.max_retries", 2)
    company.set_setting("payments.retry_jitter_hours", 1)
    policy = RetryPolicy.for_company(company)
    assert policy.schedule() == [timedelta(hours=6), timedelta(hours=18)]
    assert policy.jitter == timedelta(hours=1)
    assert policy.next_retry_at(T0, 3) is None


def test_company_settings_are_validated(in_a):
    from nestogy.core.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        in_a.company_a.set_setting("payments.retry_factor", 0)
    assert info.value.field == "settings.payments.retry_factor"
    with pytest.raises(ValidationError):
        in_a.company_a.set_setting("payments.max_retries", "four")


class Fixed:
    def __init__(self, value):
        self.value = value

    def random(self):
        return self.value


def test_jitter_uses_the_injected_random_source():
    policy = RetryPolicy(jitter=timedelta(hours=2))
    assert policy.next_retry_at(T0, 1, rng=Fixed(0.0)) == T0 + DAY
    assert policy.next_retry_at(T0, 1, rng=Fixed(0.5)) == T0 + DAY + timedelta(hours=1)
    seeded = [policy.next_retry_at(T0, 2, rng=random.Random(7)) for _ in range(2)]
    assert seeded[0] == RetryPolicy(jitter=timedelta(hours=2)).next_retry_at(
        T0, 2, rng=random.Random(7))


def test_no_jitter_ignores_the_random_source():
    assert RetryPolicy().next_retry_at(T0, 1, rng=Fixed(0.99)) == T0 + DAY


policies = st.builds(RetryPolicy,
                     base=st.integers(1, 24 * 30).map(lambda h: timedelta(hours=h)),
                     factor=st.integers(1, 10), max_retries=st.integers(0, 20),
                     jitter=st.integers(0, 72).map(lambda h: timedelta(hours=h)))


@given(policy=policies, u=st.floats(0, 1, exclude_max=True))
def test_properties(policy, u):
    delays = policy.schedule()
    assert len(delays) == policy.max_retries
    # Never shrinking; each is factor times the previous until the cap.
    for earlier, later in itertools.pairwise(delays):
        assert later == min(earlier * policy.factor, MAX_DELAY)
    for n in range(1, policy.max_retries + 1):
        at = policy.next_retry_at(T0, n, rng=Fixed(u))
        assert T0 + delays[n - 1] <= at <= T0 + delays[n - 1] + policy.jitter
    assert policy.next_retry_at(T0, policy.max_retries + 1, rng=Fixed(u)) is None


@given(policy=policies)
def test_delays_are_exponential_then_capped(policy):
    for n, delay in enumerate(policy.schedule(), start=1):
        exact = policy.base.total_seconds() * policy.factor ** (n - 1)
        assert delay.total_seconds() == min(exact, MAX_DELAY.total_seconds())


def test_huge_settings_are_capped_not_overflowing():
    policy = RetryPolicy(base=timedelta(days=30), factor=10, max_retries=20)
    assert policy.schedule()[-1] == MAX_DELAY
    assert policy.schedule()[0] == timedelta(days=30)
