"""What billing remembers: each team's Stripe customer and subscription, and every Stripe event received."""

from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone

from core.rules import duration


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
# The statuses a subscription never leaves: nothing Stripe sends about it later can revive it.
ENDED_STATUSES = frozenset({SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED})


# `team.billing_subscription`: read through `Subscription.of(team)`. django-stubs adds a reverse accessor
# to Team only when one mypy run checks both apps afresh; an incremental run that reuses teams' cached
# types does not see it, so the attribute is named once here and read with getattr.
TEAM_ACCESSOR = "billing_subscription"


class Subscription(models.Model):
    """One per team: its Stripe customer (created once, reused) and the state of the subscription
    that decides its plan, written only by webhook events, never by a redirect back from Stripe.
    Pro is priced per seat: `quantity` is the subscription item's quantity as Stripe last told us,
    which follows the team's number of members (`services.seats_sync`).

    A customer can have had several subscriptions (cancel, then subscribe again): each one's own state
    is a `StripeSubscription`, and this row mirrors the one that counts (see `services`).
    """

    team = models.OneToOneField("teams.Team", on_delete=models.CASCADE, related_name=TEAM_ACCESSOR)
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(max_length=32, choices=SubscriptionStatus.choices, blank=True)
    price_id = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField(default=0, help_text="Seats Stripe bills for (0: none).")
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    payment_failed = models.BooleanField(
        default=False, help_text="The latest invoice failed to be paid: a banner shows until one is paid."
    )
    # `created` of the newest invoice event applied, for the same reason.
    invoice_event_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"team {self.team_id}: {self.status or 'none'}"

    @property
    def is_entitled(self) -> bool:
        return self.status in ENTITLED_STATUSES

    @classmethod
    def of(cls, team: Any) -> "Subscription | None":
        """The team's billing record, or None before its first checkout. Django caches the reverse
        one-to-one on the team object: one query per team per request at most."""
        try:
            subscription: Subscription = getattr(team, TEAM_ACCESSOR)
        except cls.DoesNotExist:
            return None
        return subscription


class StripeSubscription(models.Model):
    """One Stripe subscription of a customer, as its newest event described it.

    Kept per subscription id because what is final is final for that subscription only: once canceled,
    no late event revives it, while a new checkout of the same customer starts a new one.
    """

    account = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="stripe_subscriptions")
    stripe_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=32, choices=SubscriptionStatus.choices, blank=True)
    price_id = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField(default=0)
    item_id = models.CharField(max_length=255, blank=True, help_text="The subscription item (the seats).")
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    started_at = models.DateTimeField(
        help_text="Stripe's `created` of the subscription: the newest one counts."
    )
    # `created` of the newest event applied: an older event never overwrites newer state.
    event_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.stripe_id}: {self.status or 'pending'}"

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
    def next_attempt_phrase(self) -> str:
        """When the next retry runs, as the staff page says it: "in 4 minutes", or "due now" once
        its time has come (a worker picks it up on its next pass); never "0 minutes"."""
        if self.next_attempt_at is None:
            return ""
        wait = (self.next_attempt_at - timezone.now()).total_seconds()
        return "due now" if wait <= 0 else f"in {duration(wait)}"

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
