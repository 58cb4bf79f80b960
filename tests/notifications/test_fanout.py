"""Fan-out: one event becomes outbox rows per recipient × channel, inside the caller's
transaction, following preferences (defaults by role, stored choices, cache)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_scopes import scope, scopes_disabled

from nestogy.accounts.actions import add_member
from nestogy.notifications import preferences
from nestogy.notifications.models import (
    ChannelAddress,
    Delivery,
    Notification,
    Preference,
    StoredEvent,
    WebhookEndpoint,
)
from nestogy.notifications.sending import send_due
from tests.notifications.conftest import emit


def _key(row):
    return (row[0], row[1] or 0, row[2])


def srt(items):
    return sorted(items, key=_key)


def rows(company):
    with scopes_disabled():
        return sorted(((d.channel, d.recipient_user_id, d.target)
                       for d in Delivery.objects.filter(company=company)), key=_key)


def test_defaults_by_role_and_contacts(personas, event_types):
    p = personas
    emit(p.company_a, users=[p.tech_a.user, p.owner_a.user, p.billing_a.user],
         contacts=[{"email": "dana@acme.test", "name": "Dana"}])
    assert rows(p.company_a) == srt([
        ("email", p.tech_a.user.pk, "tech1@alpha.test"),
        ("inapp", p.tech_a.user.pk, ""),
        ("email", p.owner_a.user.pk, "owner@alpha.test"),
        ("inapp", p.billing_a.user.pk, ""),
        ("email", None, "dana@acme.test"),
    ])


def test_stored_preferences_win_over_role_defaults(personas, event_types):
    p = personas
    with scope(company=p.company_a.pk):
        Preference.objects.create(company=p.company_a, user=p.tech_a.user,
                                  event_type="test.ping", channel="email", enabled=False)
        Preference.objects.create(company=p.company_a, user=p.owner_a.user,
                                  event_type="test.ping", channel="inapp", enabled=True)
    emit(p.company_a, users=[p.tech_a.user, p.owner_a.user])
    assert rows(p.company_a) == srt([
        ("inapp", p.tech_a.user.pk, ""),
        ("email", p.owner_a.user.pk, "owner@alpha.test"),
        ("inapp", p.owner_a.user.pk, ""),
    ])


def test_users_of_other_companies_and_inactive_members_get_nothing(personas, event_types):
    p = personas
    emit(p.company_a, users=[p.tech_b.user])
    assert rows(p.company_a) == []
    assert rows(p.company_b) == []


def test_duplicate_targets_are_sent_once_and_webhooks_added(personas, event_types, receiver):
    p = personas
    with scope(company=p.company_a.pk):
        WebhookEndpoint.objects.create(company=p.company_a, name="PSA bridge",
                                       url=receiver.url(), secret="s3cret",
                                       event_types=["test.ping"])
        WebhookEndpoint.objects.create(company=p.company_a, name="Other events only",
                                       url=receiver.url("/other"), secret="x",
                                       event_types=["invoice.issued"])
    emit(p.company_a, users=[p.tech_a.user, p.tech_a.user],
         contacts=[{"email": "tech1@alpha.test"}])
    assert rows(p.company_a) == srt([
        ("email", p.tech_a.user.pk, "tech1@alpha.test"),
        ("inapp", p.tech_a.user.pk, ""),
        ("webhook", None, receiver.url()),
    ])


def test_slack_and_sms_targets(personas, event_types):
    p = personas
    event_types["technician"] = ("sms", "slack")
    with scope(company=p.company_a.pk):
        company = p.company_a
        company.set_setting("notifications.slack_urls", ["json://127.0.0.1:9/slack"])
        company.set_setting("notifications.sms_url", "json://127.0.0.1:9/sms/{phone}")
        company.save()
        ChannelAddress.objects.create(company=company, user=p.tech2_a.user, channel="slack",
                                      address="json://127.0.0.1:9/mine")
        ChannelAddress.objects.create(company=company, user=p.tech_a.user, channel="sms",
                                      address="+15550001111")
    emit(p.company_a, users=[p.tech_a.user, p.tech2_a.user, p.manager_a.user])
    got = [r for r in rows(p.company_a) if r[0] in {"sms", "slack"}]
    # The company channel is posted to once per event, a personal Slack URL per user; a
    # technician without a phone number gets no SMS.
    assert got == srt([
        ("sms", p.tech_a.user.pk, "json://127.0.0.1:9/sms/+15550001111"),
        ("slack", None, "json://127.0.0.1:9/slack"),
        ("slack", p.tech2_a.user.pk, "json://127.0.0.1:9/mine"),
    ])


def test_preferences_are_cached_and_invalidated_on_change(personas, event_types,
                                                          django_assert_num_queries):
    p = personas
    cid = p.company_a.pk
    assert preferences.stored_choices(cid, "test.ping") == {}
    with django_assert_num_queries(0):
        assert preferences.stored_choices(cid, "test.ping") == {}
    from nestogy.accounts.queries import principal_for_membership
    from nestogy.notifications.actions import update_preferences

    with scope(company=cid):
        update_preferences(principal_for_membership(p.tech_a.membership),
                           [{"event": "test.ping", "channel": "sms", "enabled": True}])
    assert preferences.stored_choices(cid, "test.ping") == {p.tech_a.user.pk: {"sms": True}}


def test_a_rolled_back_transaction_writes_and_sends_nothing(
        personas, event_types, settings, django_capture_on_commit_callbacks, mailoutbox):
    p = personas
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": []}}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            emit(p.company_a, users=[p.tech_a.user])
            with scopes_disabled():
                assert Delivery.objects.count() == 2  # written inside the transaction...
            raise RuntimeError("the action failed after emitting")
    assert callbacks == []
    with scopes_disabled():
        assert Delivery.objects.count() == 0  # ...and gone with it
        assert StoredEvent.objects.count() == 0
        assert Notification.objects.count() == 0
    assert mailoutbox == []


def test_commit_enqueues_the_sending_task_which_delivers(
        personas, event_types, settings, django_capture_on_commit_callbacks, mailoutbox):
    p = personas
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": []}}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        emit(p.company_a, users=[p.tech_a.user])
        assert mailoutbox == []  # nothing is sent before the commit
    assert len(callbacks) == 1
    assert [m.to for m in mailoutbox] == [["tech1@alpha.test"]]
    with scopes_disabled():
        assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
        inbox = Notification.objects.get(user=p.tech_a.user)
    assert inbox.title == "Ticket T-1001: Printer on fire"


def test_on_commit_task_goes_to_the_notifications_queue(personas, event_types,
                                                        django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    p = personas
    with django_capture_on_commit_callbacks(execute=True):
        emit(p.company_a, users=[p.tech_a.user])
    task = DBTaskResult.objects.get()
    assert task.queue_name == "notifications"
    assert task.task_path == "nestogy.notifications.tasks.send_event_deliveries"
    assert task.args_kwargs["args"][0] == p.company_a.pk


@pytest.mark.parametrize("n", [100, 10_000])
def test_fan_out_to_many_recipients_has_a_bounded_query_count(
        personas, event_types, n, django_assert_max_num_queries):
    from nestogy.accounts.models import Membership, User

    p = personas
    company = p.company_a
    users = User.objects.bulk_create([User(email=f"bulk{i}@alpha.test", name=f"Bulk {i}")
                                      for i in range(n)])
    with scope(company=company.pk):
        Membership.objects.bulk_create([Membership(company=company, user=u, role="technician")
                                        for u in users])
    # 2 deliveries per recipient (email + in-app) → 2n rows in batches of 1000.
    inserts = -(-2 * n // 1000)
    with django_assert_max_num_queries(12 + inserts):
        emit(company, users=users)
    with scopes_disabled():
        assert Delivery.objects.filter(company=company).count() == 2 * n


def test_sending_a_large_fan_out_is_batched(personas, event_types, mailoutbox, settings,
                                            django_assert_max_num_queries):
    from nestogy.accounts.models import Membership, User

    settings.NESTOGY_NOTIFY_BATCH_SIZE = 250
    p = personas
    users = User.objects.bulk_create([User(email=f"many{i}@alpha.test") for i in range(600)])
    with scope(company=p.company_a.pk):
        Membership.objects.bulk_create([Membership(company=p.company_a, user=u,
                                                   role="technician") for u in users])
    emit(p.company_a, users=users)
    # 1,200 deliveries in 5 batches; per batch: claim (3), overrides, inbox insert, results.
    with django_assert_max_num_queries(5 * 12 + 2):
        counts = send_due()
    assert counts == {"sent": 1200}
    assert len(mailoutbox) == 600
    with scopes_disabled():
        assert Notification.objects.filter(company=p.company_a).count() == 600


def test_new_member_without_preferences_uses_defaults(personas, event_types):
    p = personas
    with scope(company=p.company_a.pk):
        m = add_member(p.company_a, email="newbie@alpha.test", role="billing")
    emit(p.company_a, users=[m.user])
    assert rows(p.company_a) == [("inapp", m.user.pk, "")]


def test_context_values_are_stored_as_json(personas, event_types):
    from datetime import date
    from decimal import Decimal

    p = personas
    emit(p.company_a, users=[p.tech_a.user], amount=Decimal("10.50"), due=date(2026, 1, 31),
         client_obj=p.client_a)
    with scopes_disabled():
        context = StoredEvent.objects.get().context
    assert context["amount"] == "10.50" and context["due"] == "2026-01-31"
    assert context["client_obj"] == "Acme Dental"  # not JSON: kept as text, action not broken


def test_emit_many_writes_a_batch_with_a_constant_number_of_queries(personas, event_types):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from nestogy.core import events
    from nestogy.notifications.models import Delivery, StoredEvent

    p = personas
    users = [p.tech_a.user, p.owner_a.user]

    def batch(n):
        items = [("test.ping", {"number": f"T-{i}", "subject": "Disk full", "client": "Acme",
                                "priority": "low", "user_ids": [u.pk for u in users],
                                "contacts": []}) for i in range(n)]
        with scope(company=p.company_a.pk), transaction.atomic(), \
                CaptureQueriesContext(connection) as queries:
            events.emit_many(items, company_id=p.company_a.pk)
        return len(queries)

    small, large = batch(2), batch(40)
    assert large <= small + 1  # +1: a second INSERT batch of deliveries is allowed
    with scope(company=p.company_a.pk):
        assert StoredEvent.objects.filter(type="test.ping").count() == 42
        # tech: email + inapp; owner: email → 3 deliveries per event
        assert Delivery.objects.filter(event_type="test.ping").count() == 42 * 3
