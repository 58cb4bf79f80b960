"""A test to the company's own channels (notifications.company_channels): real deliveries
through the Apprise library to a local HTTP receiver (a JSON relay on 127.0.0.1, as the
company settings allow), refusals that name the reason and write nothing, private events and
events without wording never used, another company's events never used, and no secret URL
in the audit entry."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from nestogy.audit.models import AuditEntry
from nestogy.core import events
from nestogy.core.errors import Conflict
from nestogy.notifications import company_channels
from nestogy.notifications.models import ChannelAddress, Delivery, StoredEvent
from nestogy.tenancy.models import Company
from tests.notifications.conftest import emit
from tests.notifications.test_delivery import SLACK_SHAPE

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                         "QUEUES": ["default", "notifications", "billing", "sla"]}}


@pytest.fixture
def immediate(settings):
    settings.TASKS = IMMEDIATE


def configure(company, **values) -> Company:
    """Set company settings (dotted keys with ``__`` for ``.``) and return a fresh copy."""
    company = Company.objects.get(pk=company.pk)
    for key, value in values.items():
        company.set_setting(key.replace("__", "."), value)
    company.save()
    return Company.objects.get(pk=company.pk)


def phone(company, user, address="+15550002222"):
    with scope(company=company.pk):
        ChannelAddress.objects.create(company=company, user=user, channel="sms",
                                      address=address)


def written(company) -> tuple[int, list[str]]:
    """How many deliveries and which audit actions the company has."""
    with scopes_disabled():
        return (Delivery.objects.filter(company=company).count(),
                list(AuditEntry.objects.filter(company=company).order_by("id")
                     .values_list("action", flat=True)))


def test_slack_test_posts_the_latest_event_to_every_company_url(
        personas, event_types, receiver, immediate, django_capture_on_commit_callbacks):
    p = personas
    company = configure(p.company_a, notifications__slack_urls=[
        f"json://127.0.0.1:{receiver.port}/alerts{SLACK_SHAPE}",
        f"json://127.0.0.1:{receiver.port}/night{SLACK_SHAPE}"])
    emit(p.company_a, users=[p.tech_a.user])
    with scope(company=company.pk), django_capture_on_commit_callbacks(execute=True):
        queued = company_channels.send_test_slack(company, actor=p.owner_a.user)
    assert queued.event_type == "test.ping" and len(queued.deliveries) == 2
    # Sent by the real transport through Apprise's JSON plugin to the local receiver.
    assert sorted(r.path for r in receiver.requests) == ["/alerts", "/night"]
    for request in receiver.requests:
        assert request.json == {"text": "*Ticket T-1001: Printer on fire*\nHello company "
                                        'Slack,\n\nTicket T-1001 "Printer on fire" was opened '
                                        "for Acme Dental.\nPriority: high"}
    with scopes_disabled():
        rows = list(Delivery.objects.filter(channel="slack"))
    assert [(d.status, d.recipient_user_id, d.attempts) for d in rows] == \
        [("sent", None, 1)] * 2


def test_sms_test_goes_to_the_askers_number_through_the_gateway(
        personas, event_types, receiver, immediate, django_capture_on_commit_callbacks):
    p = personas
    company = configure(p.company_a, notifications__sms_url=(
        f"json://127.0.0.1:{receiver.port}/sms/{{phone}}"))
    phone(company, p.owner_a.user, "+15550002222")
    phone(company, p.tech_a.user, "+15550003333")  # someone else's number: not used
    emit(p.company_a, users=[p.tech_a.user])
    with scope(company=company.pk), django_capture_on_commit_callbacks(execute=True):
        queued = company_channels.send_test_sms(company, p.owner_a.user,
                                                actor=p.owner_a.user)
    assert queued.phone_last4 == "2222"
    [request] = receiver.requests
    assert request.path == "/sms/+15550002222"
    assert request.json["message"] == "NEW T-1001 Printer on fire (high)"  # the SMS wording
    [delivery] = queued.deliveries
    delivery.refresh_from_db()
    assert (delivery.channel, delivery.status, delivery.recipient_user_id) == \
        ("sms", "sent", p.owner_a.user.pk)


def test_the_saved_wording_is_used(personas, event_types, receiver, immediate,
                                   django_capture_on_commit_callbacks):
    from nestogy.notifications import overrides

    p = personas
    company = configure(p.company_a, notifications__slack_urls=[
        f"json://127.0.0.1:{receiver.port}/alerts{SLACK_SHAPE}"])
    emit(p.company_a, users=[p.tech_a.user])
    with scope(company=company.pk):
        overrides.save(company, "test.ping", "slack", {"title": "",
                                                       "body": "Slack says {{ subject }}"})
        with django_capture_on_commit_callbacks(execute=True):
            company_channels.send_test_slack(company)
    assert receiver.requests[0].json == {"text": "Slack says Printer on fire"}


@pytest.mark.parametrize(("setup", "channel", "reason"), [
    ("nothing", "slack", "no company Slack URL is set"),
    ("nothing", "sms", "no SMS gateway is set"),
    ("no_phone_token", "sms", "the SMS gateway URL has no {phone}"),
    ("configured", "sms-no-number", "you have no phone number for SMS"),
    ("configured", "sms-url-address", "you have no phone number for SMS"),
    ("configured-no-event", "slack", "no notification has gone out yet"),
    ("configured-no-event", "sms", "no notification has gone out yet"),
    ("configured-private-only", "slack", "no notification has gone out yet"),
    ("configured-private-only", "sms", "no notification has gone out yet"),
    ("configured-no-wording", "slack", "no notification has gone out yet"),
    ("configured-other-company", "slack", "no notification has gone out yet"),
])
def test_refusals_name_the_reason_and_write_nothing(personas, event_types, receiver, setup,
                                                    channel, reason):
    p = personas
    slack = [f"json://127.0.0.1:{receiver.port}/alerts{SLACK_SHAPE}"]
    gateway = f"json://127.0.0.1:{receiver.port}/sms/{{phone}}"
    company = Company.objects.get(pk=p.company_a.pk)
    if setup == "no_phone_token":
        company = configure(company, notifications__sms_url=gateway.replace("/{phone}", ""))
    elif setup.startswith("configured"):
        company = configure(company, notifications__slack_urls=slack,
                            notifications__sms_url=gateway)
    if channel == "sms-url-address":
        # A service URL of their own is not a number the company gateway can use.
        phone(company, p.owner_a.user, "twilio://AC0123456789abcdef:token@+15550001111"
                                       "/+15550002222")
    elif channel.startswith("sms") and setup != "configured":
        phone(company, p.owner_a.user)
    if setup in ("nothing", "no_phone_token", "configured"):
        emit(p.company_a, users=[p.tech_a.user])
    elif setup == "configured-private-only":
        events.register("test.plain", description="A private test event",
                        recipients=events.REGISTRY["test.plain"].recipients, private=True)
        emit(p.company_a, "test.plain", users=[p.tech_a.user])
    elif setup == "configured-no-wording":
        emit(p.company_a, "test.missing", users=[p.tech_a.user])  # no template files
    elif setup == "configured-other-company":
        emit(p.company_b, users=[p.tech_b.user])
    before = written(p.company_a)
    with scope(company=company.pk), pytest.raises(Conflict) as refused:
        if channel == "slack":
            company_channels.send_test_slack(company, actor=p.owner_a.user)
        else:
            company_channels.send_test_sms(company, p.owner_a.user, actor=p.owner_a.user)
    assert reason in str(refused.value)
    assert "127.0.0.1" not in str(refused.value)
    assert written(p.company_a) == before
    assert receiver.requests == []


def test_a_private_event_is_never_the_sample(personas, event_types, receiver, immediate,
                                             django_capture_on_commit_callbacks):
    p = personas
    company = configure(p.company_a, notifications__slack_urls=[
        f"json://127.0.0.1:{receiver.port}/alerts{SLACK_SHAPE}"])
    emit(p.company_a, users=[p.tech_a.user], subject="The public one")
    events.register("test.plain", description="A private test event",
                    recipients=events.REGISTRY["test.plain"].recipients, private=True)
    emit(p.company_a, "test.plain", users=[p.tech_a.user])  # newer, private
    with scopes_disabled():
        assert StoredEvent.objects.order_by("-id").first().type == "test.plain"
    with scope(company=company.pk), django_capture_on_commit_callbacks(execute=True):
        queued = company_channels.send_test_slack(company)
    assert queued.event_type == "test.ping"
    [request] = receiver.requests
    assert "The public one" in request.json["text"]
    with scopes_disabled():
        assert not Delivery.objects.filter(channel="slack", event_type="test.plain").exists()


def test_the_audit_entry_names_the_channel_and_no_secret(personas, event_types, receiver):
    p = personas
    token = "T0KEN-abcdef0123456789"
    company = configure(p.company_a, notifications__slack_urls=[
        f"json://127.0.0.1:{receiver.port}/{token}/a{SLACK_SHAPE}",
        f"json://127.0.0.1:{receiver.port}/{token}/b{SLACK_SHAPE}"],
        notifications__sms_url=f"json://127.0.0.1:{receiver.port}/{token}/{{phone}}")
    phone(company, p.owner_a.user, "+15550002222")
    emit(p.company_a, users=[p.tech_a.user])
    with scope(company=company.pk):
        company_channels.send_test_slack(company, actor=p.owner_a.user)
        company_channels.send_test_sms(company, p.owner_a.user, actor=p.owner_a.user)
    with scopes_disabled():
        entries = list(AuditEntry.objects.filter(company=company,
                                                 action="notification.test_sent")
                       .order_by("id"))
    assert [e.data for e in entries] == [
        {"channel": "slack", "event_type": "test.ping", "addresses": 2},
        {"channel": "sms", "event_type": "test.ping", "to": "owner@alpha.test",
         "phone_last4": "2222"}]
    assert all(e.actor_id == p.owner_a.user.pk for e in entries)
    text = json.dumps([[e.data, e.object_repr] for e in entries])
    assert token not in text and "json://" not in text and "127.0.0.1" not in text


def test_repeated_urls_are_posted_to_once(personas, event_types, receiver):
    p = personas
    url = f"json://127.0.0.1:{receiver.port}/alerts{SLACK_SHAPE}"
    company = Company.objects.get(pk=p.company_a.pk)
    # Stored before validation cleaned lists (or by hand): repeats and blanks are skipped.
    company = configure(company, notifications__slack_urls=[url, url])
    emit(p.company_a, users=[p.tech_a.user])
    with scope(company=company.pk):
        queued = company_channels.send_test_slack(company)
    assert len(queued.deliveries) == 1


def test_a_repeat_within_a_minute_is_refused_per_channel_and_person(personas, event_types,
                                                                     receiver):
    p = personas
    company = configure(p.company_a, notifications__slack_urls=[
        f"json://127.0.0.1:{receiver.port}/alerts{SLACK_SHAPE}"],
        notifications__sms_url=f"json://127.0.0.1:{receiver.port}/sms/{{phone}}")
    phone(company, p.owner_a.user, "+15550002222")
    phone(company, p.admin_a.user, "+15550004444")
    emit(p.company_a, users=[p.tech_a.user])
    with scope(company=company.pk):
        company_channels.send_test_slack(company, actor=p.owner_a.user)
        company_channels.send_test_sms(company, p.owner_a.user, actor=p.owner_a.user)
        before = written(company)
        with pytest.raises(Conflict, match="less than a minute ago"):
            company_channels.send_test_slack(company, actor=p.admin_a.user)
        with pytest.raises(Conflict, match="to your number less than a minute ago"):
            company_channels.send_test_sms(company, p.owner_a.user, actor=p.owner_a.user)
        assert written(company) == before
        # another person's number is their own test
        company_channels.send_test_sms(company, p.admin_a.user, actor=p.admin_a.user)
        with scopes_disabled():
            AuditEntry.objects.filter(action="notification.test_sent").update(
                created_at=timezone.now() - company_channels.PAUSE - timedelta(seconds=1))
        queued = company_channels.send_test_slack(company, actor=p.admin_a.user)
    assert len(queued.deliveries) == 1  # a minute later: sent again


def test_the_sample_is_the_newest_of_any_type_in_one_query(personas, django_assert_num_queries):
    p = personas
    moment = timezone.now() - timedelta(days=3)
    with scopes_disabled():
        for company, type_, hours in ((p.company_a, "ticket.created", 1),
                                      (p.company_a, "invoice.issued", 5),
                                      (p.company_a, "ticket.replied", 3),
                                      (p.company_a, "user.password_reset", 9),  # private
                                      (p.company_b, "ticket.assigned", 20)):  # not Alpha's
            StoredEvent.objects.create(company=company, type=type_, context={},
                                       occurred_at=moment + timedelta(hours=hours))
    with scope(company=p.company_a.pk), django_assert_num_queries(1):
        sample = company_channels.latest_sample(p.company_a)
    assert (sample.type, sample.occurred_at) == ("invoice.issued", moment + timedelta(hours=5))
    with scope(company=p.company_b.pk):
        assert company_channels.latest_sample(p.company_b).type == "ticket.assigned"


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_send_one_test(personas, event_types, receiver):
    """PostgreSQL: the second click waits for the first one's commit, then is refused."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers (set DATABASE_URL)")
    p = personas
    company = configure(p.company_a, notifications__slack_urls=[
        f"json://127.0.0.1:{receiver.port}/alerts{SLACK_SHAPE}"])
    emit(p.company_a, users=[p.tech_a.user])
    first_sent, release = threading.Event(), threading.Event()
    outcome = {}

    def click(name, hold):
        try:
            with scope(company=company.pk), transaction.atomic():
                company_channels.send_test_slack(company, actor=p.owner_a.user)
                if hold:
                    first_sent.set()
                    release.wait(10)
            outcome[name] = "sent"
        except Conflict as exc:
            outcome[name] = str(exc)
        finally:
            connection.close()

    first = threading.Thread(target=click, args=("first", True))
    first.start()
    assert first_sent.wait(10)
    second = threading.Thread(target=click, args=("second", False))
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting for the first click's transaction
    release.set()
    first.join(10)
    second.join(10)
    assert outcome["first"] == "sent" and "less than a minute ago" in outcome["second"]
    with scopes_disabled():
        assert Delivery.objects.filter(channel="slack").count() == 1
