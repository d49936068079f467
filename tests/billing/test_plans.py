import pytest

from accounts.models import User
from billing.models import Subscription
from billing.plans import FREE, PRO, plan_for
from core import entitlements
from core.entitlements import entitlements_for, limit_for
from tests.conftest import personal_team

pytestmark = pytest.mark.django_db


def test_a_user_without_a_subscription_is_on_free(user: User, declared_limits: None) -> None:
    assert plan_for(personal_team(user)) == FREE
    assert limit_for(personal_team(user), "chat_messages_per_day") == 20  # the plan's number, not the default


def test_the_plans_give_numbers_only_to_declared_limits(user: User, declared_limits: None) -> None:
    declared = {limit.key for limit in entitlements.limits()}
    assert set(entitlements_for(personal_team(user))) == declared
    assert set(FREE.entitlements) == declared


def test_the_pricing_lines_come_from_the_declared_limits(declared_limits: None) -> None:
    assert "20 AI chat messages a day" in FREE.features
    assert "500 AI chat messages a day" in PRO.features
    assert FREE.features[-2:] == ["JSON API with personal tokens", "Community support"]


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
    Subscription.objects.create(team=personal_team(user), status=status, price_id=PRO.stripe_price_id)
    user = User.objects.get(pk=user.pk)
    assert plan_for(personal_team(user)) == plan
    assert entitlements_for(personal_team(user)) == plan.entitlements  # type: ignore[attr-defined]


def test_an_unknown_price_of_a_live_subscription_keeps_pro(user: User) -> None:
    Subscription.objects.create(team=personal_team(user), status="active", price_id="price_renamed_in_stripe")
    assert plan_for(personal_team(user)) == PRO


def test_entitlements_cost_one_query_and_are_cached_on_the_team(
    user: User, django_assert_num_queries: object
) -> None:
    Subscription.objects.create(team=personal_team(user), status="active", price_id=PRO.stripe_price_id)
    team = personal_team(User.objects.get(pk=user.pk))
    with django_assert_num_queries(1):  # type: ignore[operator]
        entitlements_for(team)
        entitlements_for(team)
