"""Passkeys in a real Chromium, through the DevTools protocol's virtual authenticator (a CTAP2 platform
authenticator with resident keys and user verification), and the second step with JavaScript on and off."""

import time
from importlib import import_module
from typing import Any

import pyotp
import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from accounts.models import Passkey, TotpDevice, User
from accounts.sudo import SESSION_KEY as SUDO_KEY
from accounts.totp import totp_secret_new
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _site_url(settings: Any, live_server: Any) -> None:
    # The relying party is SITE_URL: here, the live server (http://localhost:port).
    settings.SITE_URL = live_server.url


def authenticator(page: Page) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def register_passkey(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/accounts/security/")
    page.fill("#passkey-name", name)
    page.click("[data-passkey-register] button[type=submit]")
    expect(page.locator(".passkey-list")).to_contain_text(name)


def sign_out(page: Page) -> None:
    page.context.clear_cookies()


def test_register_a_passkey_then_sign_in_with_it_alone(js_page: Page, live_server: Any, user: User) -> None:
    base = live_server.url
    cdp, authenticator_id = authenticator(js_page)
    log_in(js_page, base, user.email)
    register_passkey(js_page, base, "Test laptop")

    passkey = Passkey.objects.get(user=user)
    assert passkey.name == "Test laptop"
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(credentials) == 1
    assert credentials[0]["isResidentCredential"] is True

    sign_out(js_page)
    # Without presence, the autofill's request waits (the next test lets it answer); the button's
    # request then replaces it, and presence is back for it.
    cdp.send(
        "WebAuthn.setAutomaticPresenceSimulation", {"authenticatorId": authenticator_id, "enabled": False}
    )
    js_page.goto(f"{base}/accounts/login/?next=/dashboard/tokens/")
    expect(js_page.locator("[data-passkey-button]")).to_be_visible()
    cdp.send(
        "WebAuthn.setAutomaticPresenceSimulation", {"authenticatorId": authenticator_id, "enabled": True}
    )
    js_page.click("text=Sign in with a passkey")
    js_page.wait_for_url(f"{base}/dashboard/tokens/")
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None
    assert passkey.sign_count > 0
    js_page.goto(f"{base}/accounts/security/")
    expect(js_page.locator("#passkey-" + str(passkey.pk))).to_contain_text("last used")


def test_a_passkey_is_the_second_step_of_an_account_with_two_factor(
    js_page: Page, live_server: Any, user: User
) -> None:
    base = live_server.url
    cdp, authenticator_id = authenticator(js_page)
    log_in(js_page, base, user.email)
    register_passkey(js_page, base, "Phone")
    TotpDevice.objects.create(user=user, secret=totp_secret_new())
    # The login page's autofill would sign in with the passkey alone (the next test): take the
    # authenticator away for the password step, and bring the same credential back for the second.
    credential = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"][0]
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator_id})

    sign_out(js_page)
    js_page.goto(f"{base}/accounts/login/")
    js_page.fill("input[name=username]", user.email)
    js_page.fill("input[name=password]", PASSWORD)
    js_page.click("form.form button[type=submit]")
    js_page.wait_for_url(f"{base}/accounts/login/verify/")
    assert "_auth_user_id" not in str(js_page.context.cookies())  # (the session is server-side)
    cdp, authenticator_id = authenticator(js_page)
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator_id, "credential": credential})
    js_page.click("[data-passkey-button]")
    js_page.wait_for_url(f"{base}/dashboard/")


def test_the_login_pages_autofill_offers_the_passkey(js_page: Page, live_server: Any, user: User) -> None:
    """Conditional mediation: the email field's autofill holds the passkey; the virtual authenticator
    picks its only credential, so the login completes without a click on any button."""
    base = live_server.url
    authenticator(js_page)
    log_in(js_page, base, user.email)
    register_passkey(js_page, base, "Laptop")
    sign_out(js_page)
    js_page.goto(f"{base}/accounts/login/")
    assert js_page.evaluate("PublicKeyCredential.isConditionalMediationAvailable()") is True
    js_page.wait_for_url(f"{base}/dashboard/")
    assert js_page.locator("text=Sign in with a passkey").count() == 0


def test_an_unknown_passkey_is_refused_in_the_page(js_page: Page, live_server: Any, user: User) -> None:
    base = live_server.url
    authenticator(js_page)
    log_in(js_page, base, user.email)
    register_passkey(js_page, base, "Soon gone")
    Passkey.objects.all().delete()  # the authenticator still holds it; the server no longer knows it

    sign_out(js_page)
    js_page.goto(f"{base}/accounts/login/")
    js_page.click("text=Sign in with a passkey")
    expect(js_page.locator("[data-passkey-signin] [data-passkey-error]")).to_contain_text("not registered")
    assert js_page.url == f"{base}/accounts/login/"


def test_a_passkey_confirms_it_is_you_for_removing_a_passkey(
    js_page: Page, live_server: Any, user: User
) -> None:
    base = live_server.url
    authenticator(js_page)
    log_in(js_page, base, user.email)
    register_passkey(js_page, base, "Old key")
    # Let the sudo window close: the Remove button now asks to confirm, and a passkey does.
    session_cookie = next(c for c in js_page.context.cookies() if c["name"] == "sessionid")
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_cookie["value"])
    store[SUDO_KEY] = 0
    store.save()

    js_page.click(".passkey form[action$='/remove/'] button")
    js_page.wait_for_url(f"{base}/accounts/reauth/**")
    js_page.click("text=Confirm with a passkey")
    js_page.wait_for_url(f"{base}/accounts/security/")
    js_page.click(".passkey form[action$='/remove/'] button")
    expect(js_page.locator(".passkey-list")).to_have_count(0)
    assert not Passkey.objects.exists()


def test_login_with_totp_with_javascript(js_page: Page, live_server: Any, user: User) -> None:
    base = live_server.url
    secret = totp_secret_new()
    TotpDevice.objects.create(user=user, secret=secret)
    js_page.goto(f"{base}/accounts/login/?next=/dashboard/profile/")
    js_page.fill("input[name=username]", user.email)
    js_page.fill("input[name=password]", PASSWORD)
    js_page.click("form.form button[type=submit]")
    js_page.wait_for_url(f"{base}/accounts/login/verify/")
    js_page.fill("input[name=code]", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    js_page.click("form.form button[type=submit]")
    expect(js_page.locator(".errorlist")).to_contain_text("not valid")
    js_page.fill("input[name=code]", pyotp.TOTP(secret).now())
    js_page.click("form.form button[type=submit]")
    js_page.wait_for_url(f"{base}/dashboard/profile/")


def test_login_without_javascript_by_password_and_totp(nojs_page: Page, live_server: Any, user: User) -> None:
    base = live_server.url
    secret = totp_secret_new()
    TotpDevice.objects.create(user=user, secret=secret)
    Passkey.objects.create(user=user, name="Key", credential_id="abc", public_key=b"x")
    page = nojs_page
    page.goto(f"{base}/accounts/login/")
    # Without JavaScript the passkey controls stay hidden; the password form is the way in.
    expect(page.locator("[data-passkey-button]")).to_be_hidden()
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/login/verify/")
    expect(page.locator("[data-passkey-button]")).to_be_hidden()
    page.fill("input[name=code]", "")
    page.click("form.form button[type=submit]")
    expect(page.locator(".errorlist")).to_contain_text("required")
    page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time()))
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/dashboard/")


def test_turning_on_two_factor_without_javascript(nojs_page: Page, live_server: Any, user: User) -> None:
    base = live_server.url
    page = nojs_page
    log_in(page, base, user.email)
    page.goto(f"{base}/accounts/security/")
    expect(page.locator("text=Add a passkey")).to_be_hidden()
    page.click("text=Set up an authenticator app")
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("text=Turn on two-factor")
    page.wait_for_url(f"{base}/accounts/security/recovery-codes/")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.click("text=I have saved them")
    page.wait_for_url(f"{base}/accounts/security/")
    expect(page.locator("#recovery-left")).to_contain_text("10 of 10 left")
