"""The egress module: address rules, URL parsing, one resolution per connection, bounded
answers, no redirects, no proxies, and the guard for third-party HTTP code."""

from __future__ import annotations

import socket
import time

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from nestogy.core import egress
from tests.netlab import PUBLIC_IP, SECRET, ConnectRecorder, FakeDNS, Server, endless


@pytest.fixture
def server():
    s = Server("127.0.0.1")
    yield s
    s.stop()


@pytest.fixture
def server2():
    s = Server("127.0.0.2")
    yield s
    s.stop()


REFUSED = [
    "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
    "100.64.0.1", "100.127.255.254", "169.254.169.254", "0.0.0.0", "0.1.2.3",
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.0.8",
    "192.0.2.10", "198.51.100.7", "203.0.113.9", "198.18.0.1", "192.88.99.1",
    "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1",
    "2001:db8::1", "3fff::1", "100::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
    "2002:7f00:1::1", "2002:a00:1::1", "2001:0:4136:e378:8000:63bf:80ff:fffe",
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "not an ip",
]
ALLOWED = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111",
           "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("ip", REFUSED)
def test_non_public_addresses_are_refused(no_private, ip):
    assert egress.address_allowed(ip) is False


@pytest.mark.parametrize("ip", ALLOWED)
def test_public_addresses_are_allowed(no_private, ip):
    assert egress.address_allowed(ip) is True


def test_operator_allowed_networks(settings):
    settings.NESTOGY_NOTIFY_ALLOW_PRIVATE_TARGETS = False
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = ["10.0.0.0/8", "192.168.1.10/32", "fd00::/8"]
    assert egress.address_allowed("10.20.30.40")
    assert egress.address_allowed("::ffff:10.20.30.40")
    assert egress.address_allowed("192.168.1.10")
    assert egress.address_allowed("fd00::5")
    assert not egress.address_allowed("192.168.1.11")
    assert not egress.address_allowed("127.0.0.1")
    assert not egress.address_allowed("169.254.169.254")
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured):
        egress.address_allowed("8.8.8.8")


def test_deprecated_allow_private_setting_allows_everything(settings):
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = []
    settings.NESTOGY_NOTIFY_ALLOW_PRIVATE_TARGETS = True
    assert egress.address_allowed("127.0.0.1") and egress.address_allowed("10.0.0.1")


def test_env_networks_are_checked_at_start(monkeypatch):
    from nestogy.core.config import env_networks

    monkeypatch.setenv("NESTOGY_EGRESS_ALLOW_NETWORKS", "10.0.0.0/8, 192.168.1.10/32,::1/128")
    assert env_networks("NESTOGY_EGRESS_ALLOW_NETWORKS") == [
        "10.0.0.0/8", "192.168.1.10/32", "::1/128"]
    monkeypatch.setenv("NESTOGY_EGRESS_ALLOW_NETWORKS", "10.0.0.0/8,intranet")
    with pytest.raises(ValueError, match="intranet"):
        env_networks("NESTOGY_EGRESS_ALLOW_NETWORKS")


@pytest.mark.parametrize(("url", "message"), [
    ("http://127.0.0.1:18499\\@example.com/", "backslash"),
    ("http://example.com\\@127.0.0.1/", "backslash"),
    ("http://user@example.com/", "user name or password"),
    ("http://user:pass@example.com/", "user name or password"),
    ("http://@example.com/", "user name or password"),
    ("http://example.com%40127.0.0.1@x/", "user name or password"),
    ("ftp://example.com/", "must start with http:// or https://"),
    ("file:///etc/passwd", "must start with http:// or https://"),
    ("gopher://example.com/", "must start with"),
    ("//example.com/", "must start with"),
    ("http:///path", "no host"),
    ("http://exa mple.com/", "spaces or control characters"),
    ("http://example.com/\r\nHost: x", "spaces or control characters"),
    ("http://0x7f000001/", "unusual spelling"),
    ("http://2130706433/", "unusual spelling"),
    ("http://0177.0.0.1/", "unusual spelling"),
    ("http://127.1/", "unusual spelling"),
    ("http://[zz::1]/", "not valid"),
    ("", "empty"),
])
def test_urls_are_parsed_strictly(url, message):
    with pytest.raises(egress.EgressRefused, match=message):
        egress.parse(url)


def test_good_urls_parse():
    for url in ("https://hooks.example.org/x?y=1", "http://93.184.215.14:8080/",
                "https://[2606:4700::1111]/", "https://bücher.example/"):
        assert egress.parse(url).host


@pytest.mark.parametrize("host", ["0x7f000001", "2130706433", "127.1", "::ffff:127.0.0.1",
                                  "127.0.0.1", "localhost"])
def test_connect_time_guard_refuses_loopback_however_spelled(no_private, server, host):
    """Below the URL checks: the socket layer itself refuses (what a third-party library
    calling urllib3 directly would hit)."""
    with pytest.raises(egress.EgressRefused):
        egress.guarded_create_connection((host, server.port), 2)
    assert server.requests == []


def test_loopback_is_refused_when_nothing_is_allowed(no_private, server):
    with pytest.raises(egress.EgressRefused, match="non-public"):
        egress.request("GET", server.url("/"))
    assert server.requests == []


def test_one_resolution_and_the_connection_goes_to_the_checked_address(settings, server,
                                                                       monkeypatch):
    """The operator allows 127.0.0.1 only. The name answers 127.0.0.1 first and a refused
    address afterwards: the single lookup's address is the one connected to."""
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = ["127.0.0.1/32"]
    dns = FakeDNS(monkeypatch, {"relay.test": ["127.0.0.1", "10.9.9.9"]})
    server.routes["/ok"] = (200, {}, b"fine")
    response = egress.request("GET", f"http://relay.test:{server.port}/ok")
    assert (response.status, response.content) == (200, b"fine")
    assert dns.lookups["relay.test"] == 1
    assert [r.headers.get("Host") for r in server.requests] == [f"relay.test:{server.port}"]


def test_dns_rebinding_public_then_private(no_private, server, monkeypatch):
    dns = FakeDNS(monkeypatch, {"rebind.test": [PUBLIC_IP, "127.0.0.1"]})
    connects = ConnectRecorder(monkeypatch, offline={PUBLIC_IP})
    with pytest.raises(egress.EgressFailed, match="Connection refused"):
        egress.request("POST", f"http://rebind.test:{server.port}/", data=b"x")
    assert dns.lookups["rebind.test"] == 1
    assert connects.addresses == [PUBLIC_IP]
    assert server.requests == []


def test_name_with_one_private_answer_among_public_ones_is_refused(no_private, monkeypatch):
    original = socket.getaddrinfo

    def mixed(host, port, *args, **kwargs):
        if host == "mixed.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_IP, port)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]
        return original(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", mixed)
    connects = ConnectRecorder(monkeypatch, offline={PUBLIC_IP})
    with pytest.raises(egress.EgressRefused, match=r"10\.0\.0\.7"):
        egress.request("GET", "http://mixed.test/")
    assert connects.addresses == []


def test_redirects_are_not_followed(settings, server, server2):
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = ["127.0.0.0/8"]  # both hosts allowed even
    server.routes["/r"] = (302, {"Location": server2.url("/internal")}, b"")
    response = egress.request("GET", server.url("/r"))
    assert response.status == 302
    assert server2.requests == []


def test_answers_are_read_bounded(server):
    server.routes["/huge"] = (200, {"Content-Type": "application/octet-stream"}, endless())
    started = time.monotonic()
    response = egress.request("GET", server.url("/huge"), max_bytes=1000)
    assert len(response.content) == 1000 and response.truncated
    assert time.monotonic() - started < 10
    assert server.bytes_written < 16 * 1024 * 1024


def test_slow_drip_answer_hits_the_deadline(server):
    def drip():
        for _ in range(50):
            time.sleep(0.1)
            yield b"x"
    server.routes["/slow"] = (200, {}, drip)
    with pytest.raises(egress.EgressFailed, match="took longer"):
        egress.request("GET", server.url("/slow"), deadline=0.5)


def test_environment_proxies_are_ignored(server, server2, monkeypatch):
    """HTTP_PROXY must not redirect tenant requests anywhere (trust_env=False)."""
    monkeypatch.setenv("HTTP_PROXY", server2.url("/"))
    monkeypatch.setenv("http_proxy", server2.url("/"))
    server.routes["/x"] = (200, {}, b"direct")
    assert egress.request("GET", server.url("/x")).content == b"direct"
    assert server2.requests == []


def test_snippet_is_short_and_printable():
    response = egress.Response(500, {}, b"\x00\x01bad\r\n\x1b[2Jthing " + b"y" * 1000, False)
    assert response.snippet() == "bad [2Jthing " + "y" * (200 - len("bad [2Jthing "))


def test_guard_applies_to_third_party_requests(settings, server, server2):
    """What Apprise does: plain requests calls, inside egress.guard()."""
    settings.NESTOGY_EGRESS_ALLOW_NETWORKS = ["127.0.0.1/32"]
    server.routes["/r"] = (307, {"Location": server2.url("/internal")}, b"")
    session = requests.Session()
    with egress.guard() as guard:
        with pytest.raises(egress.EgressRefused):
            session.request("GET", server2.url("/direct"), timeout=5)
        redirected = session.request("POST", server.url("/r"), data=b"x", timeout=5)
    assert redirected.status_code == 307  # not followed
    assert server2.requests == []
    assert guard.refused and "127.0.0.2" in guard.refused[0]
    # Outside a guard, the process's own connections are untouched.
    server2.routes["/own"] = (200, {}, b"ok")
    assert session.request("GET", server2.url("/own"), timeout=5).content == b"ok"


def test_internal_answer_never_appears_in_errors(no_private, server):
    with pytest.raises(egress.EgressError) as exc:
        egress.request("GET", server.url("/"))
    assert SECRET.decode() not in str(exc.value)
