"""The plans and what each one entitles a user to.

Everything else in the app asks `entitlements_for(user)` what a user may do; nothing compares plan
names. Adding a plan is one entry here (and its Stripe price id in the environment).
"""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Entitlements:
    chat_messages_per_day: int
    max_posts: int | None  # None: unlimited
    api_access: bool = True


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    price_cents: int
    tagline: str
    features: tuple[str, ...]
    entitlements: Entitlements
    stripe_price_id: str = ""
    highlighted: bool = False
    interval: str = "month"

    @property
    def price_display(self) -> str:
        return (
            f"${self.price_cents // 100}" if self.price_cents % 100 == 0 else f"${self.price_cents / 100:.2f}"
        )


FREE = Plan(
    key="free",
    name="Free",
    price_cents=0,
    tagline="Everything you need to try the product.",
    features=(
        "20 AI chat messages a day",
        "Up to 50 posts",
        "JSON API with personal tokens",
        "Community support",
    ),
    entitlements=Entitlements(chat_messages_per_day=20, max_posts=50),
)

PRO = Plan(
    key="pro",
    name="Pro",
    price_cents=1200,
    tagline="For people who use it every day.",
    features=(
        "500 AI chat messages a day",
        "Unlimited posts",
        "JSON API with personal tokens",
        "Priority email support",
    ),
    entitlements=Entitlements(chat_messages_per_day=500, max_posts=None),
    stripe_price_id=settings.STRIPE_PRICE_PRO,
    highlighted=True,
)

PLANS: tuple[Plan, ...] = (FREE, PRO)
PLANS_BY_KEY: dict[str, Plan] = {plan.key: plan for plan in PLANS}


def plan_for(user: object) -> Plan:
    """The plan a user is on, from the subscription the webhooks recorded.

    Stripe's statuses decide (https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses):
    `active` and `trialing` are paid up; `past_due` keeps the plan while Stripe retries the payment;
    `unpaid`, `incomplete`, `incomplete_expired`, `paused` and `canceled` fall back to Free.
    """
    from billing.models import Subscription

    if not getattr(user, "is_authenticated", False):
        return FREE
    try:
        # The reverse one-to-one is cached on the user object: one query per request at most.
        subscription = user.billing_subscription  # type: ignore[attr-defined]
    except Subscription.DoesNotExist:
        return FREE
    if not subscription.is_entitled:
        return FREE
    return plan_for_price(subscription.price_id)


def plan_for_price(price_id: str) -> Plan:
    """The paid plan a Stripe price belongs to; an unknown price of a live subscription is Pro,
    so a price changed in Stripe never silently takes a paying customer's plan away."""
    for plan in PLANS:
        if plan.stripe_price_id and plan.stripe_price_id == price_id:
            return plan
    return PRO


def entitlements_for(user: object) -> Entitlements:
    """What a user may do: the one function the rest of the app asks."""
    return plan_for(user).entitlements
