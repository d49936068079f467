import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from accounts.tokens import api_token_create
from billing.models import StripeEvent, StripeEventStatus, Subscription
from tests.billing.conftest import WEBHOOK_URL, post_event, signed, stripe_event
from tests.conftest import personal_team

pytestmark = pytest.mark.django_db


# --- Signature and body checks: 400, nothing stored ------------------------------------------------


def _refused(response: Any, reason: str) -> None:
    assert response.status_code == 400
    assert response.json() == {"detail": reason}
    assert not StripeEvent.objects.exists()


def test_missing_signature_is_refused(client: Client) -> None:
    body = json.dumps(stripe_event("invoice.paid"))
    _refused(
        client.post(WEBHOOK_URL, body, content_type="application/json"), "Missing Stripe-Signature header."
    )


def test_signature_with_the_wrong_secret_is_refused(client: Client) -> None:
    _refused(
        post_event(client, stripe_event("invoice.paid"), secret="whsec_someone_else"), "Invalid signature."
    )


def test_tampered_body_is_refused(client: Client) -> None:
    payload, header = signed(stripe_event("invoice.paid"))
    tampered = payload.replace('"amount_paid": 1200', '"amount_paid": 1')
    response = client.post(
        WEBHOOK_URL, tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    _refused(response, "Invalid signature.")


def test_stale_signature_is_refused(client: Client) -> None:
    response = post_event(client, stripe_event("invoice.paid"), timestamp=int(time.time()) - 301)
    _refused(response, "Signature timestamp too old.")


@pytest.mark.parametrize("header", ["garbage", "t=notanumber,v1=abc", "t=1764201600", "v1=deadbeef"])
def test_malformed_signature_header_is_refused(client: Client, header: str) -> None:
    body = json.dumps(stripe_event("invoice.paid"))
    response = client.post(WEBHOOK_URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    _refused(response, "Invalid signature.")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json at all", "Body is not JSON."),
        ("[1, 2, 3]", "Body is not a Stripe event."),
        (
            json.dumps({"id": "evt_1", "object": "event", "type": "invoice.paid"}),
            "Body is not a Stripe event.",
        ),
        (
            json.dumps({**stripe_event("invoice.paid"), "id": "in_not_an_event"}),
            "Body is not a Stripe event.",
        ),
    ],
)
def test_correctly_signed_body_that_is_not_an_event_is_refused(
    client: Client, body: str, reason: str
) -> None:
    _refused(post_event(client, body), reason)


def test_oversized_body_is_refused(client: Client) -> None:
    event = stripe_event("invoice.paid")
    event["data"]["object"]["description"] = "x" * 600_000
    _refused(post_event(client, event), "Body too large.")


def test_webhook_without_a_configured_secret_refuses_everything(client: Client, settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.STRIPE_SECRET_KEY = "sk_test_real_mode"  # connected to Stripe, but the secret was forgotten
    _refused(post_event(client, stripe_event("invoice.paid")), "Webhook secret not configured.")


def test_webhook_accepts_only_post(client: Client) -> None:
    assert client.get(WEBHOOK_URL).status_code == 405


# --- Storage and processing ----------------------------------------------------------------------


def test_subscription_created_makes_the_user_pro(client: Client, customer: Subscription) -> None:
    response = post_event(client, stripe_event("customer.subscription.created"))

    assert response.status_code == 200
    assert response.json() == {"id": "evt_1SfxSubCreated000001", "duplicate": False}
    customer.refresh_from_db()
    assert customer.status == "active"
    assert customer.stripe_subscription_id == "sub_1SfxSubscription01"
    assert customer.price_id == "price_pro_demo"
    assert customer.current_period_end == datetime.fromtimestamp(1766793560, tz=UTC)
    event = StripeEvent.objects.get()
    assert (event.type, event.status, event.attempts) == ("customer.subscription.created", "processed", 1)


def test_checkout_completed_links_customer_and_subscription_to_the_user(client: Client, user: User) -> None:
    response = post_event(client, stripe_event("checkout.session.completed", user=user))

    assert response.status_code == 200
    subscription = Subscription.objects.get(team=personal_team(user))
    assert subscription.stripe_customer_id == "cus_TfxAnn0000001"
    assert subscription.stripe_subscription_id == "sub_1SfxSubscription01"
    assert subscription.status == ""  # the plan changes with the subscription events, not here


def test_unknown_event_types_are_stored_as_ignored(client: Client) -> None:
    assert post_event(client, stripe_event("payment_method.attached")).status_code == 200
    assert StripeEvent.objects.get().status == StripeEventStatus.IGNORED


def test_the_same_event_delivered_again_has_one_effect(
    client: Client, customer: Subscription, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    event = stripe_event("invoice.payment_failed", created=int(time.time()))
    with django_capture_on_commit_callbacks(execute=True):
        responses = [post_event(client, event) for _ in range(5)]

    assert [r.status_code for r in responses] == [200] * 5
    assert [r.json()["duplicate"] for r in responses] == [False, True, True, True, True]
    assert StripeEvent.objects.get().attempts == 1
    assert len(mailoutbox) == 1


def test_deleted_before_updated_stays_canceled(client: Client, customer: Subscription) -> None:
    post_event(client, stripe_event("customer.subscription.created"))
    post_event(client, stripe_event("customer.subscription.deleted"))
    post_event(client, stripe_event("customer.subscription.updated"))  # older, delivered late

    customer.refresh_from_db()
    assert customer.status == "canceled"
    late = StripeEvent.objects.get(type="customer.subscription.updated")
    assert late.status == "processed"
    assert late.note == "Skipped: older than the state already applied."


def test_deleted_and_then_an_update_of_the_same_second_stays_canceled(
    client: Client, customer: Subscription
) -> None:
    deleted = stripe_event("customer.subscription.deleted")
    post_event(client, deleted)
    post_event(client, stripe_event("customer.subscription.updated", created=deleted["created"]))

    customer.refresh_from_db()
    assert customer.status == "canceled"


def test_a_deletion_older_than_the_last_update_still_ends_the_subscription(
    client: Client, customer: Subscription
) -> None:
    updated = stripe_event("customer.subscription.updated")
    post_event(client, updated)
    post_event(client, stripe_event("customer.subscription.deleted", created=updated["created"] - 60))

    customer.refresh_from_db()
    assert customer.status == "canceled"


def test_an_update_with_an_older_created_does_not_overwrite_a_newer_one(
    client: Client, customer: Subscription
) -> None:
    newer = stripe_event("customer.subscription.updated")  # cancel_at_period_end: true
    older = stripe_event(
        "customer.subscription.updated", id="evt_1SfxSubUpdatedOlder01", created=newer["created"] - 60
    )
    older["data"]["object"]["cancel_at_period_end"] = False
    older["data"]["object"]["status"] = "past_due"

    post_event(client, newer)
    post_event(client, older)

    customer.refresh_from_db()
    assert customer.status == "active"
    assert customer.cancel_at_period_end is True


def test_payment_failed_emails_the_customer_and_a_paid_invoice_clears_the_banner(
    client: Client, customer: Subscription, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_event("invoice.payment_failed"))

    customer.refresh_from_db()
    assert customer.payment_failed is True
    [mail] = mailoutbox
    assert mail.to == ["ann@example.com"]
    assert "12.00 USD" in mail.body
    assert "https://invoice.stripe.com/i/acct_TfxAccount01/" in mail.body

    # An invoice.paid older than the failure does not clear it; a newer one does.
    post_event(client, stripe_event("invoice.paid"))
    customer.refresh_from_db()
    assert customer.payment_failed is True
    post_event(client, stripe_event("invoice.paid", id="evt_1SfxInvoicePaidLater01", created=1766800000))
    customer.refresh_from_db()
    assert customer.payment_failed is False


def test_the_payment_failed_email_keeps_the_invoice_link_on_one_line(
    client: Client, customer: Subscription, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    # Stripe's hosted invoice links are longer than quoted-printable's 76 characters a line.
    link = "https://invoice.stripe.com/i/acct_TfxAccount01/live_" + "YWNjdF9UZnhBY2NvdW50MDE" * 5 + "?s=ap"
    event = stripe_event("invoice.payment_failed")
    event["data"]["object"]["hosted_invoice_url"] = link
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event)

    [mail] = mailoutbox
    raw = mail.message().as_string()
    assert "quoted-printable" not in raw
    assert link in raw


def test_a_failing_handler_is_marked_failed_with_its_error_and_a_backoff(client: Client, user: User) -> None:
    # The subscription arrives before anything links its customer to a user: it cannot apply yet.
    response = post_event(client, stripe_event("customer.subscription.created"))

    assert response.status_code == 200  # stored; Stripe must not retry what we will retry ourselves
    event = StripeEvent.objects.get()
    assert event.status == StripeEventStatus.FAILED
    assert event.error == "HandlerError: No account for Stripe customer cus_TfxAnn0000001."
    assert event.next_attempt_at is not None
    assert 55 <= (event.next_attempt_at - event.processed_at).total_seconds() <= 65  # type: ignore[operator]


# --- /api/v1/plans/ ------------------------------------------------------------------------------


def test_plans_are_public_and_cacheable(
    client: Client, django_assert_num_queries: Any, declared_limits: None
) -> None:
    with django_assert_num_queries(0):
        response = client.get("/api/v1/plans/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["ETag"].startswith('"')
    plans = response.json()
    assert [p["key"] for p in plans] == ["free", "pro"]
    assert plans[1]["price_cents"] == 1200
    assert plans[1]["entitlements"] == {"chat_messages_per_day": 500, "max_posts": None}
    assert plans[1]["features"][0] == "500 AI chat messages a day"


def test_plans_answer_304_to_a_matching_if_none_match(client: Client) -> None:
    etag = client.get("/api/v1/plans/")["ETag"]

    response = client.get("/api/v1/plans/", HTTP_IF_NONE_MATCH=f'"other", W/{etag}')
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert client.get("/api/v1/plans/", HTTP_IF_NONE_MATCH='"stale"').status_code == 200


# --- /api/v1/subscription/ ------------------------------------------------------------------------


def test_subscription_needs_authentication(client: Client) -> None:
    assert client.get("/api/v1/subscription/").status_code in (401, 403)


def test_subscription_of_a_free_user(user: User, client: Client, declared_limits: None) -> None:
    token = api_token_create(user=user, name="phone")[1]
    response = client.get("/api/v1/subscription/", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-cache"
    assert response.json() == {
        "plan": "free",
        "plan_name": "Free",
        "status": "",
        "current_period_end": None,
        "cancel_at_period_end": False,
        "payment_failed": False,
        "team": personal_team(user).pk,
        "seats": 0,
        "members": 1,
        "quota": {"chat_messages_per_day": 20, "max_posts": 50},
        "usage": {"chat_messages_today": 0, "posts": 0},
    }


def test_subscription_of_a_pro_user(
    client: Client, customer: Subscription, user: User, declared_limits: None
) -> None:
    post_event(client, stripe_event("customer.subscription.created"))
    client.force_login(user)

    data = client.get("/api/v1/subscription/").json()
    assert data["plan"] == "pro"
    assert data["status"] == "active"
    assert data["current_period_end"] == "2025-12-26T23:59:20Z"
    assert data["quota"]["chat_messages_per_day"] == 500


def test_webhook_and_plans_are_not_rate_limited(client: Any, db: None, monkeypatch: Any) -> None:
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(
        AnonRateThrottle, "THROTTLE_RATES", {**AnonRateThrottle.THROTTLE_RATES, "anon": "2/min"}
    )
    statuses = {client.get("/api/v1/plans/").status_code for _ in range(5)}
    refusals = {client.post("/api/webhooks/stripe/", b"{}", "application/json").status_code for _ in range(5)}

    assert statuses == {200}
    assert refusals == {400}  # unsigned: refused for its signature every time, never 429


# --- Signed events the database cannot hold: never a 5xx, nothing half-written ---------------------


def _changed(**changes: Any) -> str:
    return json.dumps(stripe_event("payment_method.attached", **changes))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_changed(id="evt_" + "a" * 252), "Event id too long (more than 255 characters)."),
        (_changed(id="evt_1Sfx\u0000Nul"), "Body is not a Stripe event."),
        (_changed(type="payment_method." + "x" * 86), "Event type too long (more than 100 characters)."),
        (_changed(type="payment_method.attached\u0000"), "Body is not a Stripe event."),
        (_changed(created=10**20), "Event created time out of range."),
        (_changed(created=-1), "Event created time out of range."),
        (_changed(created=int(time.time()) + 10 * 86400), "Event created time out of range."),
        (_changed(created=True), "Body is not a Stripe event."),
        (_changed().replace('"livemode": false', '"livemode": NaN'), "Body is not JSON."),
        (_changed().replace('"livemode": false', '"amount": 1e400, "livemode": false'), "Body is not JSON."),
        ('{"":' * 100_000 + "1" + "}" * 100_000, "Body nests deeper than 64 levels."),
        ("[" * 100_000 + "]" * 100_000, "Body nests deeper than 64 levels."),
        (
            _changed().replace('"livemode": false', f'"amount": {"9" * 5000}, "livemode": false'),
            "Body is not JSON.",
        ),
    ],
    ids=[
        "long id",
        "nul in id",
        "long type",
        "nul in type",
        "created 10**20",
        "created negative",
        "created in the future",
        "created a boolean",
        "NaN",
        "number out of range",
        "100000 objects deep",
        "100000 arrays deep",
        "integer of 5000 digits",
    ],
)
def test_a_signed_event_the_database_cannot_hold_is_refused_with_its_reason(
    client: Client, body: str, reason: str
) -> None:
    _refused(post_event(client, body), reason)


def test_an_event_exactly_at_the_limits_is_stored(client: Client) -> None:
    event = stripe_event("payment_method.attached", id="evt_" + "a" * 251, type="x." + "y" * 98)
    assert post_event(client, event).status_code == 200
    assert StripeEvent.objects.get().status == StripeEventStatus.IGNORED


@pytest.mark.parametrize(
    ("text", "stored"),
    [("Ann\u0000Lee", "Ann\ufffdLee"), ("Ann\ud800Lee", "Ann\ufffdLee")],
    ids=["nul", "lone surrogate"],
)
def test_characters_postgresql_refuses_are_replaced_and_the_event_processed(
    client: Client, customer: Subscription, text: str, stored: str
) -> None:
    event = stripe_event("customer.subscription.created")
    event["data"]["object"]["metadata"] = {"name": text, f"key {text}": "value"}

    response = post_event(client, event)

    assert response.status_code == 200
    saved = StripeEvent.objects.get()
    assert saved.data_object["metadata"] == {"name": stored, f"key {stored}": "value"}
    assert saved.status == StripeEventStatus.PROCESSED
    assert saved.note == "Characters a database cannot store were replaced by U+FFFD."
    customer.refresh_from_db()
    assert customer.status == "active"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("id", "sub_" + "x" * 300, "HandlerError: The event's subscription id is not a Stripe id."),
        ("customer", "cus_" + "x" * 300, "HandlerError: The event's customer id is not a Stripe id."),
        (
            "status",
            "x" * 40,
            "HandlerError: Unknown subscription status 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'.",
        ),
        ("created", 10**20, "HandlerError: The subscription's created time is out of range."),
    ],
)
def test_a_subscription_with_fields_too_big_fails_clearly_and_changes_nothing(
    client: Client, customer: Subscription, field: str, value: object, error: str
) -> None:
    event = stripe_event("customer.subscription.created")
    event["data"]["object"][field] = value

    assert post_event(client, event).status_code == 200

    saved = StripeEvent.objects.get()
    assert (saved.status, saved.error) == (StripeEventStatus.FAILED, error)
    customer.refresh_from_db()
    assert (customer.status, customer.stripe_subscription_id) == ("", "")
