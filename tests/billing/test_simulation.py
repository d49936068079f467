import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from accounts.models import User
from billing.models import StripeEvent, Subscription
from billing.plans import PRO, plan_for
from billing.services import BillingError
from billing.simulation import simulated_checkout_complete
from teams.services import member_add
from tests.conftest import HTMX, personal_membership, personal_team

pytestmark = pytest.mark.django_db


def test_upgrade_cancel_now_and_upgrade_again_is_pro(user_client: Client, user: User) -> None:
    user_client.post("/billing/simulated/checkout/")
    first = Subscription.objects.get(team=personal_team(user)).stripe_subscription_id
    user_client.post("/billing/simulated/portal/", {"operation": "cancel_now"})
    assert 'data-plan="free"' in user_client.get("/billing/").content.decode()

    response = user_client.post("/billing/simulated/checkout/", follow=True)

    assert 'data-plan="pro"' in response.content.decode()
    subscription = Subscription.objects.get(team=personal_team(user))
    assert subscription.status == "active"
    assert subscription.stripe_subscription_id not in ("", first)
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"processed"}
    # And the new subscription is the one the portal changes.
    user_client.post("/billing/simulated/portal/", {"operation": "cancel"}, **HTMX)  # type: ignore[arg-type]
    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancel_at_period_end) == ("active", True)


def test_a_checkout_whose_events_are_still_queued_blocks_a_second_one(user: User, settings: Any) -> None:
    # With a task worker the events wait in the queue: the plan is not Pro yet, but a subscription exists.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    simulated_checkout_complete(membership=personal_membership(user))

    with pytest.raises(BillingError, match="still being processed"):
        simulated_checkout_complete(membership=personal_membership(user))
    assert StripeEvent.objects.filter(type="customer.subscription.created").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_two_simulated_checkouts_at_once_make_one_subscription(user: User) -> None:
    threads_count = 4
    barrier = threading.Barrier(threads_count)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def checkout() -> None:
        try:
            client = Client()
            client.force_login(user)
            barrier.wait()
            response = client.post("/billing/simulated/checkout/", follow=True)
            html = response.content.decode()
            outcomes.append("pro" if "Welcome to Pro!" in html else "refused")
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=checkout) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(outcomes) == ["pro"] + ["refused"] * (threads_count - 1)
    created = StripeEvent.objects.filter(type="customer.subscription.created")
    assert created.count() == 1
    assert plan_for(personal_team(user)) == PRO


def test_the_simulated_checkout_charges_the_price_of_every_seat(
    user_client: Client,
    user: User,
    other_user: User,
    mailoutbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # A team of two: Pro is $12 a seat, so the checkout asks for $24, and its invoices say so.
    member_add(team=personal_team(user), user=other_user)

    html = user_client.get("/billing/simulated/checkout/").content.decode()

    assert "$12 \u00d7 2 seats / month" in html
    assert "Pay $24 and subscribe" in html
    user_client.post("/billing/simulated/checkout/")
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post("/billing/simulated/portal/", {"operation": "fail_payment"})
    [failed] = [mail for mail in mailoutbox if "payment failed" in mail.subject]
    assert "24.00 USD" in failed.body
