import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_profile_update_with_javascript_swaps_in_place(
    js_page: Page, live_server: object, user: User
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    page = js_page
    log_in(page, base, user.email)
    page.goto(f"{base}/dashboard/profile/")
    # A marker on the window survives only if no full page load happens.
    page.evaluate("window.__noReload = true")

    page.fill("input[name=display_name]", "Ann Lee")
    page.click("#profile-form button[type=submit]")

    expect(page.locator("#nav-user-name")).to_have_text("Ann Lee")
    expect(page.locator("#profile-form .form-success")).to_have_text("Saved.")
    expect(page.locator(".toast")).to_contain_text("Profile saved.")
    assert page.evaluate("window.__noReload") is True
    user.refresh_from_db()
    assert user.display_name == "Ann Lee"


def test_profile_validation_error_with_javascript_stays_in_the_form(
    js_page: Page, live_server: object, user: User
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    log_in(js_page, base, user.email)
    js_page.goto(f"{base}/dashboard/profile/")
    js_page.evaluate("window.__noReload = true")

    js_page.fill("input[name=display_name]", "   ")
    js_page.click("#profile-form button[type=submit]")

    expect(js_page.locator("#profile-form .errorlist")).to_have_text("Enter a display name.")
    expect(js_page.locator("#nav-user-name")).to_have_text("Ann")
    assert js_page.evaluate("window.__noReload") is True


def test_profile_fixed_after_an_error_with_javascript_shows_no_stale_error(
    js_page: Page, live_server: object, user: User
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    log_in(js_page, base, user.email)
    js_page.goto(f"{base}/dashboard/profile/")
    js_page.evaluate("window.__noReload = true")

    js_page.fill("input[name=display_name]", "   ")
    js_page.click("#profile-form button[type=submit]")
    expect(js_page.locator("#profile-form .errorlist")).to_have_text("Enter a display name.")
    js_page.fill("input[name=display_name]", "Ann Fixed")
    js_page.click("#profile-form button[type=submit]")

    expect(js_page.locator("#nav-user-name")).to_have_text("Ann Fixed")
    expect(js_page.locator("#profile-form .form-success")).to_have_text("Saved.")
    expect(js_page.locator("#profile-form .errorlist")).to_have_count(0)
    js_page.fill("input[name=display_name]", "Ann Again")
    js_page.click("#profile-form button[type=submit]")  # the small answer again: the form stays
    expect(js_page.locator("#nav-user-name")).to_have_text("Ann Again")
    expect(js_page.locator("input[name=display_name]")).to_have_value("Ann Again")
    assert js_page.evaluate("window.__noReload") is True


def test_profile_update_without_javascript_posts_and_redirects(
    nojs_page: Page, live_server: object, user: User
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    page = nojs_page
    log_in(page, base, user.email)
    page.goto(f"{base}/dashboard/profile/")

    page.fill("input[name=display_name]", "Ann Without JS")
    with page.expect_navigation():
        page.click("#profile-form button[type=submit]")

    assert page.url == f"{base}/dashboard/profile/"  # POST/redirect/GET
    expect(page.locator("#nav-user-name")).to_have_text("Ann Without JS")
    expect(page.locator(".toast")).to_contain_text("Profile saved.")
    user.refresh_from_db()
    assert user.display_name == "Ann Without JS"
