"""A local stand-in for Stripe's API: a real HTTP server on 127.0.0.1 in a thread.

The official ``stripe`` library is pointed at it (``base_addresses={"api": standin.url}``),
so the production client code path runs end to end: form-encoded requests, JSON responses in
Stripe's shapes, Stripe's error bodies (402 ``card_error``), and ``Idempotency-Key``
semantics: a POST repeated with a key answers the stored first response (header
``Idempotent-Replayed: true``) and never charges again; the same key with different
parameters answers 400 ``idempotency_error``.

Scripted outcomes for tests:

- ``decline_next(n, decline_code=...)``: the next n charge attempts are declined (402);
- ``fail_next(n, status=500)``: the next n requests answer a server error, charging nothing;
- ``hang_next(seconds)``: the next charge succeeds *and is recorded*, then the response is
  held back for ``seconds`` (past the client's timeout): a timeout after the gateway charged.

``ledger`` lists every charge (succeeded and failed) with its idempotency key;
``succeeded_charges()`` is what the card holder would see on their statement.

Checkout sessions get a ``url`` on the stand-in; a GET on it completes the payment (a
succeeded PaymentIntent and charge) and produces signed ``checkout.session.completed`` and
``payment_intent.succeeded`` events: posted to ``webhook_url`` when set, and always kept in
``webhooks`` (``(body, signature_header)`` pairs) for the test to post itself.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from urllib.request import Request, urlopen

import stripe

API_KEY = "sk_test_standin"
WEBHOOK_SECRET = "whsec_standin_secret"


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=1``) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt = parts[i + 1] if not last else None
            container: Any = [] if (nxt is not None and nxt.isdigit()) else {}
            if isinstance(node, list):
                idx = int(part)
                while len(node) <= idx:
                    node.append(None)
                if last:
                    node[idx] = value
                else:
                    if node[idx] is None:
                        node[idx] = container
                    node = node[idx]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, container)
    return root


@dataclass
class Charge:
    id: str
    payment_intent: str
    amount: int
    currency: str
    customer: str
    payment_method: str
    idempotency_key: str
    status: str  # succeeded | failed
    decline_code: str = ""
    amount_refunded: int = 0
    metadata: dict[str, str] = field(default_factory=dict)


class StripeStandIn:
    def __init__(self, *, api_key: str = API_KEY, webhook_secret: str = WEBHOOK_SECRET):
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url: str | None = None
        self.latency = 0.0
        self.lock = threading.RLock()
        self.ids = itertools.count(1)
        self.ledger: list[Charge] = []
        self.intents: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.payment_methods: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.idempotency: dict[str, tuple[str, dict, int, dict]] = {}
        self.requests: list[tuple[str, str, dict, str | None]] = []
        self.webhooks: list[tuple[bytes, str]] = []
        self._declines: list[str] = []
        self._failures: list[int] = []
        self._hangs: list[float] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StripeStandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- scripting --------------------------------------------------------------------------
    def decline_next(self, n: int = 1, decline_code: str = "insufficient_funds") -> None:
        with self.lock:
            self._declines.extend([decline_code] * n)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        with self.lock:
            self._failures.extend([status] * n)

    def hang_next(self, seconds: float) -> None:
        with self.lock:
            self._hangs.append(seconds)

    def succeeded_charges(self, **filters: Any) -> list[Charge]:
        with self.lock:
            return [c for c in self.ledger if c.status == "succeeded"
                    and all(getattr(c, k) == v for k, v in filters.items())]

    def add_card(self, brand: str = "visa", last4: str = "4242") -> str:
        """A payment method as Stripe.js would have created it in the browser."""
        pm_id = self._id("pm")
        with self.lock:
            self.payment_methods[pm_id] = {
                "id": pm_id, "object": "payment_method", "type": "card", "customer": None,
                "card": {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2030},
                "created": int(time.time()), "livemode": False, "metadata": {}}
        return pm_id

    # -- events -----------------------------------------------------------------------------
    def make_event(self, type_: str, obj: dict, *, event_id: str | None = None) -> dict:
        return {"id": event_id or self._id("evt"), "object": "event", "type": type_,
                "api_version": "2025-01-27.acacia", "created": int(time.time()),
                "livemode": False, "pending_webhooks": 1, "data": {"object": obj}}

    def sign(self, event: dict | bytes, *, timestamp: int | None = None,
             secret: str | None = None) -> tuple[bytes, str]:
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        header = stripe.WebhookSignature.generate_signature_header(
            body.decode(), secret or self.webhook_secret, timestamp=timestamp or int(time.time()))
        return body, header

    def _deliver(self, event: dict) -> None:
        body, header = self.sign(event)
        with self.lock:
            self.webhooks.append((body, header))
        if self.webhook_url:
            request = Request(self.webhook_url, data=body, method="POST",
                              headers={"Content-Type": "application/json",
                                       "Stripe-Signature": header})
            try:
                urlopen(request, timeout=5).read()
            except OSError:
                pass

    # -- internals --------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}_standin{next(self.ids):06d}{secrets.token_hex(3)}"

    @staticmethod
    def _error(status: int, type_: str, message: str, **extra: Any) -> tuple[int, dict]:
        return status, {"error": {"type": type_, "message": message, **extra}}

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _send(self, status: int, body: dict, extra: dict | None = None) -> None:
                raw = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.send_header("Request-Id", standin._id("req"))
                    for k, v in (extra or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def _dispatch(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                path, _, query = self.path.partition("?")
                params = decode_form(raw if method == "POST" else query)
                if path.startswith("/checkout/"):
                    status, body = standin._visit_checkout(path)
                    self._send(status, body)
                    return
                key = self.headers.get("Idempotency-Key")
                with standin.lock:
                    standin.requests.append((method, path, params, key))
                if self.headers.get("Authorization") != f"Bearer {standin.api_key}":
                    status, body = standin._error(401, "invalid_request_error",
                                                  "Invalid API Key provided")
                    self._send(status, body)
                    return
                if standin.latency and path == "/v1/payment_intents":
                    time.sleep(standin.latency)  # a slow gateway: lets workers overlap
                hang = 0.0
                with standin.lock:
                    if method == "POST" and key and key in standin.idempotency:
                        first_path, first_params, status, body = standin.idempotency[key]
                        if (first_path, first_params) != (path, params):
                            status, body = standin._error(
                                400, "idempotency_error",
                                "Keys for idempotent requests can only be used with the same "
                                "parameters they were first used with.")
                            self._send(status, body)
                        else:
                            self._send(status, body, {"Idempotent-Replayed": "true"})
                        return
                    if standin._failures:
                        status = standin._failures.pop(0)
                        self._send(*standin._error(status, "api_error",
                                                   "An unknown error occurred"))
                        return
                    status, body = standin._route(method, path, params, key)
                    if path == "/v1/payment_intents" and standin._hangs and status == 200:
                        hang = standin._hangs.pop(0)
                    if method == "POST" and key and status < 500:
                        standin.idempotency[key] = (path, params, status, body)
                if hang:
                    time.sleep(hang)
                self._send(status, body)

        return Handler

    def _route(self, method: str, path: str, params: dict, key: str | None) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if parts[:1] != ["v1"]:
            return self._error(404, "invalid_request_error", f"Unrecognized request URL {path}")
        parts = parts[1:]
        if method == "POST" and parts == ["customers"]:
            cus = {"id": self._id("cus"), "object": "customer", "email": params.get("email"),
                   "name": params.get("name"), "metadata": params.get("metadata", {}),
                   "invoice_settings": {"default_payment_method": None},
                   "created": int(time.time()), "livemode": False}
            self.customers[cus["id"]] = cus
            return 200, cus
        if method == "POST" and len(parts) == 2 and parts[0] == "customers":
            cus = self.customers.get(parts[1])
            if cus is None:
                return self._error(404, "invalid_request_error",
                                   f"No such customer: '{parts[1]}'", code="resource_missing")
            settings = params.get("invoice_settings") or {}
            cus["invoice_settings"].update(settings)
            return 200, cus
        if parts[:1] == ["payment_methods"] and len(parts) >= 2:
            pm = self.payment_methods.get(parts[1])
            if pm is None:
                return self._error(404, "invalid_request_error",
                                   f"No such PaymentMethod: '{parts[1]}'",
                                   code="resource_missing")
            if method == "POST" and parts[2:] == ["attach"]:
                if params.get("customer") not in self.customers:
                    return self._error(404, "invalid_request_error", "No such customer",
                                       code="resource_missing")
                pm["customer"] = params["customer"]
            return 200, pm
        if method == "POST" and parts == ["payment_intents"]:
            return self._create_intent(params, key)
        if method == "GET" and len(parts) == 2 and parts[0] == "payment_intents":
            intent = self.intents.get(parts[1])
            if intent is None:
                return self._error(404, "invalid_request_error",
                                   f"No such payment_intent: '{parts[1]}'",
                                   code="resource_missing")
            return 200, intent
        if method == "POST" and parts == ["refunds"]:
            return self._refund(params)
        if method == "POST" and parts == ["checkout", "sessions"]:
            return self._create_session(params)
        return self._error(404, "invalid_request_error", f"Unrecognized request URL {path}")

    def _create_intent(self, params: dict, key: str | None) -> tuple[int, dict]:
        for required in ("amount", "currency"):
            if required not in params:
                return self._error(400, "invalid_request_error",
                                   f"Missing required param: {required}.", param=required,
                                   code="parameter_missing")
        pm_id = params.get("payment_method", "")
        if params.get("confirm") == "true" and pm_id not in self.payment_methods:
            return self._error(400, "invalid_request_error",
                               f"No such PaymentMethod: '{pm_id}'", param="payment_method",
                               code="resource_missing")
        amount = int(params["amount"])
        intent = {
            "id": self._id("pi"), "object": "payment_intent", "amount": amount,
            "amount_received": 0, "currency": params["currency"],
            "customer": params.get("customer"), "payment_method": pm_id,
            "description": params.get("description"), "metadata": params.get("metadata", {}),
            "off_session": params.get("off_session") == "true", "status":
            "requires_confirmation", "latest_charge": None, "last_payment_error": None,
            "created": int(time.time()), "livemode": False,
        }
        self.intents[intent["id"]] = intent
        if params.get("confirm") != "true":
            return 200, intent
        charge = Charge(id=self._id("ch"), payment_intent=intent["id"], amount=amount,
                        currency=params["currency"], customer=params.get("customer", ""),
                        payment_method=pm_id, idempotency_key=key or "", status="succeeded",
                        metadata=dict(params.get("metadata", {})))
        intent["latest_charge"] = charge.id
        if self._declines:
            charge.status = "failed"
            charge.decline_code = self._declines.pop(0)
            self.ledger.append(charge)
            intent["status"] = "requires_payment_method"
            error = {"type": "card_error", "code": "card_declined",
                     "decline_code": charge.decline_code, "message": "Your card was declined.",
                     "charge": charge.id, "payment_method": self.payment_methods.get(pm_id)}
            intent["last_payment_error"] = error
            return 402, {"error": {**error, "payment_intent": dict(intent)}}
        self.ledger.append(charge)
        intent["status"] = "succeeded"
        intent["amount_received"] = amount
        return 200, intent

    def _refund(self, params: dict) -> tuple[int, dict]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return self._error(400, "invalid_request_error", "No such payment_intent",
                               param="payment_intent", code="resource_missing")
        charge = next(c for c in self.ledger if c.id == intent["latest_charge"])
        amount = int(params.get("amount") or charge.amount - charge.amount_refunded)
        if amount <= 0 or charge.amount_refunded + amount > charge.amount:
            return self._error(400, "invalid_request_error",
                               "Refund amount is greater than the unrefunded amount",
                               param="amount", code="charge_exceeds_source_limit")
        charge.amount_refunded += amount
        refund = {"id": self._id("re"), "object": "refund", "amount": amount,
                  "charge": charge.id, "payment_intent": intent["id"],
                  "currency": charge.currency, "status": "succeeded",
                  "created": int(time.time())}
        self.refunds[refund["id"]] = refund
        return 200, refund

    def _create_session(self, params: dict) -> tuple[int, dict]:
        items = params.get("line_items") or []
        if not items or "success_url" not in params:
            return self._error(400, "invalid_request_error", "Missing line_items or success_url",
                               code="parameter_missing")
        price = items[0]["price_data"]
        amount = int(price["unit_amount"]) * int(items[0].get("quantity", 1))
        session_id = self._id("cs_test")
        session = {
            "id": session_id, "object": "checkout.session", "mode": params.get("mode"),
            "amount_total": amount, "currency": price["currency"], "status": "open",
            "payment_status": "unpaid", "customer": params.get("customer"),
            "metadata": params.get("metadata", {}), "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"), "payment_intent": None,
            "url": f"{self.url}/checkout/{session_id}",
            "_intent_metadata": (params.get("payment_intent_data") or {}).get("metadata", {}),
        }
        self.sessions[session_id] = session
        return 200, {k: v for k, v in session.items() if not k.startswith("_")}

    def _visit_checkout(self, path: str) -> tuple[int, dict]:
        """The card holder pays on the hosted page: charge, then send the webhooks."""
        session_id = path.rstrip("/").split("/")[-1]
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None:
                return 404, {"error": {"type": "invalid_request_error",
                                       "message": "No such checkout session"}}
            if session["status"] == "complete":
                return 200, {"status": "complete", "redirect": session["success_url"]}
            pm_id = self.add_card()
            _status, intent = self._create_intent({
                "amount": str(session["amount_total"]), "currency": session["currency"],
                "customer": session.get("customer") or "", "payment_method": pm_id,
                "confirm": "true", "metadata": session["_intent_metadata"]}, None)
            session.update(status="complete", payment_status="paid",
                           payment_intent=intent["id"])
            public = {k: v for k, v in session.items() if not k.startswith("_")}
        self._deliver(self.make_event("checkout.session.completed", public))
        self._deliver(self.make_event("payment_intent.succeeded", dict(intent)))
        return 200, {"status": "complete", "redirect": session["success_url"]}

    def client_options(self) -> dict[str, Any]:
        """Options for ``get_gateway("stripe", ...)`` pointing at this stand-in."""
        return {"api_key": self.api_key, "api_base": self.url,
                "webhook_secret": self.webhook_secret}


def visit(url: str, timeout: float = 5) -> dict:
    """What the card holder's browser does on the checkout page."""
    parts = urlsplit(url)
    if parts.hostname != "127.0.0.1":
        raise ValueError("the stand-in only serves 127.0.0.1")
    with urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())
