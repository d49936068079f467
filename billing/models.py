"""What billing remembers: each user's Stripe customer and subscription, and every Stripe event received."""

from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class SubscriptionStatus(models.TextChoices):
    """Stripe's subscription statuses (https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses)."""

    NONE = "", "No subscription"
    INCOMPLETE = "incomplete", "Incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired", "Expired"
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Canceled"
    UNPAID = "unpaid", "Unpaid"
    PAUSED = "paused", "Paused"


# The statuses that keep the paid plan's entitlements, as Stripe documents them: `past_due` keeps
# access while Stripe retries the payment (smart retries), `unpaid` is where retries have run out
# and access must stop; `incomplete` has never been paid; `canceled` and `paused` have ended.
ENTITLED_STATUSES = frozenset(
    {SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE}
)


class Subscription(models.Model):
    """One per user: their Stripe customer (created once, reused) and the state of their latest
    subscription, written only by webhook events, never by a redirect back from Stripe."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_subscription"
    )
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(max_length=32, choices=SubscriptionStatus.choices, blank=True)
    price_id = models.CharField(max_length=255, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    # `created` of the newest subscription event applied: an older event never overwrites newer state.
    subscription_event_at = models.DateTimeField(null=True, blank=True)
    payment_failed = models.BooleanField(
        default=False, help_text="The latest invoice failed to be paid: a banner shows until one is paid."
    )
    # `created` of the newest invoice event applied, for the same reason.
    invoice_event_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.status or 'none'}"

    @property
    def is_entitled(self) -> bool:
        return self.status in ENTITLED_STATUSES


class StripeEventStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


# A pending event older than this lost its task (the process died after storing it): retried too.
STUCK_AFTER = timedelta(minutes=10)


class StripeEventQuerySet(models.QuerySet["StripeEvent"]):
    def due_for_retry(self, now: datetime | None = None) -> "StripeEventQuerySet":
        now = now or timezone.now()
        failed = models.Q(
            status=StripeEventStatus.FAILED, next_attempt_at__isnull=False, next_attempt_at__lte=now
        )
        stuck = models.Q(status=StripeEventStatus.PENDING, received_at__lte=now - STUCK_AFTER)
        return self.filter(failed | stuck)


class StripeEvent(models.Model):
    """A Stripe event, stored once: its id is the primary key, so a second delivery cannot insert it again."""

    id = models.CharField(primary_key=True, max_length=255)
    type = models.CharField(max_length=100, db_index=True)
    created = models.DateTimeField(help_text="When Stripe created the event; orders events of one object.")
    livemode = models.BooleanField(default=False)
    payload: "models.JSONField[dict[str, Any], dict[str, Any]]" = models.JSONField()
    status = models.CharField(
        max_length=16, choices=StripeEventStatus.choices, default=StripeEventStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    note = models.CharField(
        max_length=255, blank=True, help_text="What processing did, e.g. skipped as stale."
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[StripeEventQuerySet] = StripeEventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.id} {self.type} ({self.status})"

    @property
    def data_object(self) -> dict[str, Any]:
        obj: dict[str, Any] = self.payload["data"]["object"]
        return obj


# Retries after a failed handler: 1, 4, 16, 64 minutes, … capped at six hours, then given up
# (staff can still replay). Stripe's own delivery retries stop mattering once we answered 2xx.
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX_DELAY = timedelta(hours=6)
RETRY_MAX_ATTEMPTS = 8


def retry_delay(attempts: int) -> timedelta:
    delay: timedelta = min(RETRY_BASE * 4 ** (attempts - 1), RETRY_MAX_DELAY)
    return delay
