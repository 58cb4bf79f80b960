"""Server-side request forgery through webhooks and Apprise targets: every attack of the
review, performed against real HTTP servers on loopback addresses.

Unless a test says otherwise the operator allows no private network at all (the test
settings allow 127.0.0.0/8 for the other notification suites), so any request that reaches
a local server here is a hole.
"""

from __future__ import annotations

import json

import pytest
from django_scopes import scope, scopes_disabled

from nestogy.notifications.models import ChannelAddress, Delivery, WebhookEndpoint
from nestogy.notifications.sending import send_due
from nestogy.tenancy.models import Company
from tests.netlab import PUBLIC_IP, SECRET, ConnectRecorder, FakeDNS, Server, endless
from tests.notifications.conftest import emit


@pytest.fixture
def internal():
    """An 'internal service' on 127.0.0.1 that answers every request with a secret."""
    server = Server("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture
def other_internal():
    server = Server("127.0.0.2")
    yield server
    server.stop()


def deliveries(company):
    with scopes_disabled():
        return list(Delivery.objects.filter(company=company).order_by("id"))


def webhook(company, url):
    with scope(company=company.pk):
        # Stored directly, as a value saved before the checks existed (or by any path
        # that skips the early check) would be: enforcement happens when connecting.
        return WebhookEndpoint.objects.create(company=company, name="Hook", url=url,
                                              secret="s")


def store_settings(company, **values):
    """Write company settings without validation (legacy data; the send must still refuse)."""
    with scopes_disabled():
        company = Company.objects.get(pk=company.pk)
        company.settings = {**(company.settings or {}), **values}
        company.save(update_fields=["settings"])


def delivery_log_text(persona) -> str:
    response = persona.api.get("/notifications/deliveries")
    assert response.status_code == 200
    return json.dumps(response.data)


# --- 1. webhooks ------------------------------------------------------------------------------

def test_backslash_url_does_not_reach_the_internal_host_nor_leak_its_answer(
        personas, event_types, no_private, internal, monkeypatch):
    """``http://127.0.0.1:PORT\\@example.com/``: urlsplit sees example.com (public), requests
    connected to 127.0.0.1 and the answer came back in the delivery log."""
    FakeDNS(monkeypatch, {"example.com": [PUBLIC_IP]})
    p = personas
    webhook(p.company_a, f"http://127.0.0.1:{internal.port}\\@example.com/")
    emit(p.company_a)
    send_due()
    assert internal.requests == []
    [d] = deliveries(p.company_a)
    assert d.status == "failed" and "backslash" in d.last_error
    log = delivery_log_text(p.owner_a)
    assert SECRET.decode() not in log
    assert "backslash" in log


@pytest.mark.parametrize("template", [
    "http://user@127.0.0.1:{port}/",
    "http://user:pass@127.0.0.1:{port}/",
    "http://0x7f000001:{port}/",
    "http://2130706433:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://127.1:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://127.0.0.1:{port}/hook",
    "http://localhost:{port}/hook",
])
def test_webhook_to_a_loopback_spelling_is_refused(personas, event_types, no_private, internal,
                                                   template):
    p = personas
    webhook(p.company_a, template.format(port=internal.port))
    emit(p.company_a)
    assert send_due() == {"failed": 1}
    assert internal.requests == []
    [d] = deliveries(p.company_a)
    assert d.last_error.startswith("refused: ")
    assert SECRET.decode() not in delivery_log_text(p.owner_a)


def test_dns_rebinding_webhook_connects_only_to_the_checked_address(
        personas, event_types, no_private, internal, monkeypatch):
    """First answer public, second answer loopback: the name is resolved once and the
    connection goes to the address that was checked (the public one), never to 127.0.0.1."""
    dns = FakeDNS(monkeypatch, {"rebind.test": [PUBLIC_IP, "127.0.0.1"]})
    connects = ConnectRecorder(monkeypatch, offline={PUBLIC_IP})
    p = personas
    webhook(p.company_a, f"http://rebind.test:{internal.port}/hook")
    emit(p.company_a)
    assert send_due() == {"queued": 1}  # the public host was unreachable: retried later
    assert dns.lookups["rebind.test"] == 1
    assert PUBLIC_IP in connects.addresses
    assert "127.0.0.1" not in connects.addresses
    assert internal.requests == []


def test_dns_name_resolving_to_a_private_address_is_refused(personas, event_types, no_private,
                                                            internal, monkeypatch):
    FakeDNS(monkeypatch, {"intranet.test": ["127.0.0.1"]})
    p = personas
    webhook(p.company_a, f"http://intranet.test:{internal.port}/hook")
    emit(p.company_a)
    assert send_due() == {"failed": 1}
    [d] = deliveries(p.company_a)
    assert "non-public address (127.0.0.1)" in d.last_error
    assert internal.requests == []


def test_webhook_redirect_to_loopback_is_not_followed(personas, event_types, settings,
                                                      internal, other_internal):
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = ["127.0.0.1/32"]  # one relay the operator allows
    internal.routes["/hook"] = (307, {"Location": other_internal.url("/admin")}, b"")
    p = personas
    webhook(p.company_a, internal.url("/hook"))
    emit(p.company_a)
    assert send_due() == {"failed": 1}
    assert [r.path for r in internal.requests] == ["/hook"]
    assert other_internal.requests == []
    [d] = deliveries(p.company_a)
    assert "HTTP 307" in d.last_error


def test_huge_error_answer_is_read_bounded_and_only_a_snippet_is_kept(personas, event_types,
                                                                      internal):
    # 127.0.0.0/8 is allowed (test settings): the host answers 500 with 64 MB.
    internal.routes["/hook"] = (500, {"Content-Type": "text/plain"}, endless())
    p = personas
    webhook(p.company_a, internal.url("/hook"))
    emit(p.company_a)
    assert send_due() == {"queued": 1}
    [d] = deliveries(p.company_a)
    assert d.last_error.startswith("HTTP 500")
    assert len(d.last_error) < 300
    # The client stopped reading after a few KB; what the server managed to write before
    # the connection closed is what the kernel's socket buffers absorbed, far below 64 MB.
    assert internal.bytes_written < 16 * 1024 * 1024


def test_error_snippet_is_printable_text(personas, event_types, internal):
    internal.routes["/hook"] = (400, {}, b"bad \x00\x1b[31mred\x1b[0m\r\nline2 " + b"x" * 500)
    p = personas
    webhook(p.company_a, internal.url("/hook"))
    emit(p.company_a)
    send_due()
    [d] = deliveries(p.company_a)
    assert d.status == "failed"
    assert "\x00" not in d.last_error and "\x1b" not in d.last_error and "\n" not in d.last_error
    assert d.last_error.startswith("HTTP 400: bad")
    assert len(d.last_error) <= len("HTTP 400: ") + 200


def test_webhook_form_refuses_an_internal_url_early(personas):
    from django.core.exceptions import ValidationError

    with scope(company=personas.company_a.pk):
        hook = WebhookEndpoint(company=personas.company_a, name="x", secret="s",
                               url="http://user@hooks.example.org/")
        with pytest.raises(ValidationError) as exc:
            hook.full_clean()
    assert "user name or password" in str(exc.value)


# --- 2. Apprise targets -----------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["mmost", "gotify", "ntfy", "apprise", "json", "form", "xml"])
def test_user_cannot_set_an_apprise_address_on_a_host_of_their_choice(personas, internal,
                                                                      scheme):
    url = f"{scheme}://127.0.0.1:{internal.port}/x"
    response = personas.tech_a.api.put("/notification-preferences",
                                       {"addresses": {"slack": url}})
    assert response.status_code == 422, response.data
    assert response.data["error"]["field"] == "addresses.slack"
    response = personas.tech_a.api.put("/notification-preferences",
                                       {"addresses": {"sms": url}})
    assert response.status_code == 422
    assert response.data["error"]["field"] == "addresses.sms"
    with scopes_disabled():
        assert not ChannelAddress.objects.filter(user=personas.tech_a.user).exists()
    assert internal.requests == []


def test_user_can_set_slack_and_sms_service_addresses(personas):
    slack = "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    sms = "twilio://AC735c307c62944b5a:e29dfbcebf390dee9@+15551234567/+15557654321"
    response = personas.tech_a.api.put("/notification-preferences",
                                       {"addresses": {"slack": slack, "sms": sms}})
    assert response.status_code == 200, response.data
    # Stored as given, shown write-only (set, last 4).
    assert {k: (v["set"], v["last4"]) for k, v in response.data["addresses"].items()} == {
        "slack": (True, slack[-4:]), "sms": (True, sms[-4:])}
    wrong = personas.tech_a.api.put("/notification-preferences",
                                    {"addresses": {"slack": sms}})  # an SMS service for Slack
    assert wrong.status_code == 422
    assert wrong.data["error"]["field"] == "addresses.slack"


@pytest.mark.parametrize(("key", "value"), [
    ("notifications.slack_urls", ["json://127.0.0.1:{port}/x"]),
    ("notifications.slack_urls", ["slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
                                  "jsons://0x7f000001:{port}/x"]),
    ("notifications.slack_urls", ["mmost://hooks.example.org/x"]),
    ("notifications.sms_url", "json://127.0.0.1:{port}/sms/{{phone}}"),
    ("notifications.sms_url", "json://[::ffff:127.0.0.1]:{port}/sms/{{phone}}"),
    ("notifications.sms_url", "gotify://127.0.0.1:{port}/token"),
])
def test_company_apprise_settings_refuse_internal_hosts_and_other_services(
        personas, no_private, internal, key, value):
    value = ([v.format(port=internal.port) for v in value] if isinstance(value, list)
             else value.format(port=internal.port))
    before = Company.objects.get(pk=personas.company_a.pk).settings
    response = personas.owner_a.api.patch("/company/settings", {"settings": {key: value}})
    assert response.status_code == 422, response.data
    assert response.data["error"]["field"] == f"settings.{key}"
    assert Company.objects.get(pk=personas.company_a.pk).settings == before
    assert internal.requests == []


def test_company_apprise_settings_accept_services_and_public_relays(personas, no_private,
                                                                    monkeypatch):
    FakeDNS(monkeypatch, {"relay.example.org": [PUBLIC_IP]})
    response = personas.owner_a.api.patch("/company/settings", {"settings": {
        "notifications.slack_urls": ["slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
                                     "jsons://relay.example.org/slack"],
        "notifications.sms_url": "twilio://AC735c307c62944b5a:e29dfbcebf390dee9@+15551234567"
                                 "/{phone}"}})
    assert response.status_code == 200, response.data


def test_stored_apprise_target_of_another_service_is_refused_at_send(
        personas, event_types, no_private, internal):
    p = personas
    event_types["technician"] = ("slack",)
    with scope(company=p.company_a.pk):
        ChannelAddress.objects.create(company=p.company_a, user=p.tech_a.user, channel="slack",
                                      address=f"mmost://127.0.0.1:{internal.port}/x")
    emit(p.company_a, users=[p.tech_a.user])
    assert send_due() == {"failed": 1}
    [d] = deliveries(p.company_a)
    assert "not allowed for slack" in d.last_error
    assert internal.requests == []


def test_stored_relay_on_loopback_is_refused_at_send(personas, event_types, no_private,
                                                     internal):
    p = personas
    event_types["technician"] = ("slack",)
    store_settings(p.company_a, **{"notifications.slack_urls": [
        f"json://127.0.0.1:{internal.port}/x"]})
    emit(p.company_a, users=[p.tech_a.user])
    assert send_due() == {"failed": 1}
    [d] = deliveries(p.company_a)
    assert "non-public address" in d.last_error
    assert internal.requests == []
    assert SECRET.decode() not in delivery_log_text(p.owner_a)


def test_apprise_plugin_is_guarded_at_connect_time(personas, event_types, no_private,
                                                   internal, monkeypatch):
    """The relay's name answers public to the check and loopback to the plugin's own
    connection (rebinding): the plugin's connection is checked and refused."""
    dns = FakeDNS(monkeypatch, {"relay.example.org": [PUBLIC_IP, "127.0.0.1"]})
    p = personas
    event_types["technician"] = ("slack",)
    store_settings(p.company_a, **{"notifications.slack_urls": [
        f"json://relay.example.org:{internal.port}/x"]})
    emit(p.company_a, users=[p.tech_a.user])
    assert send_due() == {"failed": 1}
    assert dns.lookups["relay.example.org"] >= 2
    assert internal.requests == []
    [d] = deliveries(p.company_a)
    assert d.last_error.startswith("refused: ") and "127.0.0.1" in d.last_error


def test_apprise_redirect_to_loopback_is_not_followed(personas, event_types, settings,
                                                      internal, other_internal):
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = ["127.0.0.1/32"]  # one relay the operator allows
    internal.routes["/x"] = (307, {"Location": other_internal.url("/admin")}, b"")
    p = personas
    event_types["technician"] = ("slack",)
    store_settings(p.company_a, **{"notifications.slack_urls": [
        f"json://127.0.0.1:{internal.port}/x?redirect=yes"]})
    emit(p.company_a, users=[p.tech_a.user])
    assert send_due() == {"failed": 1}
    assert [r.path for r in internal.requests] == ["/x"]
    assert other_internal.requests == []
    [d] = deliveries(p.company_a)
    assert "HTTP 307" in d.last_error


def test_contact_phone_that_is_a_url_is_not_used_as_a_target(personas, event_types,
                                                             internal):
    p = personas
    store_settings(p.company_a, **{"notifications.sms_url": ""})
    event_types["contact"] = ("sms",)
    emit(p.company_a, contacts=[{"email": "c@x.test", "phone":
                                 f"json://127.0.0.1:{internal.port}/x"}])
    send_due()
    assert deliveries(p.company_a) == []  # SMS was the only channel; a URL is no number
    assert internal.requests == []
