import pytest

from accounts.models import User
from billing.models import Subscription
from billing.plans import FREE, PRO, entitlements_for, plan_for

pytestmark = pytest.mark.django_db


def test_a_user_without_a_subscription_is_on_free(user: User) -> None:
    assert plan_for(user) == FREE
    assert entitlements_for(user).chat_messages_per_day == 20


@pytest.mark.parametrize(
    ("status", "plan"),
    [
        ("active", PRO),
        ("trialing", PRO),
        ("past_due", PRO),  # Stripe is still retrying the payment: access continues meanwhile
        ("unpaid", FREE),  # retries exhausted
        ("incomplete", FREE),  # the first payment never succeeded
        ("incomplete_expired", FREE),
        ("canceled", FREE),
        ("paused", FREE),
        ("", FREE),
    ],
)
def test_subscription_status_decides_the_plan(user: User, status: str, plan: object) -> None:
    Subscription.objects.create(user=user, status=status, price_id=PRO.stripe_price_id)
    user = User.objects.get(pk=user.pk)
    assert plan_for(user) == plan
    assert entitlements_for(user) == plan.entitlements  # type: ignore[attr-defined]


def test_an_unknown_price_of_a_live_subscription_keeps_pro(user: User) -> None:
    Subscription.objects.create(user=user, status="active", price_id="price_renamed_in_stripe")
    assert plan_for(User.objects.get(pk=user.pk)) == PRO


def test_entitlements_cost_one_query_and_are_cached_on_the_user(
    user: User, django_assert_num_queries: object
) -> None:
    Subscription.objects.create(user=user, status="active", price_id=PRO.stripe_price_id)
    user = User.objects.get(pk=user.pk)
    with django_assert_num_queries(1):  # type: ignore[operator]
        entitlements_for(user)
        entitlements_for(user)
