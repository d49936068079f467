"""Email verification: links that work once and expire, the banner and its resend, the gates, a change of
address confirmed by the new one, providers' verified addresses."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.oauth import ProviderProfile
from accounts.services import oauth_login
from accounts.sudo import SESSION_KEY
from accounts.verification import (
    EMAIL_UNVERIFIED_MESSAGE,
    SALT,
    email_verified,
    verification_token,
)
from tests.conftest import HTMX, PASSWORD, needs

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://\S+(/accounts/verify/[^/\s]+/)")


def link_in(message: Any) -> str:
    (path,) = LINK.findall(message.body)
    return str(path)


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def test_signup_sends_a_link_and_the_account_starts_unverified(client: Client) -> None:
    response = client.post(
        "/accounts/signup/", {"display_name": "Nia", "email": "nia@example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    user = User.objects.get(email="nia@example.com")
    assert not email_verified(user)
    (message,) = mail.outbox
    assert message.to == ["nia@example.com"]
    assert "/accounts/verify/" in message.body


def test_the_link_shows_a_confirm_page_and_the_post_verifies(client: Client, unverified_user: User) -> None:
    path = f"/accounts/verify/{verification_token(user=unverified_user, email=unverified_user.email)}/"

    page = client.get(path)
    unverified_user.refresh_from_db()
    assert page.status_code == 200
    assert "Confirm my address" in page.content.decode()
    assert unverified_user.email_verified_at is None  # a GET (a mail scanner) changes nothing

    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    unverified_user.refresh_from_db()
    assert email_verified(unverified_user)


def test_a_link_works_once(client: Client, unverified_user: User) -> None:
    path = f"/accounts/verify/{verification_token(user=unverified_user, email=unverified_user.email)}/"
    client.post(path)

    again = client.post(path)

    assert again.status_code == 400
    assert "already confirmed" in again.content.decode()


def test_every_older_link_dies_when_one_is_used(client: Client, unverified_user: User) -> None:
    first = verification_token(user=unverified_user, email=unverified_user.email)
    client.post(f"/accounts/verify/{verification_token(user=unverified_user, email='new@example.com')}/")

    stale = client.get(f"/accounts/verify/{first}/")

    assert stale.status_code == 400
    assert "already used or replaced" in stale.content.decode()


def test_an_expired_link_is_refused(client: Client, unverified_user: User, settings: Any) -> None:
    settings.EMAIL_VERIFY_MAX_AGE = 60
    token = verification_token(user=unverified_user, email=unverified_user.email)
    payload = signing.TimestampSigner(salt=SALT).unsign(token)  # re-signed as if two minutes ago
    past = signing.TimestampSigner(salt=SALT)
    two_minutes_ago = int((timezone.now() - timedelta(minutes=2)).timestamp())
    past.timestamp = lambda: signing.b62_encode(two_minutes_ago)  # type: ignore[method-assign]
    expired = past.sign(payload)

    response = client.post(f"/accounts/verify/{expired}/")

    assert response.status_code == 400
    assert "expired" in response.content.decode()
    unverified_user.refresh_from_db()
    assert unverified_user.email_verified_at is None


@pytest.mark.parametrize("token", ["nonsense", "a:b:c", "x" * 300])
def test_a_forged_link_is_refused_without_a_500(client: Client, token: str) -> None:
    assert client.post(f"/accounts/verify/{token}/").status_code == 400


def test_the_banner_shows_until_verified_with_resend(
    client: Client, unverified_user: User, user: User
) -> None:
    assert 'id="verify-banner"' in signed_in(client, unverified_user).get("/dashboard/").content.decode()
    assert 'id="verify-banner"' not in signed_in(Client(), user).get("/dashboard/").content.decode()


def test_resend_plain_redirects_back_and_htmx_swaps_the_banner(client: Client, unverified_user: User) -> None:
    signed_in(client, unverified_user)

    plain = client.post("/accounts/verify/resend/", HTTP_REFERER="http://testserver/dashboard/posts/")
    htmx = client.post("/accounts/verify/resend/", **HTMX)  # type: ignore[arg-type]

    assert plain.status_code == 302
    assert plain["Location"] == "http://testserver/dashboard/posts/"
    assert htmx.status_code == 200
    assert "We sent a new link" in htmx.content.decode()
    assert [m.to for m in mail.outbox] == [["una@example.com"], ["una@example.com"]]
    # The new link works.
    client.post(link_in(mail.outbox[-1]))
    unverified_user.refresh_from_db()
    assert unverified_user.email_verified_at is not None


def test_resend_is_rate_limited(client: Client, unverified_user: User, settings: Any) -> None:
    settings.EMAIL_VERIFY_THROTTLE = {"per_user": 2, "window_seconds": 3600}
    signed_in(client, unverified_user)
    for _ in range(2):
        client.post("/accounts/verify/resend/", **HTMX)  # type: ignore[arg-type]

    third = client.post("/accounts/verify/resend/", **HTMX)  # type: ignore[arg-type]
    plain = client.post("/accounts/verify/resend/", follow=True)

    assert "several links already" in third.content.decode()
    assert "several links already" in plain.content.decode()
    assert len(mail.outbox) == 2


def test_the_tokens_page_refuses_an_unverified_address_in_the_form(
    client: Client, unverified_user: User
) -> None:
    signed_in(client, unverified_user)

    page = client.get("/dashboard/tokens/").content.decode()
    for headers in ({}, HTMX):
        response = client.post("/dashboard/tokens/", {"name": "Laptop"}, **headers)  # type: ignore[arg-type]
        assert response.status_code == 200
        assert "Confirm your email address first" in response.content.decode()

    assert "Confirm your email address first" in page
    assert not unverified_user.api_tokens.exists()


@needs("billing")
def test_checkout_refuses_an_unverified_address_and_the_page_says_so(
    client: Client, unverified_user: User, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    settings.BILLING_SIMULATION = True  # checkout offered, no Stripe needed
    signed_in(client, unverified_user)

    page = client.get("/billing/").content.decode()
    response = client.post("/billing/checkout/", {"attempt": "x" * 24}, follow=True)

    assert 'id="checkout-needs-verified-email"' in page
    assert "Upgrade to Pro" not in page
    assert EMAIL_UNVERIFIED_MESSAGE in response.content.decode()
    assert not hasattr(User.objects.get(pk=unverified_user.pk), "billing_subscription")


def test_email_verified_is_false_for_anonymous_and_unverified(unverified_user: User, user: User) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert email_verified(user) is True
    assert email_verified(unverified_user) is False
    assert email_verified(AnonymousUser()) is False


# --- Changing the address ------------------------------------------------------------------------


def test_changing_the_email_needs_sudo(user_client: Client) -> None:
    session = user_client.session
    session[SESSION_KEY] = 0
    session.save()

    response = user_client.post("/accounts/email/", {"email": "ann.new@example.com"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauth/")
    assert not mail.outbox


def test_a_change_mails_the_new_address_and_replaces_the_old_only_when_confirmed(
    user_client: Client, user: User
) -> None:
    response = user_client.post("/accounts/email/", {"email": "Ann.New@Example.com"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "ann@example.com"  # not yet
    (message,) = mail.outbox
    assert message.to == ["ann.new@example.com"]

    page = user_client.get(link_in(message)).content.decode()
    confirm = user_client.post(link_in(message))

    assert "Use this address" in page
    assert confirm.status_code == 302
    user.refresh_from_db()
    assert user.email == "ann.new@example.com"
    assert user.email_verified_at is not None
    notice = mail.outbox[-1]
    assert notice.to == ["ann@example.com"]
    assert "ann.new@example.com" in notice.body
    # The same link cannot be used twice, and the old one is gone as a login.
    assert user_client.post(link_in(message)).status_code == 400


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "This field is required."),
        ("not-an-address", "Enter a valid email address."),
        ("ANN@example.com", "That is already your address."),
        ("bob@example.com", "Another account uses this address."),
    ],
)
def test_bad_new_addresses_are_shown_in_the_form(
    user_client: Client, other_user: User, typed: str, error: str
) -> None:
    response = user_client.post("/accounts/email/", {"email": typed})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not mail.outbox


def test_an_address_taken_meanwhile_is_refused_at_confirmation(user_client: Client, user: User) -> None:
    user_client.post("/accounts/email/", {"email": "late@example.com"})
    User.objects.create_user(email="late@example.com", password=PASSWORD)

    response = user_client.post(link_in(mail.outbox[0]))

    assert response.status_code == 400
    assert "Another account uses this address" in response.content.decode()
    user.refresh_from_db()
    assert user.email == "ann@example.com"


def test_profile_offers_the_change(user_client: Client) -> None:
    assert 'href="/accounts/email/"' in user_client.get("/dashboard/profile/").content.decode()


# --- Outside providers ---------------------------------------------------------------------------


def test_a_provider_that_vouches_for_the_address_makes_a_verified_account() -> None:
    user = oauth_login(provider="oidc", profile=ProviderProfile("sub-1", "neo@example.com", "Neo"))

    assert email_verified(user)


def test_a_provider_verifies_an_unverified_account_and_drops_the_password_nobody_proved(
    unverified_user: User,
) -> None:
    user = oauth_login(provider="oidc", profile=ProviderProfile("sub-2", unverified_user.email, "Una"))

    assert user.pk == unverified_user.pk
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert not user.has_usable_password()


def test_a_verified_account_linked_by_a_provider_keeps_its_password(user: User) -> None:
    oauth_login(provider="oidc", profile=ProviderProfile("sub-3", user.email, "Ann"))

    user.refresh_from_db()
    assert user.check_password(PASSWORD)
