"""Local simulation mode: Stripe-shaped events for what a customer does on Stripe's pages.

With no Stripe keys, the simulated checkout and portal pages call these functions. Each builds the
events Stripe would send (shapes of API version 2026-10-28.endive, trimmed to the fields Stripe
always includes and we read), serializes and signs them with the local webhook secret, and hands
the raw body and `Stripe-Signature` header to `stripe_event_receive`: the very function behind the
webhook endpoint, so they pass the same verification, storage and processing as real deliveries.
"""

import json
import time
from datetime import timedelta
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from billing import stripe as stripe_api
from billing.models import ENDED_STATUSES, StripeSubscription, Subscription, SubscriptionStatus
from billing.plans import PRO
from billing.services import BillingError, customer_ensure, owner_required, seats_for, stripe_event_receive
from teams.models import Membership

PortalOperation = Literal["cancel", "resume", "cancel_now", "fail_payment", "pay"]


def _event(event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": f"evt_sim_{get_random_string(24)}",
        "object": "event",
        "api_version": stripe_api.api_version(),
        "created": int(time.time()),
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def _deliver(event: dict[str, Any]) -> None:
    payload = json.dumps(event, separators=(",", ":"))
    stripe_event_receive(payload=payload.encode(), signature=stripe_api.signature_header(payload))


def _subscription_object(
    subscription: Subscription,
    *,
    status: str,
    cancel_at_period_end: bool,
    period_end: int,
    quantity: int | None = None,
) -> dict[str, Any]:
    now = int(time.time())
    price = {
        "id": PRO.stripe_price_id,
        "object": "price",
        "active": True,
        "currency": "usd",
        "product": "prod_sim_pro",
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": PRO.price_cents,
    }
    return {
        "id": subscription.stripe_subscription_id,
        "object": "subscription",
        "cancel_at": period_end if cancel_at_period_end else None,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": now if cancel_at_period_end or status == "canceled" else None,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": "usd",
        "customer": subscription.stripe_customer_id,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_sim_{subscription.stripe_subscription_id[-14:]}",
                    "object": "subscription_item",
                    "current_period_end": period_end,
                    "current_period_start": period_end - 30 * 86400,
                    "price": price,
                    "quantity": subscription.quantity if quantity is None else quantity,
                    "subscription": subscription.stripe_subscription_id,
                }
            ],
            "has_more": False,
        },
        "livemode": False,
        "metadata": {"team_id": str(subscription.team_id)},
        "status": status,
    }


def _invoice_object(subscription: Subscription, *, paid: bool, quantity: int | None = None) -> dict[str, Any]:
    # Stripe bills the item's price times its quantity: a per-seat plan costs every seat.
    amount = PRO.amount_cents(subscription.quantity if quantity is None else quantity)
    return {
        "id": f"in_sim_{get_random_string(14)}",
        "object": "invoice",
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount,
        "attempt_count": 1,
        "billing_reason": "subscription_cycle",
        "currency": "usd",
        "customer": subscription.stripe_customer_id,
        "hosted_invoice_url": None,
        "livemode": False,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription.stripe_subscription_id},
        },
        "status": "paid" if paid else "open",
    }


def simulated_checkout_complete(*, membership: Membership) -> None:
    """What Stripe sends when the customer pays a subscription checkout: the session completed,
    the subscription created (active), and its first invoice paid.

    Under a lock on the team's billing record, so two checkouts at once (two tabs, a double submit)
    make one subscription: the second waits, then finds the first. Owners only, as the real one.
    """
    owner_required(membership)
    customer_ensure(team=membership.team, user=membership.user)
    with transaction.atomic():
        _simulated_checkout_complete_locked(membership=membership)


def _simulated_checkout_complete_locked(*, membership: Membership) -> None:
    team = membership.team
    subscription = Subscription.objects.select_for_update().get(team=team)
    if subscription.is_entitled:
        raise BillingError("You already have an active subscription.")
    if subscription.stripe_subscriptions.exclude(status__in=ENDED_STATUSES).exists():
        # Paid, but its events are still queued for the task worker.
        raise BillingError("Your checkout is still being processed. Please wait a moment.")
    # Stripe creates the subscription the moment the customer pays; our record of it (its state
    # unknown until its events are processed) is what a second checkout finds.
    subscription.stripe_subscription_id = f"sub_sim_{get_random_string(14)}"
    StripeSubscription.objects.create(
        account=subscription, stripe_id=subscription.stripe_subscription_id, started_at=timezone.now()
    )
    period_end = int((timezone.now() + timedelta(days=30)).timestamp())
    session = {
        "id": f"cs_test_sim_{get_random_string(24)}",
        "object": "checkout.session",
        "client_reference_id": f"team_{team.pk}",
        "customer": subscription.stripe_customer_id,
        "customer_email": None,
        "livemode": False,
        "mode": "subscription",
        "payment_status": "paid",
        "status": "complete",
        "subscription": subscription.stripe_subscription_id,
        "url": None,
    }
    _deliver(_event("checkout.session.completed", session))
    sub = _subscription_object(
        subscription,
        status="active",
        cancel_at_period_end=False,
        period_end=period_end,
        quantity=seats_for(team),
    )
    _deliver(_event("customer.subscription.created", sub))
    invoice = _invoice_object(subscription, paid=True, quantity=seats_for(team))
    invoice["billing_reason"] = "subscription_create"
    _deliver(_event("invoice.paid", invoice))


def simulated_portal_change(*, membership: Membership, operation: PortalOperation) -> None:
    """What Stripe sends when the customer changes their subscription in the portal (or when a
    renewal payment fails and is later paid). Owners only, as the real portal."""
    owner_required(membership)
    subscription = Subscription.objects.filter(team=membership.team).first()
    if subscription is None or not subscription.stripe_subscription_id or not subscription.is_entitled:
        raise BillingError("There is no active subscription to change.")
    period_end = int((subscription.current_period_end or timezone.now() + timedelta(days=30)).timestamp())
    status = subscription.status
    if operation == "cancel_now":
        obj = _subscription_object(
            subscription, status="canceled", cancel_at_period_end=False, period_end=period_end
        )
        _deliver(_event("customer.subscription.deleted", obj))
        return
    if operation == "fail_payment":
        _deliver(_event("invoice.payment_failed", _invoice_object(subscription, paid=False)))
        status = SubscriptionStatus.PAST_DUE
    elif operation == "pay":
        _deliver(_event("invoice.paid", _invoice_object(subscription, paid=True)))
        status = SubscriptionStatus.ACTIVE
    cancel = {"cancel": True, "resume": False}.get(operation, subscription.cancel_at_period_end)
    obj = _subscription_object(
        subscription, status=status, cancel_at_period_end=cancel, period_end=period_end
    )
    previous = {"cancel_at_period_end": subscription.cancel_at_period_end, "status": subscription.status}
    _deliver(_event("customer.subscription.updated", obj, previous))


def simulated_quantity_change(*, subscription: Subscription, quantity: int) -> None:
    """What Stripe sends after a subscription item's quantity changed (`services.seats_sync`): the
    subscription, updated, with its new quantity. The proration itself is Stripe's invoice business."""
    period_end = int((subscription.current_period_end or timezone.now() + timedelta(days=30)).timestamp())
    obj = _subscription_object(
        subscription,
        status=subscription.status,
        cancel_at_period_end=subscription.cancel_at_period_end,
        period_end=period_end,
        quantity=quantity,
    )
    _deliver(_event("customer.subscription.updated", obj, {"items": {"quantity": subscription.quantity}}))
