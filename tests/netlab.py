"""Local servers and fake DNS for the outgoing-request (SSRF) suites.

:class:`Server` is a real HTTP server on a loopback address that records every request it
receives and answers according to ``routes`` (path → callable or canned answer), including
redirects and endless bodies whose written size it counts.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

SECRET = b"INTERNAL-SECRET-7f3a9c"  # what an internal service would answer
# Stands for a public host; connections to it never leave the box (ConnectRecorder).
PUBLIC_IP = "93.184.215.14"


class Server:
    def __init__(self, host: str = "127.0.0.1"):
        self.requests: list[SimpleNamespace] = []
        self.routes: dict[str, tuple] = {}
        self.bytes_written = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                server.requests.append(SimpleNamespace(method=self.command, path=self.path,
                                                       headers=dict(self.headers), raw=raw))
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    route = server.routes.get("*", (500, {"Content-Type": "text/plain"},
                                                    SECRET))
                status, headers, body = route
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if callable(body):
                    self.send_header("Content-Length", str(10**9))
                    self.end_headers()
                    try:
                        for chunk in body():
                            self.wfile.write(chunk)
                            server.bytes_written += len(chunk)
                    except (BrokenPipeError, ConnectionResetError, OSError):
                        pass
                    self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host = host
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def endless(chunk: bytes = SECRET * 4096, total: int = 64 * 1024 * 1024):
    """A body generator of ``total`` bytes (the client should stop reading long before)."""
    def generate():
        sent = 0
        while sent < total:
            yield chunk
            sent += len(chunk)
    return generate


class FakeDNS:
    """Replaces ``socket.getaddrinfo`` for chosen names; other names resolve normally.

    ``answers[name]`` is a list of IPs handed out one per lookup (the last one repeats):
    ``["93.184.215.14", "127.0.0.1"]`` answers public first, loopback afterwards (DNS
    rebinding). ``lookups`` counts the lookups of each faked name.
    """

    def __init__(self, monkeypatch, answers: dict[str, list[str]]):
        self.answers = answers
        self.lookups: dict[str, int] = dict.fromkeys(answers, 0)
        original = socket.getaddrinfo

        def fake(host, port, family=0, type=0, proto=0, flags=0):
            name = host.decode() if isinstance(host, bytes) else host
            if name in self.answers:
                n = self.lookups[name]
                self.lookups[name] += 1
                ips = self.answers[name]
                ip = ips[min(n, len(ips) - 1)]
                fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
                addr = (ip, int(port or 0)) if fam == socket.AF_INET else (ip, int(port or 0), 0, 0)
                return [(fam, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", addr)]
            return original(host, port, family, type, proto, flags)

        monkeypatch.setattr(socket, "getaddrinfo", fake)


class ConnectRecorder:
    """Records every socket ``connect`` address; refuses (without touching the network) the
    ones in ``offline`` (addresses that stand for public hosts in a test)."""

    def __init__(self, monkeypatch, offline: set[str]):
        self.addresses: list[str] = []
        original = socket.socket.connect
        recorder = self

        def connect(sock, address):
            host = address[0] if isinstance(address, tuple) else address
            recorder.addresses.append(host)
            if host in offline:
                raise ConnectionRefusedError(111, "Connection refused (test: offline host)")
            return original(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)
