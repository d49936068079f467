"""The one module that talks to Stripe: the API client, webhook signatures, and simulation mode.

With no `STRIPE_SECRET_KEY`, billing runs in local simulation mode: nothing leaves the machine, and
simulated events are signed here with a local webhook secret so they pass the very same signature
check as Stripe's own deliveries.
"""

import hashlib
import json
from typing import Any

import stripe
from django.conf import settings

# Stripe signs each delivery with a timestamp; older than this is refused as a possible replay
# (https://docs.stripe.com/webhooks#verify-manually). 300 s is Stripe's own default.
SIGNATURE_TOLERANCE_SECONDS = 300


class WebhookError(Exception):
    """A delivery that is refused: the message is the short reason answered with the 400."""


def simulation_mode() -> bool:
    """No Stripe keys: checkout and portal are local simulated pages, events are signed locally."""
    return not settings.STRIPE_SECRET_KEY


def webhook_secret() -> str:
    """The secret that signs webhook deliveries: Stripe's `whsec_…`, or in simulation mode a local one."""
    if settings.STRIPE_WEBHOOK_SECRET:
        return str(settings.STRIPE_WEBHOOK_SECRET)
    if simulation_mode():
        # Derived from SECRET_KEY so it is stable across restarts and unknown outside this deployment.
        digest = hashlib.sha256(f"twofold-stripe-simulation:{settings.SECRET_KEY}".encode()).hexdigest()
        return f"whsec_sim_{digest[:32]}"
    return ""


def client() -> stripe.StripeClient:
    """A Stripe client with the pinned API version; `STRIPE_API_BASE` points it at a local server."""
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
    try:
        stripe.WebhookSignature.verify_header(text, signature, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as error:
        message = str(error.user_message or error)
        if "tolerance" in message:
            raise WebhookError("Signature timestamp too old.") from error
        raise WebhookError("Invalid signature.") from error
    try:
        event = json.loads(text)
    except ValueError as error:
        raise WebhookError("Body is not JSON.") from error
    if not (
        isinstance(event, dict)
        and event.get("object") == "event"
        and isinstance(event.get("id"), str)
        and event["id"].startswith("evt_")
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise WebhookError("Body is not a Stripe event.")
    return event


def signature_header(payload: str, *, timestamp: int | None = None, secret: str | None = None) -> str:
    """A `Stripe-Signature` header for `payload`, computed as Stripe does, with the SDK's own helper."""
    header: str = stripe.WebhookSignature.generate_signature_header(
        payload, secret or webhook_secret(), timestamp=timestamp
    )
    return header
