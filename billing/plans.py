"""The plans, and the numbers each one gives the limits the feature apps declare.

The apps declare what they limit (`core.entitlements.limit_register`, from their `AppConfig.ready()`)
and ask `core.entitlements.limit_for(team, key)`; billing supplies the numbers from the team's plan
(`billing.apps`). Nothing compares plan names. A plan's number for a limit no installed app declares is
ignored, and so is its pricing line. Adding a plan is one entry here (and its Stripe price id in the
environment).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings

from core.entitlements import limits

if TYPE_CHECKING:
    from billing.models import Subscription


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    price_cents: int
    tagline: str
    limits: Mapping[str, int | None]  # by limit key; None: unlimited
    extras: tuple[str, ...] = field(default=())  # the pricing lines that are not limits
    stripe_price_id: str = ""
    highlighted: bool = False
    interval: str = "month"
    per_seat: bool = False  # the price is per member of the team, each month

    @property
    def entitlements(self) -> dict[str, int | None]:
        """The plan's number for every limit an installed app declares (its default where none is set)."""
        return {limit.key: self.limits.get(limit.key, limit.default) for limit in limits()}

    @property
    def features(self) -> list[str]:
        """The pricing page's lines: one per declared limit, then the plan's extras."""
        lines = [limit.line(number) for limit in limits() for number in [self.entitlements[limit.key]]]
        return [line for line in lines if line] + list(self.extras)

    @property
    def price_display(self) -> str:
        return _dollars(self.price_cents)

    def amount_cents(self, seats: int) -> int:
        """What a period costs: the price of each seat for a per-seat plan, else the price."""
        return self.price_cents * max(seats, 1) if self.per_seat else self.price_cents

    def amount_display(self, seats: int) -> str:
        return _dollars(self.amount_cents(seats))


def _dollars(cents: int) -> str:
    return f"${cents // 100}" if cents % 100 == 0 else f"${cents / 100:.2f}"


FREE = Plan(
    key="free",
    name="Free",
    price_cents=0,
    tagline="Everything you need to try the product.",
    limits={"chat_messages_per_day": 20, "max_posts": 50},
    extras=("JSON API with personal tokens", "Community support"),
)

PRO = Plan(
    key="pro",
    name="Pro",
    price_cents=1200,
    tagline="For teams who use it every day. Priced per member.",
    limits={"chat_messages_per_day": 500, "max_posts": None},
    extras=("JSON API with personal tokens", "Priority email support"),
    stripe_price_id=settings.STRIPE_PRICE_PRO,
    highlighted=True,
    per_seat=True,
)

PLANS: tuple[Plan, ...] = (FREE, PRO)
PLANS_BY_KEY: dict[str, Plan] = {plan.key: plan for plan in PLANS}


def plan_for(team: object) -> Plan:
    """The plan a team is on, from the subscription the webhooks recorded (Free for no team).

    Stripe's statuses decide (https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses):
    `active` and `trialing` are paid up; `past_due` keeps the plan while Stripe retries the payment;
    `unpaid`, `incomplete`, `incomplete_expired`, `paused` and `canceled` fall back to Free.
    """
    from billing.models import Subscription
    from teams.models import Team

    if not isinstance(team, Team):
        return FREE
    return plan_of(Subscription.of(team))


def plan_of(subscription: "Subscription | None") -> Plan:
    """The plan a billing record gives (`plan_for` without the lookup, for a page of teams at once)."""
    if subscription is None or not subscription.is_entitled:
        return FREE
    return plan_for_price(subscription.price_id)


def plan_for_price(price_id: str) -> Plan:
    """The paid plan a Stripe price belongs to; an unknown price of a live subscription is Pro,
    so a price changed in Stripe never silently takes a paying customer's plan away."""
    for plan in PLANS:
        if plan.stripe_price_id and plan.stripe_price_id == price_id:
            return plan
    return PRO


def plan_limits(team: object) -> Mapping[str, int | None]:
    """The numbers of the team's plan: the entitlements provider billing gives the platform."""
    return plan_for(team).limits
