import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from billing.models import StripeEvent, Subscription
from core.models import AuditEntry
from tests.billing.conftest import CUSTOMER_ID, FakeStripe, post_event, stripe_event
from tests.conftest import HTMX, personal_team

pytestmark = pytest.mark.django_db


def _attempt(client: Client) -> str:
    match = re.search(r'name="attempt" value="([A-Za-z0-9]+)"', client.get("/billing/").content.decode())
    assert match
    return match.group(1)


# --- The billing page ----------------------------------------------------------------------------


def test_billing_page_needs_login(client: Client) -> None:
    response = client.get("/billing/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_billing_page_of_a_free_user_offers_the_upgrade(user_client: Client) -> None:
    response = user_client.get("/billing/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-plan="free"' in html
    assert "Upgrade to Pro" in html
    assert "Manage billing" not in html
    assert "Simulation mode" in html
    assert "HX-Request" in response["Vary"]


def test_billing_page_under_htmx_is_the_plan_card(user_client: Client) -> None:
    html = user_client.get("/billing/?checkout=success", **HTMX).content.decode()  # type: ignore[arg-type]
    assert html.lstrip().startswith('<div id="plan-card-region"')
    assert 'hx-trigger="every 2s"' in html  # polls until the webhook has made the plan Pro


def test_billing_page_queries_do_not_grow_with_events(
    user_client: Client, customer: Subscription, django_assert_max_num_queries: Any
) -> None:
    for name in ("customer.subscription.created", "invoice.paid"):
        post_event(user_client, stripe_event(name))
    with django_assert_max_num_queries(6):
        assert user_client.get("/billing/").status_code == 200


# --- Checkout and portal against a local Stripe ---------------------------------------------------


def test_upgrade_creates_one_customer_and_a_checkout_session(
    user_client: Client, user: User, fake_stripe: FakeStripe
) -> None:
    response = user_client.post("/billing/checkout/", {"attempt": _attempt(user_client)})

    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_fake")
    [customer] = fake_stripe.calls("/v1/customers")
    team = personal_team(user)
    assert (customer["email"], customer["metadata[team_id]"]) == ("ann@example.com", str(team.pk))
    [session] = fake_stripe.calls("/v1/checkout/sessions")
    subscription = Subscription.objects.get(team=team)
    assert session["mode"] == "subscription"
    assert session["customer"] == subscription.stripe_customer_id
    assert session["client_reference_id"] == f"team_{team.pk}"
    assert session["line_items[0][price]"] == "price_pro_demo"
    assert session["line_items[0][quantity]"] == "1"  # one seat per member: Ann alone
    assert session["success_url"] == "http://127.0.0.1:8000/billing/?checkout=success"
    assert session["cancel_url"] == "http://127.0.0.1:8000/billing/?checkout=canceled"
    assert subscription.status == ""  # nothing changes until Stripe's webhook says so


def test_upgrade_under_htmx_redirects_the_browser(user_client: Client, fake_stripe: FakeStripe) -> None:
    response = user_client.post("/billing/checkout/", {"attempt": _attempt(user_client)}, **HTMX)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("https://checkout.stripe.com/c/pay/")


def test_a_double_click_gets_the_same_session_and_the_customer_is_reused(
    user_client: Client, fake_stripe: FakeStripe
) -> None:
    attempt = _attempt(user_client)
    first = user_client.post("/billing/checkout/", {"attempt": attempt})
    second = user_client.post("/billing/checkout/", {"attempt": attempt})
    third = user_client.post("/billing/checkout/", {"attempt": _attempt(user_client)})  # a later, new try

    assert first["Location"] == second["Location"]
    assert third["Location"] != first["Location"]
    assert len(fake_stripe.calls("/v1/customers")) == 1
    keys = [
        headers["Idempotency-Key"]
        for path, _, headers in fake_stripe.requests
        if path == "/v1/checkout/sessions"
    ]
    assert keys[0] == keys[1] != keys[2]


@pytest.mark.parametrize("failing", ["customer", "session"])
def test_a_stripe_error_is_told_and_changes_nothing(
    user_client: Client, user: User, fake_stripe: FakeStripe, failing: str
) -> None:
    if failing == "session":
        Subscription.objects.create(team=personal_team(user), stripe_customer_id="cus_Existing")
    fake_stripe.fail_next = 1

    response = user_client.post("/billing/checkout/", {"attempt": _attempt(user_client)}, follow=True)

    assert response.redirect_chain == [("/billing/", 302)]
    assert "Stripe could not start the checkout. Please try again in a moment." in response.content.decode()
    assert Subscription.objects.get(team=personal_team(user)).stripe_customer_id == (
        "cus_Existing" if failing == "session" else None
    )


def test_an_invalid_attempt_token_is_refused_without_calling_stripe(
    user_client: Client, fake_stripe: FakeStripe
) -> None:
    response = user_client.post("/billing/checkout/", {"attempt": "<script>"}, follow=True)
    assert "That upgrade form has expired" in response.content.decode()
    assert fake_stripe.requests == []


def test_manage_billing_opens_the_portal(
    user_client: Client, customer: Subscription, fake_stripe: FakeStripe
) -> None:
    response = user_client.post("/billing/portal/")

    assert response["Location"].startswith("https://billing.stripe.com/p/session/")
    [params] = fake_stripe.calls("/v1/billing_portal/sessions")
    assert params == {"customer": CUSTOMER_ID, "return_url": "http://127.0.0.1:8000/billing/"}


def test_manage_billing_without_a_customer_says_so(user_client: Client, fake_stripe: FakeStripe) -> None:
    response = user_client.post("/billing/portal/", **HTMX)  # type: ignore[arg-type]
    assert response["HX-Redirect"] == "/billing/"
    assert fake_stripe.requests == []


def test_simulated_pages_do_not_exist_when_connected_to_stripe(
    user_client: Client, fake_stripe: FakeStripe
) -> None:
    assert user_client.get("/billing/simulated/checkout/").status_code == 404
    assert user_client.post("/billing/simulated/portal/", {"operation": "cancel"}).status_code == 404


# --- Simulation mode ------------------------------------------------------------------------------


def test_simulated_upgrade_and_cancel_go_through_the_webhook(user_client: Client, user: User) -> None:
    response = user_client.post("/billing/checkout/", {"attempt": _attempt(user_client)})
    assert response["Location"] == "/billing/simulated/checkout/"
    assert "Simulated Stripe Checkout" in user_client.get("/billing/simulated/checkout/").content.decode()

    response = user_client.post("/billing/simulated/checkout/", follow=True)

    assert response.redirect_chain == [("/billing/?checkout=success", 302)]
    assert 'data-plan="pro"' in response.content.decode()
    assert sorted(StripeEvent.objects.values_list("type", "status")) == [
        ("checkout.session.completed", "processed"),
        ("customer.subscription.created", "processed"),
        ("invoice.paid", "processed"),
    ]

    response = user_client.post("/billing/simulated/portal/", {"operation": "cancel"}, follow=True)
    subscription = Subscription.objects.get(team=personal_team(user))
    assert (subscription.status, subscription.cancel_at_period_end) == ("active", True)
    assert "Cancels on" in response.content.decode()

    user_client.post("/billing/simulated/portal/", {"operation": "resume"})
    assert Subscription.objects.get(team=personal_team(user)).cancel_at_period_end is False

    user_client.post("/billing/simulated/portal/", {"operation": "cancel_now"})
    assert Subscription.objects.get(team=personal_team(user)).status == "canceled"
    assert 'data-plan="free"' in user_client.get("/billing/").content.decode()


def test_simulated_failed_payment_shows_a_banner_until_paid(
    user_client: Client, user: User, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    user_client.post("/billing/simulated/checkout/")
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post("/billing/simulated/portal/", {"operation": "fail_payment"}, **HTMX)  # type: ignore[arg-type]

    assert Subscription.objects.get(team=personal_team(user)).status == "past_due"
    assert len(mailoutbox) == 1
    assert "Your last payment failed" in user_client.get("/dashboard/").content.decode()

    user_client.post("/billing/simulated/portal/", {"operation": "pay"})
    assert "Your last payment failed" not in user_client.get("/dashboard/").content.decode()
    assert Subscription.objects.get(team=personal_team(user)).status == "active"


def test_simulated_portal_rejects_an_unknown_operation(user_client: Client, user: User) -> None:
    user_client.post("/billing/simulated/checkout/")
    response = user_client.post("/billing/simulated/portal/", {"operation": "refund_everything"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert StripeEvent.objects.count() == 3


def test_simulated_portal_without_a_subscription_tells_so(user_client: Client) -> None:
    response = user_client.post("/billing/simulated/portal/", {"operation": "cancel"}, follow=True)
    assert "There is no active subscription to change." in response.content.decode()
    assert not StripeEvent.objects.exists()


def test_a_second_simulated_checkout_is_refused(user_client: Client) -> None:
    user_client.post("/billing/simulated/checkout/")
    response = user_client.post("/billing/simulated/checkout/", follow=True)
    assert "You already have an active subscription." in response.content.decode()
    assert StripeEvent.objects.count() == 3


# --- Staff: webhook events ------------------------------------------------------------------------


def test_webhook_events_page_is_staff_only(user_client: Client) -> None:
    assert user_client.get("/staff/webhooks/").status_code == 403
    assert user_client.post("/staff/webhooks/evt_1/replay/").status_code == 403


def test_webhook_events_page_lists_events_with_constant_queries(
    staff_client: Client, user: User, django_assert_max_num_queries: Any
) -> None:
    post_event(staff_client, stripe_event("customer.subscription.created"))  # fails: unknown customer
    for n in range(10):
        post_event(staff_client, stripe_event("payment_method.attached", id=f"evt_ignored{n:03d}"))

    with django_assert_max_num_queries(7):  # + the team switcher's one query
        response = staff_client.get("/staff/webhooks/")
    html = response.content.decode()
    assert html.count('<tr id="event-') == 11
    assert "No account for Stripe customer cus_TfxAnn0000001." in html
    assert html.count(">Replay</button>") == 1

    failed = staff_client.get("/staff/webhooks/?status=failed").content.decode()
    assert failed.count('<tr id="event-') == 1


def test_replay_under_htmx_swaps_the_row(staff_client: Client, user: User) -> None:
    post_event(staff_client, stripe_event("customer.subscription.created"))
    Subscription.objects.create(team=personal_team(user), stripe_customer_id=CUSTOMER_ID)

    response = staff_client.post("/staff/webhooks/evt_1SfxSubCreated000001/replay/", **HTMX)  # type: ignore[arg-type]

    html = response.content.decode()
    assert html.lstrip().startswith('<tr id="event-evt_1SfxSubCreated000001"')
    assert "Processed" in html
    assert "Replayed evt_1SfxSubCreated000001: processed." in html  # the toast
    assert AuditEntry.objects.get().action == "stripe_event.replay"


def test_replay_without_javascript_redirects_back(staff_client: Client, user: User) -> None:
    post_event(staff_client, stripe_event("customer.subscription.created"))

    response = staff_client.post("/staff/webhooks/evt_1SfxSubCreated000001/replay/", follow=True)

    assert response.redirect_chain == [("/staff/webhooks/", 302)]
    assert "Replayed evt_1SfxSubCreated000001: failed." in response.content.decode()
    assert StripeEvent.objects.get().attempts == 2


def test_replay_of_an_unknown_event_is_404(staff_client: Client) -> None:
    assert staff_client.post("/staff/webhooks/evt_nope/replay/").status_code == 404


def test_the_plan_card_stops_polling_once_the_webhook_made_the_user_pro(user_client: Client) -> None:
    user_client.post("/billing/simulated/checkout/")
    html = user_client.get("/billing/?checkout=success", **HTMX).content.decode()  # type: ignore[arg-type]
    assert "hx-trigger" not in html
    assert "Payment confirmed — welcome to Pro!" in html


def test_upgrading_when_already_pro_does_not_start_a_checkout(
    user_client: Client, fake_stripe: FakeStripe
) -> None:
    Subscription.objects.create(
        team=personal_team(User.objects.get(email="ann@example.com")),
        stripe_customer_id="cus_X",
        status="active",
    )
    response = user_client.post("/billing/checkout/", {"attempt": "a" * 24}, follow=True)
    assert "You are already on a paid plan." in response.content.decode()
    assert fake_stripe.requests == []


def test_pricing_marks_the_plan_you_are_on(user_client: Client) -> None:
    html = user_client.get("/pricing/").content.decode()
    assert html.count(">Your plan</a>") == 1
    assert "Upgrade to Pro" in html
    user_client.post("/billing/simulated/checkout/")
    html = user_client.get("/pricing/").content.decode()
    assert html.count(">Your plan</a>") == 1
    assert "Upgrade to Pro" not in html


def test_pricing_renders_for_visitors(client: Client, db: None) -> None:
    pricing = client.get("/pricing/")

    html = pricing.content.decode()
    assert pricing.status_code == 200
    assert "Free" in html
    assert "Pro" in html
    assert "$12" in html
    assert "<small>per seat / month</small>" in html  # as the billing page says it
    assert "<small>/ month</small>" in html  # Free is not per seat
    assert "Community support" in html


def test_billing_plugs_into_the_navigation_and_the_dashboard(user_client: Client) -> None:
    landing = user_client.get("/").content.decode()
    dashboard = user_client.get("/dashboard/").content.decode()

    assert '<a href="/pricing/"' in landing
    assert 'class="stat-label">Plan</div>' in dashboard
    assert '<a href="/billing/"' in dashboard


# --- Billing switched off: production settings without Stripe keys --------------------------------


@pytest.fixture
def billing_off(settings: Any) -> None:
    settings.BILLING_SIMULATION = False
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


def test_without_stripe_or_simulation_the_page_says_billing_is_not_configured(
    user_client: Client, billing_off: None
) -> None:
    html = user_client.get("/billing/").content.decode()
    assert "Billing is not configured" in html
    assert "Upgrade to Pro" not in html
    assert "Simulation mode" not in html


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_without_stripe_or_simulation_checkout_is_refused_and_nothing_is_written(
    user_client: Client, user: User, billing_off: None, htmx: bool
) -> None:
    headers = HTMX if htmx else {}
    response = user_client.post("/billing/checkout/", {"attempt": "a" * 24}, **headers)  # type: ignore[arg-type]

    assert response.status_code == (200 if htmx else 302)
    assert (response["HX-Redirect"] if htmx else response["Location"]) == "/billing/"
    html = user_client.get("/billing/").content.decode()
    assert "Billing is not configured on this server: upgrading is not available." in html
    assert not Subscription.objects.exists()


def test_without_stripe_or_simulation_nothing_can_be_simulated(
    user_client: Client, user: User, billing_off: None
) -> None:
    assert user_client.get("/billing/simulated/checkout/").status_code == 404
    assert user_client.post("/billing/simulated/checkout/").status_code == 404
    assert user_client.post("/billing/simulated/portal/", {"operation": "cancel"}).status_code == 404
    assert not Subscription.objects.exists()
    assert not StripeEvent.objects.exists()


def test_without_stripe_or_simulation_the_portal_is_refused(
    user_client: Client, user: User, billing_off: None
) -> None:
    # A customer from the days billing was on: there is no Stripe to send them to.
    Subscription.objects.create(team=personal_team(user), stripe_customer_id="cus_sim_Old", status="canceled")
    response = user_client.post("/billing/portal/", follow=True)
    assert "Billing is not configured on this server" in response.content.decode()


def test_without_stripe_or_simulation_the_webhook_refuses_events(client: Client, billing_off: None) -> None:
    response = post_event(client, stripe_event("invoice.paid"))
    assert (response.status_code, response.json()) == (400, {"detail": "Webhook secret not configured."})
