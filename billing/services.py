"""Billing's work: Stripe customers, checkout and portal sessions, and webhook events processed once.

Webhook processing follows Stripe's advice (https://docs.stripe.com/webhooks#best-practices):
verify the signature, store the event keyed by its id so duplicates are no-ops, answer 2xx at
once, process in the background, and never let an older event overwrite newer state (Stripe does
not guarantee delivery order).
"""

import logging
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import User
from billing import stripe as stripe_api
from billing.models import (
    ENTITLED_STATUSES,
    RETRY_MAX_ATTEMPTS,
    StripeEvent,
    StripeEventStatus,
    Subscription,
    SubscriptionStatus,
    retry_delay,
)
from billing.plans import PRO
from billing.tasks import stripe_event_process_task
from staff.audit import audit_record

logger = logging.getLogger(__name__)


class BillingError(Exception):
    """Something a person should be told (Stripe unreachable, nothing to manage yet)."""


class HandlerError(Exception):
    """An event that cannot be applied yet (e.g. a customer we do not know): retried with backoff."""


def subscription_get(*, user: User) -> Subscription | None:
    """The user's billing record, or None before their first checkout. Cached on the user object."""
    try:
        return user.billing_subscription
    except Subscription.DoesNotExist:
        return None


def _from_timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


# --- Customers, checkout and portal --------------------------------------------------------------


def customer_ensure(*, user: User) -> Subscription:
    """The user's billing record with a Stripe customer, created once and reused.

    The row lock makes two concurrent first checkouts create one customer; the idempotency key
    covers a retried request (https://docs.stripe.com/api/idempotent_requests).
    """
    Subscription.objects.get_or_create(user=user)
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(user=user)
        if not subscription.stripe_customer_id:
            if stripe_api.simulation_mode():
                subscription.stripe_customer_id = f"cus_sim_{get_random_string(14)}"
            else:
                try:
                    customer = stripe_api.client().v1.customers.create(
                        params={
                            "email": user.email,
                            "name": user.name,
                            "metadata": {"user_id": str(user.pk)},
                        },
                        options={"idempotency_key": f"twofold-customer-{user.pk}"},
                    )
                except stripe.StripeError as error:
                    logger.warning("Stripe customer creation failed: %s", error)
                    raise BillingError(
                        "Stripe could not start the checkout. Please try again in a moment."
                    ) from error
                subscription.stripe_customer_id = customer.id
            subscription.save(update_fields=["stripe_customer_id", "updated_at"])
    return subscription


def checkout_session_create(*, user: User, attempt: str) -> str:
    """Start a subscription Checkout Session for Pro and return the URL to send the user to.

    `attempt` comes from the form that was rendered, so a double click (the same form sent twice)
    reuses one idempotency key and gets the same session instead of two.
    (https://docs.stripe.com/api/checkout/sessions/create)
    """
    subscription = customer_ensure(user=user)
    if stripe_api.simulation_mode():
        return reverse("billing:simulated_checkout")
    billing_url = settings.SITE_URL + reverse("billing:billing_overview")
    try:
        session = stripe_api.client().v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": subscription.stripe_customer_id or "",
                "client_reference_id": str(user.pk),
                "line_items": [{"price": PRO.stripe_price_id, "quantity": 1}],
                "success_url": billing_url + "?checkout=success",
                "cancel_url": billing_url + "?checkout=canceled",
                "subscription_data": {"metadata": {"user_id": str(user.pk)}},
            },
            options={"idempotency_key": f"twofold-checkout-{user.pk}-{attempt}"},
        )
    except stripe.StripeError as error:
        logger.warning("Stripe checkout session failed: %s", error)
        raise BillingError("Stripe could not start the checkout. Please try again in a moment.") from error
    if not session.url:
        raise BillingError("Stripe did not return a checkout page.")
    return session.url


def portal_session_create(*, user: User) -> str:
    """A Stripe customer portal session for the user; the URL to send them to.
    (https://docs.stripe.com/api/customer_portal/sessions/create)"""
    subscription = subscription_get(user=user)
    if subscription is None or not subscription.stripe_customer_id:
        raise BillingError("There is no billing account to manage yet: upgrade first.")
    if stripe_api.simulation_mode():
        return reverse("billing:simulated_portal")
    try:
        session = stripe_api.client().v1.billing_portal.sessions.create(
            params={
                "customer": subscription.stripe_customer_id,
                "return_url": settings.SITE_URL + reverse("billing:billing_overview"),
            }
        )
    except stripe.StripeError as error:
        logger.warning("Stripe portal session failed: %s", error)
        raise BillingError(
            "Stripe could not open the billing portal. Please try again in a moment."
        ) from error
    return str(session.url)


# --- Webhook events --------------------------------------------------------------------------------


def stripe_event_receive(*, payload: bytes, signature: str | None) -> tuple[str, bool]:
    """Verify a delivery, store its event once and enqueue its processing.

    Returns the event id and whether it was new. A duplicate (even a concurrent one) loses the race
    on the primary key and changes nothing. Raises `billing.stripe.WebhookError` for a refused delivery.
    """
    data = stripe_api.event_verify(payload=payload, signature=signature)
    # Outside a transaction the INSERT commits on its own: one round trip instead of three (BEGIN,
    # INSERT, COMMIT), the bulk of ingest's time. Inside a caller's transaction, a savepoint keeps a
    # duplicate from breaking it.
    in_transaction = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if in_transaction else nullcontext():
            event = StripeEvent.objects.create(
                id=data["id"],
                type=data["type"],
                created=datetime.fromtimestamp(data["created"], tz=UTC),
                livemode=bool(data.get("livemode")),
                payload=data,
            )
    except IntegrityError:
        return data["id"], False
    # After the insert is committed (or, inside a caller's transaction, in that same transaction:
    # django-tasks-db stores the task in the same database, so it cannot run before the event exists).
    # Should the process die between the two, the event stays pending without a task, and
    # `manage.py stripe_events_retry` picks it up once it is older than STUCK_AFTER.
    stripe_event_process_task.enqueue(event.id)
    return event.id, True


def stripe_event_process(*, event_id: str, force: bool = False) -> StripeEvent:
    """Apply one stored event under a lock on its row, at most once.

    A processed or ignored event is left alone. A handler that raises leaves the event `failed`
    with its error and a next attempt time (exponential backoff); `force` replays a failed event
    now (the staff panel).
    """
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(pk=event_id)
        if event.status in (StripeEventStatus.PROCESSED, StripeEventStatus.IGNORED):
            return event
        if event.status == StripeEventStatus.FAILED and not force and event.next_attempt_at is None:
            return event  # given up: only a replay runs it again
        handler = HANDLERS.get(event.type)
        event.attempts += 1
        if handler is None:
            event.status = StripeEventStatus.IGNORED
            event.note = "No handler for this event type."
        else:
            try:
                with transaction.atomic():
                    event.note = handler(event) or ""
            except Exception as error:
                logger.warning("Stripe event %s (%s) failed: %s", event.id, event.type, error)
                event.status = StripeEventStatus.FAILED
                event.error = f"{type(error).__name__}: {error}"[:2000]
                event.next_attempt_at = (
                    timezone.now() + retry_delay(event.attempts)
                    if event.attempts < RETRY_MAX_ATTEMPTS
                    else None
                )
                _retry_schedule(event)
            else:
                event.status = StripeEventStatus.PROCESSED
                event.error = ""
                event.next_attempt_at = None
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "attempts", "error", "note", "next_attempt_at", "processed_at"])
    return event


def _retry_schedule(event: StripeEvent) -> None:
    """Enqueue the retry for later when the task backend can defer (django-tasks-db); otherwise
    `manage.py stripe_events_retry` (run it from cron) picks up events whose time has come."""
    when = event.next_attempt_at
    if when is None or not stripe_event_process_task.get_backend().supports_defer:
        return
    # Stored in the same transaction as the failure by django-tasks-db.
    stripe_event_process_task.using(run_after=when).enqueue(event.id)


def stripe_events_retry_due() -> int:
    """Process every failed event whose next attempt is due, and every event left pending for
    long (its task was lost, e.g. the process died after storing it); returns how many were tried."""
    ids = list(StripeEvent.objects.due_for_retry().values_list("id", flat=True)[:500])
    for event_id in ids:
        stripe_event_process(event_id=event_id, force=True)
    return len(ids)


def stripe_event_replay(*, event: StripeEvent, actor: User) -> StripeEvent:
    """Run a failed (or stuck pending) event again now, from the staff panel, audit-logged."""
    if event.status not in (StripeEventStatus.FAILED, StripeEventStatus.PENDING):
        raise BillingError(f"Only failed or pending events can be replayed; this one is {event.status}.")
    with transaction.atomic():
        audit_record(actor=actor, action="stripe_event.replay", target=event, detail={"type": event.type})
        return stripe_event_process(event_id=event.id, force=True)


# --- Handlers: one per event type, each returns a short note (or "") -------------------------------


def _subscription_locked_by_customer(customer_id: str) -> Subscription:
    subscription = Subscription.objects.select_for_update().filter(stripe_customer_id=customer_id).first()
    if subscription is None:
        # The checkout that links this customer to a user may simply not have arrived yet: retried.
        raise HandlerError(f"No account for Stripe customer {customer_id}.")
    return subscription


def _customer_id(obj: dict[str, Any]) -> str:
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if not isinstance(customer, str) or not customer:
        raise HandlerError("The event's object names no customer.")
    return customer


def checkout_session_completed(event: StripeEvent) -> str:
    """Link the Stripe customer and subscription to the user named by `client_reference_id`.
    The plan itself changes with the subscription events, not here.
    (https://docs.stripe.com/payments/checkout/fulfill-orders)"""
    session = event.data_object
    if session.get("mode") != "subscription":
        return "Not a subscription checkout."
    user = User.objects.filter(pk=session.get("client_reference_id") or 0).first()
    if user is None:
        raise HandlerError(f"No user {session.get('client_reference_id')!r} for this checkout.")
    Subscription.objects.get_or_create(user=user)
    subscription = Subscription.objects.select_for_update().get(user=user)
    subscription.stripe_customer_id = _customer_id(session)
    if not subscription.stripe_subscription_id or subscription.status not in ENTITLED_STATUSES:
        subscription.stripe_subscription_id = str(session.get("subscription") or "")
    subscription.save(update_fields=["stripe_customer_id", "stripe_subscription_id", "updated_at"])
    return ""


def subscription_changed(event: StripeEvent) -> str:
    """Mirror a subscription's state (created, updated or deleted), unless the event is older than
    the state we hold. Since API 2025-03-31 the billing period lives on the subscription items.
    (https://docs.stripe.com/billing/subscriptions/webhooks)"""
    obj = event.data_object
    subscription = _subscription_locked_by_customer(_customer_id(obj))
    if subscription.subscription_event_at and event.created < subscription.subscription_event_at:
        return "Skipped: older than the state already applied."
    same = subscription.stripe_subscription_id == obj["id"]
    deleted = event.type == "customer.subscription.deleted"
    if same and subscription.status == SubscriptionStatus.CANCELED and not deleted:
        return "Skipped: this subscription is already canceled, which is final."
    if not same and subscription.status in ENTITLED_STATUSES and obj.get("status") not in ENTITLED_STATUSES:
        return "Skipped: describes another subscription than the live one."
    items = (obj.get("items") or {}).get("data") or [{}]
    subscription.stripe_subscription_id = obj["id"]
    subscription.status = SubscriptionStatus.CANCELED if deleted else str(obj.get("status") or "")
    subscription.price_id = str((items[0].get("price") or {}).get("id") or "")
    subscription.current_period_end = _from_timestamp(items[0].get("current_period_end"))
    subscription.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    subscription.subscription_event_at = event.created
    if deleted:
        subscription.payment_failed = False  # nothing left to pay: no banner for an ended plan
    subscription.save()
    return ""


def invoice_paid(event: StripeEvent) -> str:
    """A paid invoice ends the payment-failed banner. (https://docs.stripe.com/billing/subscriptions/webhooks#active-subscriptions)"""
    subscription = _subscription_locked_by_customer(_customer_id(event.data_object))
    if subscription.invoice_event_at and event.created < subscription.invoice_event_at:
        return "Skipped: older than the invoice state already applied."
    subscription.payment_failed = False
    subscription.invoice_event_at = event.created
    subscription.save(update_fields=["payment_failed", "invoice_event_at", "updated_at"])
    return ""


def invoice_payment_failed(event: StripeEvent) -> str:
    """Tell the customer by email and show a banner until an invoice is paid.
    (https://docs.stripe.com/billing/subscriptions/webhooks#payment-failures)"""
    invoice = event.data_object
    subscription = _subscription_locked_by_customer(_customer_id(invoice))
    if subscription.invoice_event_at and event.created < subscription.invoice_event_at:
        return "Skipped: older than the invoice state already applied."
    subscription.payment_failed = True
    subscription.invoice_event_at = event.created
    subscription.save(update_fields=["payment_failed", "invoice_event_at", "updated_at"])
    user = subscription.user
    currency = str(invoice.get("currency") or "usd").upper()
    context = {
        "user": user,
        "amount": f"{(invoice.get('amount_due') or 0) / 100:.2f} {currency}",
        "billing_url": settings.SITE_URL + reverse("billing:billing_overview"),
        "hosted_invoice_url": invoice.get("hosted_invoice_url") or "",
    }
    # Only once the change is committed: a rolled-back attempt must not have emailed anyone.
    transaction.on_commit(
        lambda: send_mail(
            subject="Your Twofold payment failed",
            message=render_to_string("billing/email/payment_failed.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )
    )
    return "Customer emailed."


HANDLERS: dict[str, Callable[[StripeEvent], str]] = {
    "checkout.session.completed": checkout_session_completed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
}
