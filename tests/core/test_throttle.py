"""The shared throttle: client addresses behind proxies, the staff admin's sign-in, pruning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.utils import timezone

from tests.conftest import PASSWORD

ADMIN_LOGIN = "/admin/login/?next=/admin/"


def _request(remote="203.0.113.5", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(("count", "remote", "forwarded", "expected"), [
    (0, "203.0.113.5", "198.51.100.7", "203.0.113.5"),      # header ignored without proxies
    (1, "10.0.0.2", "198.51.100.7", "198.51.100.7"),
    (1, "10.0.0.2", "1.2.3.4, 198.51.100.7", "198.51.100.7"),  # client's own entry ignored
    (2, "10.0.0.3", "1.2.3.4, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
    (2, "10.0.0.3", "198.51.100.7", "10.0.0.3"),            # fewer hops than proxies
    (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
    (1, "10.0.0.2", None, "10.0.0.2"),
    (0, "2001:db8:1:2:aaaa::1", None, "2001:db8:1:2::"),     # IPv6 by its /64
    (0, "::ffff:192.0.2.1", None, "192.0.2.1"),
])
def test_client_ip_trusts_only_the_configured_proxies(settings, count, remote, forwarded,
                                                      expected):
    from nestogy.core import throttle

    settings.NESTOGY_TRUSTED_PROXY_COUNT = count
    assert throttle.client_ip(_request(remote, forwarded)) == expected


OPERATOR = "operator@nestogy.test"
SECOND_OPERATOR = "operator2@nestogy.test"


@pytest.fixture
def operators(personas):
    """The admin is for operators (superusers): two of them, the attacked and another."""
    from nestogy.accounts.models import User

    for email in (OPERATOR, SECOND_OPERATOR):
        User.objects.create_superuser(email, PASSWORD)
    return personas


def admin_login(http, email, password=PASSWORD, **extra):
    return http.post(ADMIN_LOGIN, {"username": email, "password": password,
                                   "next": "/admin/"}, **extra)


def test_admin_login_is_throttled_even_with_the_right_password(operators):
    """Attack: guess an operator's password in the admin. After five failures for one email the
    right password is refused too (429), and the message is the one an unknown email gets."""
    http = HttpClient()
    for n in range(5):
        response = admin_login(http, OPERATOR, f"wrong-{n}")
        assert response.status_code in (200, 429)
    locked = admin_login(http, OPERATOR)
    assert locked.status_code == 429
    assert "_auth_user_id" not in http.session
    text = locked.content.decode()
    assert "Too many failed sign-in attempts" in text

    ghost = HttpClient()
    for n in range(5):
        admin_login(ghost, "nobody@alpha.test", f"wrong-{n}")
    ghost_locked = admin_login(ghost, "nobody@alpha.test")
    assert ghost_locked.status_code == 429

    def message(response):
        return response.context["form"].non_field_errors()

    assert message(ghost_locked) == message(locked)
    # Another operator signs in normally.
    assert admin_login(HttpClient(), SECOND_OPERATOR).status_code == 302


def test_admin_login_per_address_limit_ignores_spoofed_forwarded_for(operators, settings):
    settings.NESTOGY_TRUSTED_PROXY_COUNT = 0
    http = HttpClient(REMOTE_ADDR="203.0.113.77")
    for n in range(20):
        admin_login(http, f"guess{n}@alpha.test", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    refused = admin_login(http, SECOND_OPERATOR, HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert refused.status_code == 429
    assert admin_login(HttpClient(REMOTE_ADDR="203.0.113.78"),
                       SECOND_OPERATOR).status_code == 302


def test_admin_login_still_works_and_a_wrong_password_is_a_plain_error(operators):
    response = admin_login(HttpClient(), OPERATOR, "wrong")
    assert response.status_code == 200
    assert "password of a platform operator" in response.content.decode()
    assert admin_login(HttpClient(), OPERATOR).status_code == 302


@pytest.mark.django_db
def test_pruning_removes_old_rows_only():
    from nestogy.core import throttle
    from nestogy.core.models import ThrottleHit
    from nestogy.ops.tasks import prune_throttle_hits

    now = timezone.now()
    old = ThrottleHit.objects.create(purpose="portal.login", key="a@x.test", ip="192.0.2.1",
                                     at=now - throttle.RETENTION - timedelta(minutes=1))
    recent = ThrottleHit.objects.create(purpose="portal.login", key="a@x.test",
                                        ip="192.0.2.1", at=now - timedelta(minutes=5))
    edge = ThrottleHit.objects.create(purpose="admin.login", key="b@x.test", ip=None,
                                      at=now - throttle.RETENTION + timedelta(minutes=1))
    assert prune_throttle_hits.call() == 1
    assert set(ThrottleHit.objects.values_list("pk", flat=True)) == {recent.pk, edge.pk}
    assert not ThrottleHit.objects.filter(pk=old.pk).exists()


def test_pruning_is_scheduled_hourly():
    from nestogy.ops.schedule import ENTRIES
    from nestogy.ops.tasks import prune_throttle_hits

    [entry] = [e for e in ENTRIES if e.task is prune_throttle_hits]
    minute, hour, *_ = entry.cron.split()
    assert minute.isdigit() and hour == "*"


@pytest.mark.django_db
def test_a_window_counts_only_recent_attempts():
    from nestogy.core import throttle
    from nestogy.core.models import ThrottleHit

    limit = throttle.Limit("test.limit", per_key=2, per_ip=5, window=timedelta(minutes=10))
    now = timezone.now()
    ThrottleHit.objects.create(purpose="test.limit", key="a@x.test", ip="192.0.2.1",
                               at=now - timedelta(minutes=11))
    throttle.hit(limit, "A@X.test ", "192.0.2.1")
    assert not throttle.is_throttled(limit, "a@x.test", "192.0.2.1")
    throttle.hit(limit, "a@x.test", "192.0.2.1")
    assert throttle.is_throttled(limit, "a@x.test", None)
    assert not throttle.is_throttled(limit, "b@x.test", "192.0.2.1")
    # Another purpose does not share the count.
    other = throttle.Limit("test.other", per_key=2, per_ip=5, window=timedelta(minutes=10))
    assert not throttle.is_throttled(other, "a@x.test", "192.0.2.1")
