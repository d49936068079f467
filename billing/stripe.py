"""The one module that talks to Stripe: the API client, webhook signatures, and simulation mode.

Billing runs in one of three modes. With `STRIPE_SECRET_KEY` it is connected to Stripe. Without it,
`BILLING_SIMULATION` (on by default in debug only) runs the local simulation: nothing leaves the
machine, and simulated events are signed here with a local webhook secret so they pass the very
same signature check as Stripe's own deliveries. Otherwise billing is off: nobody can upgrade, since
a simulation under production settings would give Pro away for free.
"""

import hashlib
import math
import re
import time
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings

from core.jsonparse import MAX_JSON_DEPTH, InvalidJSON, JSONTooDeep, json_loads_limited

if TYPE_CHECKING:
    import stripe

# The SDK (and httpx under it) is imported where it is first used, not when the URLconf loads: a
# large part of the production command's start-up otherwise, for a page or webhook that may never come.

# Stripe signs each delivery with a timestamp; older than this is refused as a possible replay
# (https://docs.stripe.com/webhooks#verify-manually). 300 s is Stripe's own default.
SIGNATURE_TOLERANCE_SECONDS = 300


class WebhookError(Exception):
    """A delivery that is refused: the message is the short reason answered with the 400."""


BillingMode = Literal["stripe", "simulation", "off"]


def billing_mode() -> BillingMode:
    if settings.STRIPE_SECRET_KEY:
        return "stripe"
    if settings.BILLING_SIMULATION:
        return "simulation"
    return "off"


def simulation_mode() -> bool:
    """No Stripe keys and the simulation asked for: checkout and portal are local simulated pages,
    events are signed locally."""
    return billing_mode() == "simulation"


# Stripe's ids are `evt_` and letters, digits and underscores; its event types are dotted lowercase
# words (`customer.subscription.created`, `v1.billing.meter.error_report_triggered`).
EVENT_ID = re.compile(r"evt_\w+", re.ASCII)
EVENT_TYPE = re.compile(r"[\w.\-]+", re.ASCII)
EVENTS_BEGIN = 1293840000  # 2011-01-01, before Stripe's first event
CLOCK_SKEW_SECONDS = 86400

# PostgreSQL refuses NUL in text and jsonb, and a lone surrogate cannot be encoded to UTF-8 at all.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def webhook_secret() -> str:
    """The secret that signs webhook deliveries: Stripe's `whsec_…`, or in simulation mode a local one."""
    if settings.STRIPE_WEBHOOK_SECRET:
        return str(settings.STRIPE_WEBHOOK_SECRET)
    if simulation_mode():
        # Derived from SECRET_KEY so it is stable across restarts and unknown outside this deployment.
        digest = hashlib.sha256(f"twofold-stripe-simulation:{settings.SECRET_KEY}".encode()).hexdigest()
        return f"whsec_sim_{digest[:32]}"
    return ""


def api_version() -> str:
    """The Stripe API version the SDK pins (the one our events and requests speak)."""
    import stripe

    return str(stripe.api_version)


def client() -> "stripe.StripeClient":
    """A Stripe client with the pinned API version; `STRIPE_API_BASE` points it at a local server."""
    import stripe

    if settings.STRIPE_API_BASE:
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses={"api": settings.STRIPE_API_BASE},
            max_network_retries=2,
        )
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, max_network_retries=2)


def event_verify(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    """Check the `Stripe-Signature` header over the raw body and return the event as a dict.

    Raises WebhookError for a missing, malformed, wrong or stale signature, or a body that is not
    a Stripe event. Follows https://docs.stripe.com/webhooks#verify-official-libraries.
    """
    secret = webhook_secret()
    if not secret:
        raise WebhookError("Webhook secret not configured.")
    if not signature:
        raise WebhookError("Missing Stripe-Signature header.")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise WebhookError("Body is not UTF-8.") from error
    import stripe

    try:
        stripe.WebhookSignature.verify_header(text, signature, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as error:
        message = str(error.user_message or error)
        if "tolerance" in message:
            raise WebhookError("Signature timestamp too old.") from error
        raise WebhookError("Invalid signature.") from error
    try:
        # Not json.loads: a signed body can still nest deep enough to raise RecursionError (a 500).
        event = json_loads_limited(text)
    except JSONTooDeep as error:
        raise WebhookError(f"Body nests deeper than {MAX_JSON_DEPTH} levels.") from error
    except InvalidJSON as error:
        raise WebhookError("Body is not JSON.") from error
    if not (
        isinstance(event, dict)
        and event.get("object") == "event"
        and isinstance(event.get("id"), str)
        and EVENT_ID.fullmatch(event["id"])
        and isinstance(event.get("type"), str)
        and EVENT_TYPE.fullmatch(event["type"])
        and isinstance(event.get("created"), int)
        and not isinstance(event["created"], bool)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise WebhookError("Body is not a Stripe event.")
    # What the event table holds. Refused, not cut short: the id is what makes a delivery count once,
    # and no real Stripe event comes near these limits.
    if len(event["id"]) > 255:
        raise WebhookError("Event id too long (more than 255 characters).")
    if len(event["type"]) > 100:
        raise WebhookError("Event type too long (more than 100 characters).")
    # `created` orders the events of a subscription: one from far in the future would make every
    # real event after it look stale.
    if not EVENTS_BEGIN <= event["created"] <= time.time() + CLOCK_SKEW_SECONDS:
        raise WebhookError("Event created time out of range.")
    return event


def payload_storable(value: Any) -> tuple[Any, bool]:
    """`value` (parsed JSON, depth already limited) with every character a database cannot store
    replaced by U+FFFD, in keys and strings alike, and whether any was. Raises WebhookError for a
    number no database holds (JSON's `1e400` parses to infinity)."""
    if isinstance(value, str):
        clean = UNSTORABLE.sub("\ufffd", value)
        return clean, clean != value
    if isinstance(value, float) and not math.isfinite(value):
        raise WebhookError("Body is not JSON.")
    if isinstance(value, list):
        items = [payload_storable(item) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if isinstance(value, dict):
        pairs = [(payload_storable(key), payload_storable(item)) for key, item in value.items()]
        return (
            {key: item for (key, _), (item, _) in pairs},
            any(key_changed or changed for (_, key_changed), (_, changed) in pairs),
        )
    return value, False


def signature_header(payload: str, *, timestamp: int | None = None, secret: str | None = None) -> str:
    """A `Stripe-Signature` header for `payload`, computed as Stripe does, with the SDK's own helper."""
    import stripe

    header: str = stripe.WebhookSignature.generate_signature_header(
        payload, secret or webhook_secret(), timestamp=timestamp
    )
    return header
