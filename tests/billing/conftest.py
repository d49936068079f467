"""Stripe in tests: real event payloads kept as JSON fixtures and signed by one helper, and a small
local Stripe-compatible HTTP server that the real SDK talks to through STRIPE_API_BASE."""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import stripe
from django.test import Client

from accounts.models import User
from billing.api import _plans_body
from billing.models import Subscription
from core import entitlements
from core.entitlements import Limit, limit_register
from tests.conftest import personal_team

FIXTURES = Path(__file__).parent / "fixtures"
WEBHOOK_SECRET = "whsec_test_0123456789abcdef0123456789abcdef"
WEBHOOK_URL = "/api/webhooks/stripe/"
CUSTOMER_ID = "cus_TfxAnn0000001"  # the customer named in every fixture
FIRST_SUBSCRIPTION = "sub_1SfxSubscription01"  # the subscription named in every fixture
SECOND_SUBSCRIPTION = "sub_1SfxSubscription02"


def stripe_event(name: str, *, user: User | None = None, **changes: Any) -> dict[str, Any]:
    """The fixture event `name` (e.g. "invoice.paid"), its top-level fields replaced by `changes`;
    `user` makes a checkout session name that user."""
    event: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    event.update(changes)
    if user is not None and name == "checkout.session.completed":
        event["data"]["object"]["client_reference_id"] = str(user.pk)
    return event


def second_subscription_event(name: str, *, user: User | None = None, created: int) -> dict[str, Any]:
    """The fixture event `name` as Stripe sends it for a second subscription of the same customer
    (a new checkout after the first was canceled): new event, session, subscription and invoice ids."""
    text = json.dumps(stripe_event(name, user=user, created=created))
    for first, second in [
        (FIRST_SUBSCRIPTION, SECOND_SUBSCRIPTION),
        ("cs_test_a1B2c3D4e5F6", "cs_test_z9Y8x7W6v5U4"),
        ("in_1SfxInvoice0000001", "in_1SfxInvoice0000011"),
        ("si_TfxItem0000001", "si_TfxItem0000002"),
    ]:
        text = text.replace(first, second)
    event: dict[str, Any] = json.loads(text)
    event["id"] = "evt_2nd" + event["id"].removeprefix("evt_1Sfx")
    if event["data"]["object"]["object"] == "subscription":
        event["data"]["object"]["created"] = created - 5  # subscribed a moment before the event
    return event


def signed(
    event: dict[str, Any] | str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[str, str]:
    """The body and `Stripe-Signature` header Stripe would send, signed with the SDK's own helper."""
    payload = event if isinstance(event, str) else json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    return payload, header


def post_event(client: Client, event: dict[str, Any] | str, **sign: Any) -> Any:
    payload, header = signed(event, **sign)
    return client.post(WEBHOOK_URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


@pytest.fixture(autouse=True)
def _webhook_secret(settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


@pytest.fixture(autouse=True)
def _simulation_allowed(settings: Any) -> None:
    # The suite runs with DEBUG off, where the simulation is off unless asked for; most billing tests
    # use it as a stand-in for Stripe. Tests of billing switched off set it back to False.
    settings.BILLING_SIMULATION = True


@pytest.fixture
def customer(user: User) -> Subscription:
    """Ann, linked to the Stripe customer of the fixtures (as her first checkout does)."""
    return Subscription.objects.create(team=personal_team(user), stripe_customer_id=CUSTOMER_ID)


# --- A local Stripe --------------------------------------------------------------------------------


@dataclass
class FakeStripe:
    url: str
    requests: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    fail_next: int = 0  # answer this many requests with a Stripe error

    def calls(self, path: str) -> list[dict[str, str]]:
        return [params for called, params, _ in self.requests if called == path]


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        fake = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        params = dict(parse_qsl(body, keep_blank_values=True))
        fake.requests.append((self.path, params, dict(self.headers)))
        key = (self.path, self.headers.get("Idempotency-Key") or f"none-{len(fake.requests)}")
        if fake.fail_next:
            fake.fail_next -= 1
            self._answer(400, {"error": {"type": "invalid_request_error", "message": "No such price."}})
            return
        if key in self.server.replies:  # Stripe answers a repeated idempotency key with the first reply
            self._answer(200, self.server.replies[key])
            return
        n = len(self.server.replies) + 1
        if self.path == "/v1/customers":
            reply = {"id": f"cus_Fake{n:09d}", "object": "customer", "email": params.get("email")}
        elif self.path == "/v1/checkout/sessions":
            reply = {
                "id": f"cs_test_fake{n:06d}",
                "object": "checkout.session",
                "mode": params.get("mode"),
                "customer": params.get("customer"),
                "client_reference_id": params.get("client_reference_id"),
                "url": f"https://checkout.stripe.com/c/pay/cs_test_fake{n:06d}",
            }
        elif self.path == "/v1/billing_portal/sessions":
            reply = {
                "id": f"bps_fake{n:06d}",
                "object": "billing_portal.session",
                "customer": params.get("customer"),
                "url": f"https://billing.stripe.com/p/session/test_fake{n:06d}",
            }
        elif self.path.startswith("/v1/subscription_items/"):
            reply = {
                "id": self.path.rsplit("/", 1)[1],
                "object": "subscription_item",
                "quantity": int(params.get("quantity", "1")),
            }
        else:
            self._answer(
                404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL."}}
            )
            return
        self.server.replies[key] = reply
        self._answer(200, reply)

    def _answer(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", f"req_fake{time.monotonic_ns()}")
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    fake: FakeStripe
    replies: dict[tuple[str, str], dict[str, Any]]


@pytest.fixture
def fake_stripe(settings: Any) -> Iterator[FakeStripe]:
    """Billing connected to "Stripe" (keys set), the SDK pointed at a local server."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeStripe(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.replies = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_API_BASE = server.fake.url
    yield server.fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def declared_limits() -> Iterator[None]:
    """The limits the chat and posts apps declare, declared here the same way: billing's tests of the
    numbers its plans give them hold whether or not those apps are installed."""
    saved = dict(entitlements._limits)
    limit_register(
        Limit(
            "chat_messages_per_day",
            "chat_messages_today",
            lambda user: 0,
            default=3,
            order=10,
            describe="{} AI chat messages a day",
        )
    )
    limit_register(Limit("max_posts", "posts", lambda user: 0, default=None, order=20))
    _plans_body.cache_clear()
    yield
    entitlements._limits.clear()
    entitlements._limits.update(saved)
    _plans_body.cache_clear()
