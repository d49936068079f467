"""Billing's work: Stripe customers, checkout and portal sessions, and webhook events processed once.

Webhook processing follows Stripe's advice (https://docs.stripe.com/webhooks#best-practices):
verify the signature, store the event keyed by its id so duplicates are no-ops, answer 2xx at
once, process in the background, and never let an older event overwrite newer state (Stripe does
not guarantee delivery order).
"""

import logging
import re
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import User
from billing import stripe as stripe_api
from billing.models import (
    RETRY_MAX_ATTEMPTS,
    StripeEvent,
    StripeEventStatus,
    StripeSubscription,
    Subscription,
    SubscriptionStatus,
    retry_delay,
)
from billing.plans import PRO, plan_for
from billing.tasks import seats_sync_task, stripe_event_process_task
from core.audit import audit_record
from core.mail import send_readable
from teams.models import Membership, Role, Team
from teams.roles import Permission, can

logger = logging.getLogger(__name__)


class BillingError(Exception):
    """Something a person should be told (Stripe unreachable, nothing to manage yet)."""


class AlreadySubscribed(BillingError):
    """The team is on a paid plan already: a second checkout would make a second subscription."""

    def __init__(self) -> None:
        super().__init__("You are already on a paid plan.")


class NotOwner(BillingError):
    """Billing is the team owners' (Permission.BILLING): admins and members are told so."""

    def __init__(self) -> None:
        super().__init__("Only the team's owners can change its plan or billing. Ask an owner.")


def may_bill(membership: Membership) -> bool:
    """Whether the member may change the team's plan or billing: its owners (Permission.BILLING)."""
    return can(membership.role, Permission.BILLING)


def owner_required(membership: Membership) -> None:
    """NotOwner for anyone the team's billing is not open to; every billing change asks it first."""
    if not may_bill(membership):
        raise NotOwner


class HandlerError(Exception):
    """An event that cannot be applied yet (e.g. a customer we do not know): retried with backoff."""


def seats_for(team: Team) -> int:
    """The seats Pro bills a team for: one per member."""
    return team.memberships.count()


BILLING_OFF = "Billing is not configured on this server"


def _billing_required(consequence: str) -> None:
    if stripe_api.billing_mode() == "off":
        raise BillingError(f"{BILLING_OFF}: {consequence}")


# --- Customers, checkout and portal --------------------------------------------------------------


def customer_ensure(*, team: Team, user: User) -> Subscription:
    """The team's billing record with a Stripe customer, created once and reused; `user` (the owner
    starting the checkout) gives the customer its email.

    The row lock makes two concurrent first checkouts create one customer; the idempotency key
    covers a retried request (https://docs.stripe.com/api/idempotent_requests).
    """
    Subscription.objects.get_or_create(team=team)
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(team=team)
        if not subscription.stripe_customer_id:
            if stripe_api.simulation_mode():
                subscription.stripe_customer_id = f"cus_sim_{get_random_string(14)}"
            else:
                import stripe  # imported on first use (billing/stripe.py says why)

                try:
                    customer = stripe_api.client().v1.customers.create(
                        params={
                            "email": user.email,
                            "name": team.name,
                            "metadata": {"team_id": str(team.pk)},
                        },
                        options={"idempotency_key": f"twofold-customer-team-{team.pk}"},
                    )
                except stripe.StripeError as error:
                    logger.warning("Stripe customer creation failed: %s", error)
                    raise BillingError(
                        "Stripe could not start the checkout. Please try again in a moment."
                    ) from error
                subscription.stripe_customer_id = customer.id
            subscription.save(update_fields=["stripe_customer_id", "updated_at"])
    return subscription


def checkout_session_create(*, membership: Membership, attempt: str) -> str:
    """Start a subscription Checkout Session for Pro for the member's team, one seat per member, and
    return the URL to send the owner to.

    `attempt` comes from the form that was rendered, so a double click (the same form sent twice)
    reuses one idempotency key and gets the same session instead of two.
    (https://docs.stripe.com/api/checkout/sessions/create)
    Raises NotOwner for anyone but an owner, AlreadySubscribed for a team on a paid plan, BillingError
    when Stripe fails.
    """
    owner_required(membership)
    _billing_required("upgrading is not available.")
    team, user = membership.team, membership.user
    if plan_for(team).price_cents:
        raise AlreadySubscribed
    subscription = customer_ensure(team=team, user=user)
    if stripe_api.simulation_mode():
        return reverse("billing:simulated_checkout")
    billing_url = settings.SITE_URL + reverse("billing:billing_overview")
    import stripe  # imported on first use (billing/stripe.py says why)

    try:
        session = stripe_api.client().v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": subscription.stripe_customer_id or "",
                "client_reference_id": f"team_{team.pk}",
                "line_items": [{"price": PRO.stripe_price_id, "quantity": seats_for(team)}],
                "success_url": billing_url + "?checkout=success",
                "cancel_url": billing_url + "?checkout=canceled",
                "subscription_data": {"metadata": {"team_id": str(team.pk)}},
            },
            options={"idempotency_key": f"twofold-checkout-team-{team.pk}-{attempt}"},
        )
    except stripe.StripeError as error:
        logger.warning("Stripe checkout session failed: %s", error)
        raise BillingError("Stripe could not start the checkout. Please try again in a moment.") from error
    if not session.url:
        raise BillingError("Stripe did not return a checkout page.")
    return session.url


def portal_session_create(*, membership: Membership) -> str:
    """A Stripe customer portal session for the member's team (owners only); the URL to send them to.
    (https://docs.stripe.com/api/customer_portal/sessions/create)"""
    owner_required(membership)
    _billing_required("there is no billing portal to open.")
    subscription = Subscription.of(membership.team)
    if subscription is None or not subscription.stripe_customer_id:
        raise BillingError("There is no billing account to manage yet: upgrade first.")
    if stripe_api.simulation_mode():
        return reverse("billing:simulated_portal")
    import stripe  # imported on first use (billing/stripe.py says why)

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
    data, replaced = stripe_api.payload_storable(
        stripe_api.event_verify(payload=payload, signature=signature)
    )
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
                # Stored rather than refused: such a character is in what someone typed, not in
                # what the event means, and refusing would lose it for good.
                note="Characters a database cannot store were replaced by U+FFFD." if replaced else "",
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
            _note_add(event, "No handler for this event type.")
        else:
            try:
                with transaction.atomic():
                    _note_add(event, handler(event))
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


def _note_add(event: StripeEvent, note: str) -> None:
    # A handler's note joins what ingest noted (a handler runs to success once, so nothing repeats).
    event.note = "; ".join(part for part in (event.note, note) if part)[:255]


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


# --- Seats: Pro's quantity follows the team's members ---------------------------------------------


def seats_sync_enqueue(*, team: Team) -> None:
    """After a member joined or left (`teams.signals.membership_changed`, sent on commit): bring the
    subscription's quantity to the number of members, in the background (the task backend)."""
    subscription = Subscription.objects.filter(team=team).only("status", "quantity").first()
    if subscription is None or not subscription.is_entitled:
        return  # nothing billed per seat: nothing to tell Stripe
    seats_sync_task.enqueue(team.pk)


def seats_sync(*, team_id: int) -> str:
    """Ask Stripe to bill the team's subscription for one seat per member, with proration
    (https://docs.stripe.com/billing/subscriptions/quantities,
    https://docs.stripe.com/api/subscription_items/update). Stripe answers with
    `customer.subscription.updated`, whose handler stores the quantity: the record follows Stripe, never
    our wish. In simulation mode that event is built and delivered locally. Returns what was done."""
    subscription = Subscription.objects.filter(team_id=team_id).select_related("team").first()
    if subscription is None or not subscription.is_entitled or not subscription.stripe_subscription_id:
        return "No paid subscription."
    seats = seats_for(subscription.team)
    if seats == subscription.quantity:
        return "Already at that quantity."
    if stripe_api.simulation_mode():
        from billing.simulation import simulated_quantity_change

        simulated_quantity_change(subscription=subscription, quantity=seats)
        return f"Simulated: {seats} seats."
    if stripe_api.billing_mode() == "off":
        return "Billing is off."
    import stripe  # imported on first use (billing/stripe.py says why)

    record = subscription.stripe_subscriptions.filter(stripe_id=subscription.stripe_subscription_id).first()
    item_id = record.item_id if record else ""
    client = stripe_api.client()
    if not item_id:
        stripe_subscription = client.v1.subscriptions.retrieve(subscription.stripe_subscription_id)
        item_id = stripe_subscription["items"]["data"][0]["id"]
    # No idempotency key: setting the quantity is idempotent itself (a second call with the same number
    # changes nothing), while a key reused for 2 → 3 → 2 → 3 within a day would skip the last change.
    try:
        client.v1.subscription_items.update(
            item_id, params={"quantity": seats, "proration_behavior": "create_prorations"}
        )
    except stripe.StripeError as error:
        logger.warning("Stripe refused the seat change of team %s: %s", team_id, error)
        raise
    return f"Asked Stripe for {seats} seats."


# --- Handlers: one per event type, each returns a short note (or "") -------------------------------

# Stripe's object ids: a prefix and letters, digits and underscores, far shorter than our columns.
STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")


def _stripe_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not STRIPE_ID.fullmatch(value):
        raise HandlerError(f"The event's {what} id is not a Stripe id.")
    return value


def _timestamp(value: object, what: str) -> datetime | None:
    if value is None or value == 0:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise HandlerError(f"The {what} is not a timestamp.")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise HandlerError(f"The {what} is out of range.") from None


def _subscription_locked_by_customer(customer_id: str) -> Subscription:
    subscription = Subscription.objects.select_for_update().filter(stripe_customer_id=customer_id).first()
    if subscription is None:
        # The checkout that links this customer to a team may simply not have arrived yet: retried.
        raise HandlerError(f"No account for Stripe customer {customer_id}.")
    return subscription


def _customer_id(obj: dict[str, Any]) -> str:
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if customer is None or customer == "":
        raise HandlerError("The event's object names no customer.")
    return _stripe_id(customer, "customer")


def _stripe_subscription_locked(
    subscription: Subscription, *, stripe_id: str, started_at: datetime
) -> StripeSubscription:
    record, _ = StripeSubscription.objects.select_for_update().get_or_create(
        stripe_id=stripe_id, defaults={"account": subscription, "started_at": started_at}
    )
    if record.account_id != subscription.pk:
        raise HandlerError(f"Subscription {stripe_id} belongs to another customer.")
    return record


def _current_subscription_mirror(subscription: Subscription) -> StripeSubscription | None:
    """Copy onto the team's record the subscription that decides its plan, and return it: an
    entitled one if there is any (the newest of them), else the newest. So which one counts depends
    on what each subscription's own events said, not on the order they arrived in."""
    records = list(subscription.stripe_subscriptions.order_by("-started_at", "-pk"))
    current = next((record for record in records if record.is_entitled), records[0] if records else None)
    if current is not None:
        subscription.stripe_subscription_id = current.stripe_id
        subscription.status = current.status
        subscription.price_id = current.price_id
        subscription.quantity = current.quantity
        subscription.current_period_end = current.current_period_end
        subscription.cancel_at_period_end = current.cancel_at_period_end
    return current


def _is_pk(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 18  # fits a bigint


def _checkout_team(reference: str) -> Team | None:
    """The team a checkout was for: `team_<id>`; a bare number is a user's id, from a checkout started
    before billing was per team, and means that user's personal team."""
    if reference.startswith("team_") and _is_pk(reference.removeprefix("team_")):
        return Team.objects.filter(pk=int(reference.removeprefix("team_"))).first()
    if _is_pk(reference):
        return Team.objects.filter(
            personal=True, memberships__user_id=int(reference), memberships__role=Role.OWNER
        ).first()
    return None


def checkout_session_completed(event: StripeEvent) -> str:
    """Link the Stripe customer and subscription to the team named by `client_reference_id`.
    The plan itself changes with the subscription events, not here.
    (https://docs.stripe.com/payments/checkout/fulfill-orders)"""
    session = event.data_object
    if session.get("mode") != "subscription":
        return "Not a subscription checkout."
    reference = str(session.get("client_reference_id") or "")
    team = _checkout_team(reference)
    if team is None:
        raise HandlerError(f"No team {reference[:64]!r} for this checkout.")
    customer_id = _customer_id(session)
    Subscription.objects.get_or_create(team=team)
    subscription = Subscription.objects.select_for_update().get(team=team)
    subscription.stripe_customer_id = customer_id
    stripe_id = session.get("subscription")
    if isinstance(stripe_id, dict):
        stripe_id = stripe_id.get("id")
    if stripe_id:
        # Known from now on (its state still unknown): the newest subscription while none is entitled.
        _stripe_subscription_locked(
            subscription, stripe_id=_stripe_id(stripe_id, "subscription"), started_at=event.created
        )
        _current_subscription_mirror(subscription)
    subscription.save()
    return ""


def subscription_changed(event: StripeEvent) -> str:
    """Record a subscription's state (created, updated or deleted) unless the event is older than
    the state held for that subscription, then mirror the one that counts onto the team's record, its
    quantity (the seats) included.

    A canceled subscription is final, but only that one: late events about it change nothing, while a
    new subscription of the same customer (cancel, then subscribe again) makes them Pro again.
    Since API 2025-03-31 the billing period lives on the subscription items.
    (https://docs.stripe.com/billing/subscriptions/webhooks)"""
    obj = event.data_object
    stripe_id = _stripe_id(obj.get("id"), "subscription")
    deleted = event.type == "customer.subscription.deleted"
    status = SubscriptionStatus.CANCELED if deleted else obj.get("status")
    if status not in SubscriptionStatus.values or not status:
        raise HandlerError(f"Unknown subscription status {str(status)[:64]!r}.")
    started_at = _timestamp(obj.get("created"), "subscription's created time") or event.created
    items = (obj.get("items") or {}).get("data") or [{}]
    price_id = (items[0].get("price") or {}).get("id") or ""
    price_id = _stripe_id(price_id, "price") if price_id else ""
    period_end = _timestamp(items[0].get("current_period_end"), "subscription's period end")
    quantity = items[0].get("quantity", 1)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= 1_000_000:
        raise HandlerError("The subscription item's quantity is not a number of seats.")
    item_id = _stripe_id(items[0]["id"], "subscription item") if items[0].get("id") else ""
    subscription = _subscription_locked_by_customer(_customer_id(obj))
    record = _stripe_subscription_locked(subscription, stripe_id=stripe_id, started_at=started_at)
    canceled = record.status == SubscriptionStatus.CANCELED
    # A deletion applies even when older than an update: nothing follows it.
    if record.event_at and event.created < record.event_at and (canceled or not deleted):
        return "Skipped: older than the state already applied."
    if canceled and not deleted:
        return "Skipped: this subscription is already canceled, which is final."
    record.status = status
    record.price_id = price_id
    record.quantity = quantity
    record.item_id = item_id
    record.current_period_end = period_end
    record.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    record.started_at = started_at
    record.event_at = max(record.event_at or event.created, event.created)
    record.save()
    current = _current_subscription_mirror(subscription)
    if deleted and current == record:
        subscription.payment_failed = False  # nothing left to pay: no banner for an ended plan
    subscription.save()
    if current is not None and current != record:
        return f"Recorded; {current.stripe_id} is the subscription that decides the plan."[:255]
    return ""


def _invoice_of_a_canceled_subscription(subscription: Subscription, invoice: dict[str, Any]) -> bool:
    # Since API 2025-03-31 an invoice names its subscription under `parent`; before, at the top.
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    stripe_id = details.get("subscription") or invoice.get("subscription")
    if not isinstance(stripe_id, str):
        return False
    return subscription.stripe_subscriptions.filter(
        stripe_id=stripe_id, status=SubscriptionStatus.CANCELED
    ).exists()


def invoice_paid(event: StripeEvent) -> str:
    """A paid invoice ends the payment-failed banner. (https://docs.stripe.com/billing/subscriptions/webhooks#active-subscriptions)"""
    subscription = _subscription_locked_by_customer(_customer_id(event.data_object))
    if subscription.invoice_event_at and event.created < subscription.invoice_event_at:
        return "Skipped: older than the invoice state already applied."
    if _invoice_of_a_canceled_subscription(subscription, event.data_object):
        return "Skipped: the invoice of a canceled subscription."
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
    if _invoice_of_a_canceled_subscription(subscription, invoice):
        return "Skipped: the invoice of a canceled subscription; nobody emailed."
    subscription.payment_failed = True
    subscription.invoice_event_at = event.created
    subscription.save(update_fields=["payment_failed", "invoice_event_at", "updated_at"])
    owners = list(
        User.objects.filter(memberships__team_id=subscription.team_id, memberships__role=Role.OWNER)
    )
    currency = str(invoice.get("currency") or "usd").upper()
    context = {
        "team": subscription.team,
        "amount": f"{(invoice.get('amount_due') or 0) / 100:.2f} {currency}",
        "billing_url": settings.SITE_URL + reverse("billing:billing_overview"),
        "hosted_invoice_url": invoice.get("hosted_invoice_url") or "",
    }
    # Only once the change is committed: a rolled-back attempt must not have emailed anyone.
    transaction.on_commit(
        lambda: send_readable(
            subject="Your Twofold payment failed",
            body=render_to_string("billing/email/payment_failed.txt", context),
            to=[owner.email for owner in owners],
        )
    )
    return "Owners emailed." if owners else "Nobody to email."


HANDLERS: dict[str, Callable[[StripeEvent], str]] = {
    "checkout.session.completed": checkout_session_completed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
}
