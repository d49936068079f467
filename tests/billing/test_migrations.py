from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User

BEFORE = [("billing", "0001_initial")]
AFTER = [("billing", "0002_stripe_subscription")]


@pytest.mark.django_db(transaction=True)
def test_each_recorded_subscription_becomes_a_stripe_subscription_that_stays_final(user: User) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    at = datetime(2025, 12, 1, tzinfo=UTC)
    old.get_model("billing", "Subscription").objects.create(
        user_id=user.pk,
        stripe_customer_id="cus_A",
        stripe_subscription_id="sub_A",
        status="canceled",
        price_id="price_pro_demo",
        subscription_event_at=at,
    )
    old.get_model("billing", "Subscription").objects.create(
        user_id=User.objects.create_user(email="bob@example.com", password="x").pk, stripe_customer_id="cus_B"
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)

    new = executor.loader.project_state(AFTER).apps
    [record] = new.get_model("billing", "StripeSubscription").objects.all()
    assert (record.account.user_id, record.stripe_id, record.status, record.price_id) == (
        user.pk,
        "sub_A",
        "canceled",
        "price_pro_demo",
    )
    assert (record.started_at, record.event_at) == (at, at)

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # the rest of the suite runs on the latest schema
