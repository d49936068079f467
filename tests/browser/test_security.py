"""The security features in a real browser, with JavaScript on and off: the verification banner and its
resend, signing another browser out (two browser contexts), deleting the account."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)
LINK = re.compile(r"https?://\S+(/accounts/verify/[^/\s]+/)")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_banner_resend_then_the_link_confirms_and_the_banner_goes(
    browser: Browser, live_server: object, unverified_user: User, javascript: bool
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    try:
        log_in(page, base, unverified_user.email)
        banner = page.locator("#verify-banner")
        expect(banner).to_contain_text("Confirm your email address")
        if javascript:
            page.evaluate("window.__noReload = true")
            banner.get_by_role("button", name="Resend the link").click()
            expect(banner).to_contain_text("We sent a new link")
            assert page.evaluate("window.__noReload") is True
        else:
            with page.expect_navigation():
                banner.get_by_role("button", name="Resend the link").click()
            assert page.url == f"{base}/dashboard/"
            expect(page.locator(".toast")).to_contain_text("We sent a new link")
        (path,) = LINK.findall(mail.outbox[-1].body)

        page.goto(base + path)
        page.get_by_role("button", name="Confirm my address").click()

        page.wait_for_url(f"{base}/dashboard/")
        expect(page.locator(".toast")).to_contain_text("is confirmed")
        expect(page.locator("#verify-banner")).to_have_count(0)
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_security_page_signs_the_other_browser_out(
    browser: Browser, live_server: object, user: User, javascript: bool
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    phone_context = browser.new_context(
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Safari/604.1"
    )
    here_context = browser.new_context(java_script_enabled=javascript)
    try:
        phone = phone_context.new_page()
        log_in(phone, base, user.email)
        here = here_context.new_page()
        log_in(here, base, user.email)

        here.goto(f"{base}/accounts/security/")
        rows = here.locator("#security-sessions li[id^=session-]")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("This one")
        other = here.locator("#security-sessions li", has_text="Safari on iPhone")
        if javascript:
            here.evaluate("window.__noReload = true")
            here.once("dialog", lambda dialog: dialog.accept())
            here.get_by_role("button", name="Sign out all others").click()
            expect(other).to_have_count(0)
            assert here.evaluate("window.__noReload") is True
        else:
            with here.expect_navigation():
                other.get_by_role("button", name="Sign out").click()
            expect(other).to_have_count(0)
        expect(rows).to_have_count(1)

        phone.goto(f"{base}/dashboard/")
        assert phone.url.startswith(f"{base}/accounts/login/")
        here.goto(f"{base}/dashboard/")
        assert here.url == f"{base}/dashboard/"
    finally:
        phone_context.close()
        here_context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_delete_my_account(browser: Browser, live_server: object, user: User, javascript: bool) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    context = browser.new_context(java_script_enabled=javascript)
    page: Page = context.new_page()
    try:
        log_in(page, base, user.email)
        page.goto(f"{base}/accounts/security/")
        page.click("#account-delete-start")
        page.wait_for_url(f"{base}/accounts/delete/")

        page.fill("input[name=confirm_email]", "someone@else.example")
        page.get_by_role("button", name="Delete my account").click()
        expect(page.locator("#account-delete-form .errorlist")).to_contain_text(
            "That is not your email address"
        )

        page.fill("input[name=confirm_email]", user.email)
        page.get_by_role("button", name="Delete my account").click()
        page.wait_for_url(f"{base}/")
        expect(page.locator(".toast")).to_contain_text("Your account and its data are deleted")
        assert not User.objects.filter(pk=user.pk).exists()
    finally:
        context.close()
