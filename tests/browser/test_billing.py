from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from billing.models import StripeEvent, Subscription
from tests.browser.conftest import log_in
from tests.conftest import personal_team

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _simulation(settings: Any) -> None:
    settings.BILLING_SIMULATION = True  # the suite runs with DEBUG off, where it is off by default


def test_free_user_upgrades_in_simulation_mode_sees_pro_and_cancels(
    js_page: Page, live_server: object, user: User
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    page = js_page
    log_in(page, base, user.email)
    page.click("nav.sidenav >> text=Billing")
    expect(page.locator("#plan-card [data-plan]")).to_have_text("Free")

    page.click("text=Upgrade to Pro")
    page.wait_for_url(f"{base}/billing/simulated/checkout/")
    expect(page.locator(".sim-label")).to_contain_text("Simulated Stripe Checkout")
    page.click("text=Pay $12 and subscribe")

    page.wait_for_url(f"{base}/billing/?checkout=success")
    expect(page.locator("#plan-card [data-plan]")).to_have_text("Pro")
    expect(page.locator(".toast")).to_contain_text("Welcome to Pro!")
    page.goto(f"{base}/dashboard/")
    expect(page.locator(".stat a[href='/billing/']")).to_have_text("Pro")

    page.goto(f"{base}/billing/")
    page.click("text=Manage billing")
    page.wait_for_url(f"{base}/billing/simulated/portal/")
    page.click("text=Cancel subscription")
    page.wait_for_url(f"{base}/billing/")
    expect(page.locator("#plan-card")).to_contain_text("Cancels on")

    page.click("text=Manage billing")
    page.click("text=Cancel now (end immediately)")
    page.wait_for_url(f"{base}/billing/")
    expect(page.locator("#plan-card [data-plan]")).to_have_text("Free")
    expect(page.locator("#plan-card")).to_contain_text("Your subscription has ended.")

    assert Subscription.objects.get(team=personal_team(user)).status == "canceled"
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert StripeEvent.objects.count() == 5


def test_upgrade_and_cancel_work_without_javascript(nojs_page: Page, live_server: object, user: User) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    page = nojs_page
    log_in(page, base, user.email)
    page.goto(f"{base}/billing/")

    with page.expect_navigation():
        page.click("text=Upgrade to Pro")
    with page.expect_navigation():
        page.click("text=Pay $12 and subscribe")
    assert page.url == f"{base}/billing/?checkout=success"
    expect(page.locator("#plan-card [data-plan]")).to_have_text("Pro")

    with page.expect_navigation():
        page.click("text=Manage billing")
    with page.expect_navigation():
        page.click("text=Cancel now (end immediately)")
    assert page.url == f"{base}/billing/"
    expect(page.locator("#plan-card [data-plan]")).to_have_text("Free")
