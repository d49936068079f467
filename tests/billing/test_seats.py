"""Pro is per seat: the subscription's quantity follows the team's members, through Stripe (the local
Stripe-compatible server) and back through signed webhooks, or offline in simulation mode."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from billing.models import Subscription
from billing.services import seats_sync
from billing.simulation import simulated_checkout_complete
from teams.models import Membership
from teams.services import member_add, member_remove, team_create
from tests.billing.conftest import CUSTOMER_ID, FIRST_SUBSCRIPTION, FakeStripe, post_event, stripe_event
from tests.conftest import PASSWORD, personal_team


@pytest.fixture
def carol(db: None) -> User:
    return User.objects.create_user(email="carol@example.com", password=PASSWORD, display_name="Carol")


def test_in_simulation_the_seats_follow_members_joining_and_leaving(
    user: User, other_user: User, carol: User, django_capture_on_commit_callbacks: Any
) -> None:
    acme = team_create(user=user, name="Acme")
    simulated_checkout_complete(membership=Membership.objects.get(team=acme, user=user))
    assert Subscription.objects.get(team=acme).quantity == 1

    with django_capture_on_commit_callbacks(execute=True):
        member_add(team=acme, user=other_user)
    with django_capture_on_commit_callbacks(execute=True):
        member_add(team=acme, user=carol)
    assert Subscription.objects.get(team=acme).quantity == 3

    with django_capture_on_commit_callbacks(execute=True):
        member_remove(membership=Membership.objects.get(team=acme, user=carol))
    assert Subscription.objects.get(team=acme).quantity == 2


def test_a_free_team_tells_stripe_nothing(
    user: User, other_user: User, fake_stripe: FakeStripe, django_capture_on_commit_callbacks: Any
) -> None:
    acme = team_create(user=user, name="Acme")
    with django_capture_on_commit_callbacks(execute=True):
        member_add(team=acme, user=other_user)

    assert fake_stripe.requests == []


def test_with_stripe_the_item_quantity_changes_with_proration_and_the_webhook_mirrors_it(
    client: Client,
    user: User,
    other_user: User,
    fake_stripe: FakeStripe,
    django_capture_on_commit_callbacks: Any,
) -> None:
    team = personal_team(user)
    Subscription.objects.create(team=team, stripe_customer_id=CUSTOMER_ID)
    assert post_event(client, stripe_event("customer.subscription.created")).status_code == 200
    assert Subscription.objects.get(team=team).quantity == 1

    with django_capture_on_commit_callbacks(execute=True):
        member_add(team=team, user=other_user)

    [change] = fake_stripe.calls("/v1/subscription_items/si_TfxItem0000001")
    assert change == {"quantity": "2", "proration_behavior": "create_prorations"}
    # Nothing recorded until Stripe says so ...
    assert Subscription.objects.get(team=team).quantity == 1
    updated = stripe_event("customer.subscription.updated")
    updated["data"]["object"]["items"]["data"][0]["quantity"] = 2
    assert post_event(client, updated).status_code == 200
    # ... then the signed event's quantity is the record's.
    subscription = Subscription.objects.get(team=team)
    assert (subscription.quantity, subscription.stripe_subscription_id) == (2, FIRST_SUBSCRIPTION)
    assert seats_sync(team_id=team.pk) == "Already at that quantity."

    with django_capture_on_commit_callbacks(execute=True):
        member_remove(membership=Membership.objects.get(team=team, user=other_user))
    assert fake_stripe.calls("/v1/subscription_items/si_TfxItem0000001")[-1]["quantity"] == "1"


def test_a_quantity_that_is_not_a_number_of_seats_is_refused(
    client: Client, user: User, fake_stripe: FakeStripe
) -> None:
    team = personal_team(user)
    Subscription.objects.create(team=team, stripe_customer_id=CUSTOMER_ID)
    event = stripe_event("customer.subscription.created")
    event["data"]["object"]["items"]["data"][0]["quantity"] = "lots"

    post_event(client, event)

    assert Subscription.objects.get(team=team).status == ""


def test_a_team_with_a_running_paid_plan_is_not_deleted_until_it_is_cancelled(
    client: Client, user: User
) -> None:
    acme = team_create(user=user, name="Acme")
    simulated_checkout_complete(membership=Membership.objects.get(team=acme, user=user))
    subscription = Subscription.objects.get(team=acme)
    client.force_login(user)
    client.post("/teams/switch/", {"team": acme.pk})

    refused = client.post("/team/delete/", {"confirm": "Acme"})
    subscription.refresh_from_db()
    assert subscription.is_entitled
    subscription.cancel_at_period_end = True
    subscription.save(update_fields=["cancel_at_period_end"])
    deleted = client.post("/team/delete/", {"confirm": "Acme"})

    assert refused.status_code == 200
    assert "The paid plan of “Acme” is still active. Cancel it first" in refused.content.decode()
    assert deleted.status_code == 302
    assert not Subscription.objects.filter(pk=subscription.pk).exists()
