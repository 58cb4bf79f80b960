"""Outgoing requests made on a tenant's behalf: the one way out (server-side request forgery).

Companies set URLs the server then calls: webhook endpoints, Apprise targets (Slack, SMS
gateways, JSON relays), the logo URL. Without care, ``http://169.254.169.254/`` or
``http://10.0.0.5/admin`` makes the server call its own network, and an error message
carrying the answer hands the attacker what it read. Every such request goes through this
module, which enforces three things:

1. **The URL is parsed by the parser that connects.** :func:`parse` uses urllib3's
   ``parse_url`` (what requests uses) and refuses user information (``user:pass@``),
   backslashes, control characters, schemes other than http/https, empty hosts and
   ambiguous numeric hosts (``0x7f000001``, ``2130706433``, ``0177.0.0.1``).
2. **The address is checked at connect time, once.** The host is resolved once when the
   socket is created (:func:`guarded_create_connection`), every address is checked, and the
   socket connects to exactly those addresses: nothing resolves the name a second time, so
   DNS rebinding between check and connect is impossible. TLS still verifies the certificate
   against the host name (SNI). Refused: loopback, private (RFC 1918, ULA), CGNAT
   100.64/10, link-local, multicast, reserved, unspecified, benchmarking and documentation
   ranges, IPv4 and IPv6, including IPv4 embedded in IPv6 (``::ffff:127.0.0.1``, 6to4,
   Teredo, NAT64). Operators of on-premise installations may allow networks explicitly:
   ``NESTOGY_EGRESS_ALLOW_NETWORKS`` (CIDR list).
3. **The exchange is bounded.** No redirects, no proxies from the environment
   (``trust_env=False``), short connect/read timeouts, an overall deadline, and the body is
   read only up to a maximum; error texts never carry more than a short, sanitised snippet of
   an answer from a host the rules allowed.

Third-party code that makes its own requests (Apprise's plugins call ``requests``) runs
inside :func:`guard`: while it is active in the current context (a context variable,
copied into Apprise's worker threads), every urllib3 connection made by any library goes
through the same connect-time check, and requests does not follow redirects.

Early feedback when a URL is saved (a 422 naming the field) uses :func:`check_url` /
:func:`check_host`; the enforcement is the connect-time check.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import ipaddress
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, LocationParseError, NameResolutionError
from urllib3.exceptions import NewConnectionError as _NewConnectionError
from urllib3.util import connection as _u3connection
from urllib3.util.timeout import _DEFAULT_TIMEOUT

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
DEADLINE = 30.0  # seconds for a whole exchange, however slowly the answer drips in
MAX_BYTES = 1024 * 1024
MAX_URL_LENGTH = 2048
SNIPPET_CHARS = 200
USER_AGENT = "Nestogy/1"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class EgressError(Exception):
    """An outgoing request did not happen or did not complete."""

    transient = False


class EgressRefused(EgressError):
    """The target is not allowed: a bad URL or an address the rules refuse. Never retried."""


class EgressFailed(EgressError):
    """The request was allowed but failed (timeout, connection refused, DNS, TLS)."""

    transient = True


# --- Address rules ------------------------------------------------------------------------

_DENIED_NETWORKS: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/128", "::1/128", "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23",
    "2001:db8::/32", "2002::/16", "3fff::/20", "fc00::/7", "fe80::/10", "fec0::/10",
    "ff00::/8",
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")


@dataclass(frozen=True)
class Policy:
    allow_all: bool
    networks: tuple[Network, ...]


@functools.lru_cache(maxsize=32)
def _policy(allow_all: bool, networks: tuple[str, ...]) -> Policy:
    parsed = []
    for raw in networks:
        try:
            parsed.append(ipaddress.ip_network(str(raw).strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"NESTOGY_EGRESS_ALLOW_NETWORKS: {raw!r} is not a CIDR network") from None
    return Policy(allow_all, tuple(parsed))


def policy() -> Policy:
    """The operator's exceptions: ``NESTOGY_EGRESS_ALLOW_NETWORKS`` (and the deprecated
    ``NESTOGY_NOTIFY_ALLOW_PRIVATE_TARGETS``, which allows every address)."""
    networks = getattr(settings, "NESTOGY_EGRESS_ALLOW_NETWORKS", ()) or ()
    if isinstance(networks, str):
        networks = [n for n in networks.split(",") if n.strip()]
    return _policy(bool(getattr(settings, "NESTOGY_NOTIFY_ALLOW_PRIVATE_TARGETS", False)),
                   tuple(str(n) for n in networks))


def _embedded_v4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (6to4, Teredo, NAT64, IPv4-compatible)."""
    found: list[ipaddress.IPv4Address] = []
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64 or (address in _V4_COMPATIBLE and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _public(address: Address) -> bool:
    if (address.is_private or address.is_loopback or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified
            or not address.is_global):
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return False
    return not any(address in net for net in _DENIED_NETWORKS if net.version == address.version)


def _operator_allowed(address: Address, rules: Policy) -> bool:
    return any(address in net for net in rules.networks if net.version == address.version)


def address_allowed(ip: str | Address) -> bool:
    """May the server connect to ``ip`` on a tenant's behalf?"""
    try:
        address = ipaddress.ip_address(str(ip).split("%", 1)[0])
    except ValueError:
        return False
    rules = policy()
    if rules.allow_all:
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:a.b.c.d is a.b.c.d
    if _operator_allowed(address, rules):
        return True
    if not _public(address):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return all(_operator_allowed(v4, rules) or _public(v4) for v4 in _embedded_v4(address))
    return True


def _refusal(host: str, ip: str) -> str:
    if host.strip("[]") == ip:
        return f"{ip} is a non-public address; outgoing requests only go to public hosts"
    return (f"the host {host} resolves to a non-public address ({ip}); outgoing requests "
            "only go to public hosts")


# --- URLs ---------------------------------------------------------------------------------

_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*\.?$", re.IGNORECASE)


def check_host_spelling(host: str) -> None:
    """Refuse hosts that parsers read differently: numeric IPv4 other than a.b.c.d."""
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1].split("%", 1)[0])
        except ValueError:
            raise EgressRefused(f"{host} is not a valid IPv6 address") from None
        return
    if _NUMERIC_HOST.match(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise EgressRefused(f"the host {host} is an unusual spelling of an IP address; "
                                "write it as four decimal numbers (a.b.c.d)") from None


def parse(url: Any, *, schemes: tuple[str, ...] = ("http", "https")) -> urllib3.util.Url:
    """Parse ``url`` exactly as the connection will; refuse anything ambiguous."""
    if not isinstance(url, str) or not url.strip():
        raise EgressRefused("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise EgressRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if "\\" in url:
        raise EgressRefused("the URL contains a backslash")
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url):
        raise EgressRefused("the URL contains spaces or control characters")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in schemes:
        raise EgressRefused("the URL must start with " + " or ".join(f"{s}://" for s in schemes))
    if "@" in re.split(r"[/?#]", rest, maxsplit=1)[0]:
        raise EgressRefused("the URL must not contain a user name or password (user:pass@)")
    try:
        parsed = urllib3.util.parse_url(url)
    except (LocationParseError, ValueError):
        raise EgressRefused("the URL is not valid") from None
    if parsed.auth is not None:
        raise EgressRefused("the URL must not contain a user name or password (user:pass@)")
    if not parsed.host:
        raise EgressRefused("the URL has no host")
    check_host_spelling(parsed.host)
    return parsed


def _family() -> int:
    from urllib3.util.connection import allowed_gai_family

    return allowed_gai_family()


def resolve(host: str, port: int | None) -> list[tuple]:
    """Resolve ``host`` once and check every address; the answers are what to connect to.

    Raises :class:`EgressRefused` if any address is not allowed (a name that answers with one
    public and one private address is refused as a whole), ``socket.gaierror`` if the name
    does not resolve.
    """
    bare = host.strip("[]")
    infos = socket.getaddrinfo(bare, port, _family(), socket.SOCK_STREAM)
    if not infos:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    for info in infos:
        ip = info[4][0]
        if not address_allowed(ip):
            raise EgressRefused(_refusal(host, ip))
    return infos


def check_host(host: str, port: int | None = None) -> None:
    """Early check of a host name (when a URL is saved): raises :class:`EgressRefused`."""
    if not host:
        raise EgressRefused("the URL has no host")
    check_host_spelling(host)
    try:
        resolve(host, port)
    except (socket.gaierror, UnicodeError):
        raise EgressRefused(f"the host {host} does not resolve") from None


def check_url(url: str, *, schemes: tuple[str, ...] = ("http", "https")) -> None:
    """Early check of a URL (when it is saved); the connection is checked again anyway."""
    parsed = parse(url, schemes=schemes)
    check_host(parsed.host, parsed.port)


# --- Connect-time guard ---------------------------------------------------------------------

@dataclass
class Guard:
    """What happened inside one :func:`guard` block (read by the caller afterwards)."""

    refused: list[str] = field(default_factory=list)
    connected: list[str] = field(default_factory=list)


_ACTIVE: contextvars.ContextVar[Guard | None] = contextvars.ContextVar("nestogy_egress_guard",
                                                                        default=None)


def guarded_create_connection(address: tuple[str, int], timeout: Any = _DEFAULT_TIMEOUT,
                              source_address: tuple[str, int] | None = None,
                              socket_options: Any = None) -> socket.socket:
    """urllib3's ``create_connection`` with the rules applied to the resolved addresses.

    The name is resolved exactly once; the socket connects to the checked addresses (not to
    the name), so a second, different DNS answer cannot be used.
    """
    host, port = address
    current = _ACTIVE.get()
    try:
        infos = resolve(host, port)
    except EgressRefused as exc:
        if current is not None:
            current.refused.append(str(exc))
        raise
    error: OSError | None = None
    for family, socktype, proto, _canonname, sockaddr in infos:
        sock = None
        try:
            sock = socket.socket(family, socktype, proto)
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is not _DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            if current is not None:
                current.connected.append(sockaddr[0])
            return sock
        except OSError as exc:
            error = exc
            if sock is not None:
                sock.close()
    raise error or OSError("no address to connect to")


class _GuardedConnectionMixin:
    """urllib3 connections whose socket comes from :func:`guarded_create_connection`."""

    def _new_conn(self) -> socket.socket:
        try:
            return guarded_create_connection(
                (self._dns_host, self.port), self.timeout,  # type: ignore[attr-defined]
                source_address=self.source_address,  # type: ignore[attr-defined]
                socket_options=self.socket_options)  # type: ignore[attr-defined]
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[attr-defined,arg-type]
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc  # type: ignore[attr-defined]
        except OSError as exc:
            raise _NewConnectionError(self, f"Failed to establish a new connection: {exc}") \
                from exc  # type: ignore[arg-type]


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool,
                                                   "https": _GuardedHTTPSPool}

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        raise EgressRefused("requests on a tenant's behalf do not go through proxies")


_install_lock = threading.Lock()
_installed = False


def install() -> None:
    """Route urllib3's socket creation through the guard whenever :func:`guard` is active.

    Idempotent; called when the core app is ready and by :func:`guard`. Outside a guard
    block nothing changes (the operator's own connections: Stripe, SMTP, the database).
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        original_create = _u3connection.create_connection

        def create_connection(address, timeout=_DEFAULT_TIMEOUT, source_address=None,
                              socket_options=None):
            if _ACTIVE.get() is not None:
                return guarded_create_connection(address, timeout, source_address,
                                                 socket_options)
            return original_create(address, timeout, source_address, socket_options)

        _u3connection.create_connection = create_connection

        mixin = requests.sessions.SessionRedirectMixin
        original_target = mixin.get_redirect_target

        def get_redirect_target(self, resp):
            if _ACTIVE.get() is not None:
                return None  # inside a guard a 3xx is the final answer
            return original_target(self, resp)

        mixin.get_redirect_target = get_redirect_target
        _installed = True


@contextlib.contextmanager
def guard() -> Iterator[Guard]:
    """Apply the connect-time rules to every urllib3 connection made in this context.

    For third-party code that calls ``requests`` itself (Apprise). Connections to refused
    addresses raise :class:`EgressRefused` inside that code and are listed in
    ``Guard.refused``; redirects are not followed.
    """
    install()
    current = Guard()
    token = _ACTIVE.set(current)
    try:
        yield current
    finally:
        _ACTIVE.reset(token)


# --- Requests -------------------------------------------------------------------------------

_UNPRINTABLE = re.compile(r"[^\x20-\x7e]+")


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    content: bytes
    truncated: bool

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def snippet(self, limit: int = SNIPPET_CHARS) -> str:
        """A short, printable excerpt of the body (for error messages)."""
        text = self.content[: limit * 4].decode("utf-8", errors="replace")
        text = " ".join(_UNPRINTABLE.sub(" ", text).split())
        return text[:limit]


def _reason(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 error, without URLs or response bodies."""
    seen = set()
    while True:
        inner = exc.__cause__ or exc.__context__
        reason = getattr(exc, "reason", None)
        if isinstance(reason, BaseException):
            inner = reason
        if inner is None or id(inner) in seen:
            break
        seen.add(id(inner))
        exc = inner
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(exc, TimeoutError | ConnectTimeoutError | requests.Timeout):
        return "timed out"
    text = str(exc)
    if ": " in text and isinstance(exc, _NewConnectionError):
        text = text.split(": ", 1)[1]
    return " ".join(text.split())[:200] or type(exc).__name__


class Session:
    """A reusable connection pool for tenant requests (e.g. one batch of webhooks)."""

    def __init__(self) -> None:
        self._session = requests.Session()
        self._session.trust_env = False  # no proxies, .netrc or CA bundles from the environment
        self._session.max_redirects = 0
        adapter = _GuardedAdapter(max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                data: bytes | str | None = None, max_bytes: int = MAX_BYTES,
                timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
                deadline: float = DEADLINE) -> Response:
        """Send one request; read at most ``max_bytes`` of the answer (``truncated`` says
        whether there was more). Raises :class:`EgressRefused` or :class:`EgressFailed`."""
        parsed = parse(url)
        sent_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity",
                        **(headers or {})}
        started = time.monotonic()
        with guard():
            try:
                response = self._session.request(method, url, headers=sent_headers, data=data,
                                                 timeout=timeout, allow_redirects=False,
                                                 stream=True)
            except EgressError:
                raise
            except requests.Timeout as exc:
                raise EgressFailed(f"{parsed.host}: timed out ({_reason(exc)})") from None
            except requests.RequestException as exc:
                raise EgressFailed(f"{parsed.host}: {_reason(exc)}") from None
            try:
                return _read(response, parsed.host, max_bytes, started, deadline)
            finally:
                response.close()


def _read(response: requests.Response, host: str, max_bytes: int, started: float,
          deadline: float) -> Response:
    chunks: list[bytes] = []
    size = 0
    truncated = False
    max_bytes = max(1, max_bytes)
    raw = response.raw
    try:
        while True:
            if time.monotonic() - started > deadline:
                raise EgressFailed(f"{host}: the answer took longer than {deadline:g} s")
            # read1: whatever has arrived (up to the limit), so the deadline is checked
            # between small reads however slowly the answer drips in.
            chunk = raw.read1(min(16384, max_bytes + 1 - size), decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                truncated = True
                break
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
        raise EgressFailed(f"{host}: reading the answer failed ({_reason(exc)})") from None
    content = b"".join(chunks)[:max_bytes]
    return Response(status=response.status_code, headers=dict(response.headers),
                    content=content, truncated=truncated)


def request(method: str, url: str, **kwargs: Any) -> Response:
    """One request in a fresh :class:`Session` (see :meth:`Session.request`)."""
    with Session() as session:
        return session.request(method, url, **kwargs)
