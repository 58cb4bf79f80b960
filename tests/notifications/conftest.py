"""Fixtures of the notification suites: test event types, a local HTTP receiver, a real SMTP
server (aiosmtpd), and helpers to emit events and run the sender."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import transaction
from django_scopes import scope

from nestogy.core import attachments, events
from nestogy.notifications import render

TEST_EVENTS = ("test.ping", "test.plain", "test.broken", "test.empty", "test.missing")


def _recipients(event: events.Event) -> list[events.Recipient]:
    out = [events.Recipient(user_id=uid) for uid in event.data.get("user_ids", [])]
    out += [events.Recipient(email=c["email"], name=c.get("name", ""), phone=c.get("phone", ""),
                             kind="contact") for c in event.data.get("contacts", [])]
    return out


def _context(event: events.Event) -> dict:
    data = {k: v for k, v in event.data.items() if k not in {"user_ids", "contacts"}}
    return data


@pytest.fixture
def event_types():
    """Register the test event types; remove them (and cached preferences) afterwards."""
    defaults = {"technician": ("email", "inapp"), "owner": ("email",),
                "billing": ("inapp",), "contact": ("email",)}
    for name in TEST_EVENTS:
        events.register(name, description=f"Test event {name}", context=_context,
                        recipients=_recipients, default_channels=defaults)
    render.reset_engines()
    cache.clear()
    yield defaults
    for name in TEST_EVENTS:
        events.REGISTRY.pop(name, None)
    attachments.BUILDERS.pop("test_pdf", None)
    cache.clear()


def emit(company, type_="test.ping", *, users=(), contacts=(), **data):
    """Emit an event as a domain action would: in the company's scope, in a transaction."""
    payload = {"number": "T-1001", "subject": "Printer on fire", "client": "Acme Dental",
               "priority": "high", **data,
               "user_ids": [u.pk for u in users], "contacts": list(contacts)}
    with scope(company=company.pk), transaction.atomic():
        return events.emit(type_, company_id=company.pk, data=payload)


class Receiver:
    """An HTTP server on 127.0.0.1 answering with scripted status codes (then 200)."""

    def __init__(self):
        self.requests: list[SimpleNamespace] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                receiver.requests.append(SimpleNamespace(
                    path=self.path, headers=dict(self.headers), raw=raw,
                    json=json.loads(raw) if raw else None))
                status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on 127.0.0.1; MAILERS points Django's SMTP backend at it."""
    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self):
            self.messages = []
            self.refuse: dict[str, str] = {}

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address in self.refuse:
                return self.refuse[address]
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(SimpleNamespace(mail_from=envelope.mail_from,
                                                 rcpt_tos=list(envelope.rcpt_tos),
                                                 content=envelope.content))
            return "250 Message accepted"

    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10}}}
    yield handler
    controller.stop()
