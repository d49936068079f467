import itertools
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from billing.models import RETRY_MAX_ATTEMPTS, StripeEvent, StripeEventStatus, Subscription, retry_delay
from billing.plans import FREE, PRO, Plan, plan_for
from billing.services import BillingError, stripe_event_process, stripe_event_replay
from core.models import AuditEntry
from tests.billing.conftest import (
    CUSTOMER_ID,
    SECOND_SUBSCRIPTION,
    post_event,
    second_subscription_event,
    stripe_event,
)
from tests.conftest import personal_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_event(client: Client, user: User) -> StripeEvent:
    """A subscription event whose customer no user is linked to yet: its handler fails."""
    post_event(client, stripe_event("customer.subscription.created"))
    event = StripeEvent.objects.get()
    assert event.status == StripeEventStatus.FAILED
    return event


def test_retry_delays_grow_exponentially_up_to_a_cap() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 4, 16, 64)]
    assert retry_delay(7) == timedelta(hours=6)


def test_replay_after_the_cause_is_fixed_processes_the_event_and_is_audited(
    failed_event: StripeEvent, user: User, staff_user: User
) -> None:
    Subscription.objects.create(team=personal_team(user), stripe_customer_id=CUSTOMER_ID)

    event = stripe_event_replay(event=failed_event, actor=staff_user)

    assert (event.status, event.attempts, event.error, event.next_attempt_at) == ("processed", 2, "", None)
    assert Subscription.objects.get(team=personal_team(user)).status == "active"
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_id) == (
        staff_user,
        "stripe_event.replay",
        failed_event.pk,
    )


def test_a_processed_event_cannot_be_replayed(
    client: Client, customer: Subscription, staff_user: User
) -> None:
    post_event(client, stripe_event("customer.subscription.created"))
    event = StripeEvent.objects.get()

    with pytest.raises(BillingError, match="this one is processed"):
        stripe_event_replay(event=event, actor=staff_user)
    assert not AuditEntry.objects.exists()


def test_processing_a_processed_event_again_changes_nothing(client: Client, customer: Subscription) -> None:
    post_event(client, stripe_event("customer.subscription.created"))

    event = stripe_event_process(event_id="evt_1SfxSubCreated000001", force=True)
    assert (event.status, event.attempts) == ("processed", 1)


def test_the_retry_command_runs_events_whose_backoff_has_elapsed(
    failed_event: StripeEvent, user: User
) -> None:
    call_command("stripe_events_retry")
    failed_event.refresh_from_db()
    assert failed_event.attempts == 1  # not due yet

    Subscription.objects.create(team=personal_team(user), stripe_customer_id=CUSTOMER_ID)
    StripeEvent.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    call_command("stripe_events_retry")

    failed_event.refresh_from_db()
    assert (failed_event.status, failed_event.attempts) == ("processed", 2)


def test_retries_stop_after_the_last_attempt(failed_event: StripeEvent) -> None:
    StripeEvent.objects.update(attempts=RETRY_MAX_ATTEMPTS - 1)

    event = stripe_event_process(event_id=failed_event.pk, force=True)

    assert (event.status, event.attempts, event.next_attempt_at) == ("failed", RETRY_MAX_ATTEMPTS, None)
    assert stripe_event_process(event_id=failed_event.pk).attempts == RETRY_MAX_ATTEMPTS  # left alone


def test_with_a_task_worker_the_event_is_enqueued_and_a_failure_reenqueued_after_its_backoff(
    client: Client, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    post_event(client, stripe_event("customer.subscription.created"))

    event = StripeEvent.objects.get()
    assert event.status == StripeEventStatus.PENDING  # answered before processing
    [task] = DBTaskResult.objects.all()
    assert task.task_path == "billing.tasks.stripe_event_process_task"
    assert task.args_kwargs == {"args": [event.pk], "kwargs": {}}

    stripe_event_process(event_id=event.pk)  # what the worker runs: fails, no customer linked

    event.refresh_from_db()
    retry = DBTaskResult.objects.exclude(pk=task.pk).get()
    assert retry.run_after == event.next_attempt_at


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_the_same_event_have_exactly_one_effect(
    user: User, mailoutbox: list[Any]
) -> None:
    Subscription.objects.create(team=personal_team(user), stripe_customer_id=CUSTOMER_ID)
    event = stripe_event("invoice.payment_failed")
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    answers: list[bool] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait()
            response = post_event(Client(), event)
            answers.append(response.json()["duplicate"])
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(answers) == [False] + [True] * (threads_count - 1)
    stored = StripeEvent.objects.get()
    assert (stored.status, stored.attempts) == ("processed", 1)
    assert len(mailoutbox) == 1
    assert Subscription.objects.get(team=personal_team(user)).payment_failed is True


def test_the_retry_command_also_runs_events_whose_task_was_lost(
    client: Client, customer: Subscription, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}  # never runs
    post_event(client, stripe_event("customer.subscription.created"))
    call_command("stripe_events_retry")
    assert StripeEvent.objects.get().status == StripeEventStatus.PENDING  # just received: not stuck

    StripeEvent.objects.update(received_at=timezone.now() - timedelta(minutes=11))
    call_command("stripe_events_retry")

    assert StripeEvent.objects.get().status == StripeEventStatus.PROCESSED
    customer.refresh_from_db()
    assert customer.status == "active"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_duplicate_delivery_stores_and_enqueues_nothing(settings: Any) -> None:
    # Ingest commits its INSERT without a transaction of its own (the fast path in production).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    event = stripe_event("invoice.paid")

    first = post_event(Client(), event)
    again = post_event(Client(), event)

    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert StripeEvent.objects.get().pk == event["id"]
    assert DBTaskResult.objects.count() == 1


# --- Canceling and subscribing again --------------------------------------------------------------

# When Stripe created the second subscription's events: after the first one's deletion (1764400000).
SECOND_CREATED = {"customer.subscription.created": 1764500001, "invoice.paid": 1764500002}
SECOND_CREATED["checkout.session.completed"] = 1764500003


@pytest.fixture
def canceled_customer(client: Client, user: User) -> Subscription:
    """Ann subscribed once (checkout, subscription, invoice) and canceled: back on Free."""
    for name in ("checkout.session.completed", "customer.subscription.created", "invoice.paid"):
        post_event(client, stripe_event(name, user=user))
    post_event(client, stripe_event("customer.subscription.deleted"))
    subscription = Subscription.objects.get(team=personal_team(user))
    assert (subscription.status, plan_for(personal_team(user))) == ("canceled", FREE)
    return subscription


def _resubscribe(client: Client, user: User, order: tuple[str, ...]) -> None:
    for name in order:
        event = second_subscription_event(name, user=user, created=SECOND_CREATED[name])
        assert post_event(client, event).status_code == 200


def _plan(user: User) -> Plan:
    return plan_for(personal_team(user))  # a fresh user: the subscription is cached on it


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations(SECOND_CREATED)),
    ids=lambda order: " > ".join(name.split(".")[-1] for name in order),
)
def test_a_new_subscription_after_a_cancellation_is_pro_in_any_order_of_its_events(
    client: Client, user: User, canceled_customer: Subscription, order: tuple[str, ...]
) -> None:
    _resubscribe(client, user, order)

    subscription = Subscription.objects.get(team=personal_team(user))
    assert (subscription.stripe_subscription_id, subscription.status) == (SECOND_SUBSCRIPTION, "active")
    assert _plan(user) == PRO
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {StripeEventStatus.PROCESSED}


def _late(name: str, **changes: Any) -> Callable[[], dict[str, Any]]:
    return lambda: stripe_event(name, **changes)


@pytest.mark.parametrize(
    "late",
    [
        _late("customer.subscription.deleted"),  # the same delivery again
        _late("customer.subscription.deleted", id="evt_1SfxSubDeletedAgain1", created=1764600000),
        _late("customer.subscription.updated"),  # older than the second subscription
        _late("customer.subscription.updated", id="evt_1SfxSubUpdatedLate01", created=1764600000),
        _late("customer.subscription.created", id="evt_1SfxSubCreatedLate01", created=1764600000),
        _late("invoice.payment_failed"),
    ],
    ids=["deleted again", "deleted, newer", "updated, older", "updated, newer", "created, newer", "failed"],
)
def test_late_events_of_the_canceled_subscription_leave_the_new_one_alone(
    client: Client,
    user: User,
    canceled_customer: Subscription,
    late: Callable[[], dict[str, Any]],
    mailoutbox: list[Any],
) -> None:
    _resubscribe(client, user, tuple(SECOND_CREATED))

    assert post_event(client, late()).status_code == 200

    subscription = Subscription.objects.get(team=personal_team(user))
    assert (subscription.stripe_subscription_id, subscription.status) == (SECOND_SUBSCRIPTION, "active")
    assert (subscription.payment_failed, mailoutbox) == (False, [])
    assert _plan(user) == PRO
    # The first subscription stays over: the second one's end still ends Pro.
    ended = second_subscription_event("customer.subscription.deleted", created=1764700000)
    post_event(client, ended)
    assert Subscription.objects.get(team=personal_team(user)).status == "canceled"
    assert _plan(user) == FREE


def test_a_new_subscription_started_before_the_old_one_ended_stays_pro(client: Client, user: User) -> None:
    # Subscribed again (through Stripe's own pages) while the first was still active, then the first ended.
    Subscription.objects.create(team=personal_team(user), stripe_customer_id=CUSTOMER_ID)
    post_event(client, stripe_event("customer.subscription.created"))
    _resubscribe(client, user, tuple(SECOND_CREATED))
    post_event(client, stripe_event("customer.subscription.deleted", created=1764600000))

    subscription = Subscription.objects.get(team=personal_team(user))
    assert (subscription.stripe_subscription_id, subscription.status) == (SECOND_SUBSCRIPTION, "active")
    assert _plan(user) == PRO


def test_the_next_retry_is_said_in_whole_units_and_never_as_zero_minutes() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from billing.models import StripeEvent

    def phrase(**delta: float) -> str:
        return StripeEvent(next_attempt_at=timezone.now() + timedelta(**delta)).next_attempt_phrase

    assert phrase(seconds=20) == "in 20 seconds"
    assert phrase(seconds=50, minutes=3) == "in 4 minutes"
    assert phrase(minutes=64) == "in about 1 hour"
    assert phrase(seconds=-5) == "due now"
    assert StripeEvent(next_attempt_at=None).next_attempt_phrase == ""
