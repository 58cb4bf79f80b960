"""/notifications, /notifications/{id}/read, /notifications/deliveries and
/notification-preferences."""

from __future__ import annotations

from django_scopes import scope, scopes_disabled

from nestogy.notifications.models import ChannelAddress, Delivery, Notification, Preference
from nestogy.notifications.sending import send_due
from tests.notifications.conftest import emit


def inbox_entry(p, persona, title="Hello", **kw):
    with scope(company=p.company_a.pk):
        return Notification.objects.create(company=p.company_a, user=persona.user,
                                           event_type="test.ping", title=title, body="b", **kw)


def test_inbox_lists_only_my_notifications_newest_first(personas, event_types):
    p = personas
    emit(p.company_a, users=[p.tech_a.user, p.tech2_a.user])
    emit(p.company_a, users=[p.tech_a.user], number="T-1002", subject="Second")
    send_due()
    response = p.tech_a.api.get("/notifications")
    assert response.status_code == 200
    items = response.data["items"]
    assert [i["title"] for i in items] == ["Ticket T-1002: Second",
                                           "Ticket T-1001: Printer on fire"]
    assert set(items[0]) == {"id", "event", "title", "body", "created_at", "read_at"}
    assert items[0]["event"] == "test.ping" and items[0]["read_at"] is None
    assert items[0]["body"].startswith("Hello Tech1,")
    assert len(p.tech2_a.api.get("/notifications").data["items"]) == 1
    assert p.owner_a.api.get("/notifications").data["items"] == []  # owner's default: email


def test_inbox_pagination_and_unread_filter(personas):
    p = personas
    for i in range(5):
        inbox_entry(p, p.tech_a, title=f"n{i}")
    first = p.tech_a.api.get("/notifications", limit=2)
    assert len(first.data["items"]) == 2 and first.data["next_cursor"]
    rest = p.tech_a.api.get("/notifications", limit=10, cursor=first.data["next_cursor"])
    assert len(rest.data["items"]) == 3
    read_id = first.data["items"][0]["id"]
    assert p.tech_a.api.post(f"/notifications/{read_id}/read").status_code == 200
    unread = p.tech_a.api.get("/notifications", unread="true").data["items"]
    assert read_id not in [i["id"] for i in unread] and len(unread) == 4
    assert [i["id"] for i in p.tech_a.api.get("/notifications", unread="false")
            .data["items"]] == [read_id]
    assert p.tech_a.api.get("/notifications", limit=0).status_code == 422


def test_mark_read_is_idempotent_and_private(personas):
    p = personas
    entry = inbox_entry(p, p.tech_a)
    first = p.tech_a.api.post(f"/notifications/{entry.public_id}/read")
    assert first.status_code == 200 and first.data["read_at"]
    again = p.tech_a.api.post(f"/notifications/{entry.public_id}/read")
    assert again.data["read_at"] == first.data["read_at"]
    # A colleague in the same company cannot read (or even see) it: 404 like a missing one.
    other = p.tech2_a.api.post(f"/notifications/{entry.public_id}/read")
    assert other.status_code == 404 and other.data["error"]["code"] == "not_found"


def test_inbox_query_count_does_not_grow(personas, django_assert_max_num_queries):
    p = personas
    for i in range(30):
        inbox_entry(p, p.tech_a, title=f"n{i}")
    with django_assert_max_num_queries(8):
        response = p.tech_a.api.get("/notifications", limit=30)
    assert len(response.data["items"]) == 30


def test_preferences_show_role_defaults_and_stored_choices(personas, event_types):
    p = personas
    response = p.tech_a.api.get("/notification-preferences")
    assert response.status_code == 200
    items = {i["event"]: i for i in response.data["items"]}
    assert items["test.ping"]["channels"] == {"email": True, "inapp": True, "sms": False,
                                              "slack": False}
    assert items["test.ping"]["description"] == "Test event test.ping"
    assert response.data["addresses"] == {
        "sms": {"set": False, "last4": None, "count": None, "error": None},
        "slack": {"set": False, "last4": None, "count": None, "error": None}}
    owner = {i["event"]: i for i in p.owner_a.api.get("/notification-preferences")
             .data["items"]}
    assert owner["test.ping"]["channels"]["inapp"] is False


def test_put_preferences_changes_what_is_delivered(personas, event_types):
    p = personas
    response = p.tech_a.api.put("/notification-preferences", {
        "preferences": [{"event": "test.ping", "channel": "email", "enabled": False},
                        {"event": "test.ping", "channel": "sms", "enabled": True}],
        "addresses": {"sms": "+1 555 000 1111"}})
    assert response.status_code == 200, response.data
    item = next(i for i in response.data["items"] if i["event"] == "test.ping")
    assert item["channels"] == {"email": False, "inapp": True, "sms": True, "slack": False}
    assert item["defaults"]["email"] is True
    # Addresses are write-only: whether set and the last 4 characters.
    assert response.data["addresses"]["sms"]["set"] is True
    assert response.data["addresses"]["sms"]["last4"] == "1111"
    with scope(company=p.company_a.pk):
        p.company_a.set_setting("notifications.sms_url", "json://127.0.0.1:9/{phone}")
        p.company_a.save()
    emit(p.company_a, users=[p.tech_a.user])
    with scopes_disabled():
        assert sorted(Delivery.objects.values_list("channel", flat=True)) == ["inapp", "sms"]
    # null resets a choice to the role's default
    reset = p.tech_a.api.put("/notification-preferences", {
        "preferences": [{"event": "test.ping", "channel": "email", "enabled": None}]})
    item = next(i for i in reset.data["items"] if i["event"] == "test.ping")
    assert item["channels"]["email"] is True


def test_put_preferences_bad_input_is_422_and_writes_nothing(personas, event_types):
    p = personas
    cases = [
        ({"preferences": [{"event": "no.such", "channel": "email", "enabled": True}]},
         "preferences[0].event"),
        ({"preferences": [{"event": "test.ping", "channel": "fax", "enabled": True}]},
         "preferences[0].channel"),
        ({"preferences": [{"event": "test.ping", "channel": "email", "enabled": True}],
          "addresses": {"sms": "call me maybe"}}, "addresses.sms"),
        ({"addresses": {"slack": "notaurl://x"}}, "addresses.slack"),
        ({"preferences": [{"event": "test.ping", "channel": "email"}]},
         "preferences[0].enabled"),
    ]
    for body, field in cases:
        response = p.tech_a.api.put("/notification-preferences", body)
        assert response.status_code == 422, (body, response.data)
        assert response.data["error"]["field"] == field, (body, response.data)
    with scopes_disabled():
        assert Preference.objects.count() == 0
        assert ChannelAddress.objects.count() == 0


def test_delivery_log_for_staff_leads(personas, event_types, receiver):
    p = personas
    with scope(company=p.company_a.pk):
        p.company_a.set_setting("notifications.slack_urls",
                                [f"json://user:secret@127.0.0.1:{receiver.port}/x"])
        p.company_a.save()
    event_types["technician"] = ("email", "slack")
    emit(p.company_a, users=[p.tech_a.user])
    emit(p.company_b, users=[p.tech_b.user])
    send_due()
    response = p.owner_a.api.get("/notifications/deliveries")
    assert response.status_code == 200
    items = response.data["items"]
    assert sorted(i["channel"] for i in items) == ["email", "slack"]
    slack = next(i for i in items if i["channel"] == "slack")
    assert slack["status"] == "sent" and slack["attempts"] == 1
    assert "secret" not in slack["target"]  # Apprise URLs carry credentials: redacted
    email_row = next(i for i in items if i["channel"] == "email")
    assert email_row["recipient_user_id"] == p.tech_a.user.public_id
    assert email_row["target"] == "tech1@alpha.test"
    filtered = p.owner_a.api.get("/notifications/deliveries", channel="slack").data["items"]
    assert [i["channel"] for i in filtered] == ["slack"]
    assert p.tech_a.api.get("/notifications/deliveries").status_code == 403


def test_delivery_log_query_count(personas, event_types, django_assert_max_num_queries):
    p = personas
    from nestogy.accounts.models import Membership, User

    users = User.objects.bulk_create([User(email=f"log{i}@alpha.test") for i in range(40)])
    with scope(company=p.company_a.pk):
        Membership.objects.bulk_create([Membership(company=p.company_a, user=u,
                                                   role="technician") for u in users])
    emit(p.company_a, users=users)
    with django_assert_max_num_queries(8):
        response = p.owner_a.api.get("/notifications/deliveries", limit=80)
    assert len(response.data["items"]) == 80


def test_preferences_query_count_does_not_grow_with_event_types(personas, event_types,
                                                                django_assert_max_num_queries):
    from nestogy.core import events

    p = personas
    for i in range(20):
        events.register(f"test.extra{i}", description="extra")
    try:
        with django_assert_max_num_queries(6):
            response = p.tech_a.api.get("/notification-preferences")
        assert len(response.data["items"]) >= 25
    finally:
        for i in range(20):
            events.REGISTRY.pop(f"test.extra{i}", None)


def test_read_all_marks_only_my_unread_entries(personas):
    p = personas
    for i in range(3):
        inbox_entry(p, p.tech_a, title=f"mine{i}")
    theirs = inbox_entry(p, p.tech2_a, title="theirs")
    response = p.tech_a.api.post("/notifications/read-all")
    assert response.status_code == 200 and response.data == {"updated": 3}
    assert p.tech_a.api.get("/notifications", unread="true").data["items"] == []
    assert p.tech_a.api.post("/notifications/read-all").data == {"updated": 0}
    with scopes_disabled():
        theirs.refresh_from_db()
    assert theirs.read_at is None
