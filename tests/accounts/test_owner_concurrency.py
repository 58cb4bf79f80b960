"""PostgreSQL: two owners demote each other at the same moment; one stays an owner.

Each thread has its own connection. Both demotions are held just before they commit (at their
audit entry) until the other arrives there too, or 2 s pass: without a lock both would have
checked "another active owner exists" and both commit, leaving the company without an owner.
With the owners locked first, the second waits for the first, re-reads and is refused.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django_scopes import scope, scopes_disabled

from nestogy.accounts import actions
from nestogy.accounts.models import Membership
from nestogy.core.errors import Conflict

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def test_two_concurrent_owner_demotions_leave_one_active_owner(transactional_db, personas,
                                                               monkeypatch):
    p = personas
    with scope(company=p.company_a.pk):
        second = actions.add_member(p.company_a, email="owner2@alpha.test", role="owner")
    first = p.owner_a.membership
    both_at_commit = threading.Barrier(2)
    real_log_action = actions.log_action

    def log_then_wait(obj, action, **kwargs):
        entry = real_log_action(obj, action, **kwargs)
        if action == "user.updated":
            try:
                both_at_commit.wait(timeout=2)
            except threading.BrokenBarrierError:
                pass
        return entry

    monkeypatch.setattr(actions, "log_action", log_then_wait)
    outcomes: dict[str, str] = {}
    start = threading.Barrier(2)

    def demote(name, membership, actor):
        try:
            with scope(company=p.company_a.pk):
                start.wait()
                actions.update_member(membership, {"role": "admin"}, actor=actor,
                                      actor_role="owner")
            outcomes[name] = "demoted"
        except Conflict:
            outcomes[name] = "refused"
        except BaseException as exc:  # pragma: no cover - reported below
            outcomes[name] = f"error: {exc!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=demote, args=("first", first, second.user)),
               threading.Thread(target=demote, args=("second", second, first.user))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes.values()) == ["demoted", "refused"], outcomes
    with scopes_disabled():
        owners = Membership.objects.filter(company=p.company_a, role="owner", is_active=True)
        assert owners.count() == 1
