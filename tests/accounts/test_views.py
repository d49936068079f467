from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.conftest import HTMX, PASSWORD

PROFILE_URL = "/dashboard/profile/"


def profile_data(**overrides: str) -> dict[str, str]:
    return {"display_name": "Ann Lee", "bio": "Builds things.", "time_zone": "Europe/Paris", **overrides}


def test_profile_plain_post_redirects_back_with_a_message(user_client: Client, user: User) -> None:
    response = user_client.post(PROFILE_URL, profile_data())

    assert response.status_code == 302
    assert response["Location"] == PROFILE_URL
    user.refresh_from_db()
    assert (user.display_name, user.bio, user.time_zone) == ("Ann Lee", "Builds things.", "Europe/Paris")
    page = user_client.get(PROFILE_URL)
    assert "Profile saved." in page.content.decode()
    assert 'id="nav-user-name" class="nav-user-name">Ann Lee<' in page.content.decode()


def test_profile_htmx_post_answers_only_what_changed(user_client: Client, user: User) -> None:
    response = user_client.post(PROFILE_URL, profile_data(), **HTMX)

    assert response.status_code == 200
    assert response["HX-Reswap"] == "none"  # the form stays as the user typed it: nothing to redraw
    html = response.content.decode()
    assert "<form" not in html
    assert "time_zone" not in html  # not the 600-option select again
    assert len(response.content) < 2000
    assert '<span id="profile-status" role="status" hx-swap-oob="true">' in html
    assert '<span class="form-success">Saved.</span>' in html
    assert 'id="nav-user-name" class="nav-user-name" hx-swap-oob="true">Ann Lee<' in html
    assert 'hx-swap-oob="beforeend"' in html
    assert "Profile saved." in html
    user.refresh_from_db()
    assert (user.display_name, user.bio, user.time_zone) == ("Ann Lee", "Builds things.", "Europe/Paris")


def test_profile_htmx_post_after_errors_redraws_the_form_without_them(
    user_client: Client, user: User
) -> None:
    rejected = user_client.post(PROFILE_URL, profile_data(display_name="  "), **HTMX).content.decode()
    assert '<input type="hidden" name="redraw" value="1">' in rejected  # the errored form says so

    response = user_client.post(PROFILE_URL, profile_data(redraw="1"), **HTMX)

    assert response.status_code == 200
    assert "HX-Reswap" not in response
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="profile-form"')
    assert "errorlist" not in html
    assert 'name="redraw"' not in html
    assert '<span class="form-success">Saved.</span>' in html
    assert 'id="nav-user-name" class="nav-user-name" hx-swap-oob="true">Ann Lee<' in html
    assert "Profile saved." in html
    user.refresh_from_db()
    assert user.display_name == "Ann Lee"


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_profile_invalid_input_is_shown_in_the_form_and_changes_nothing(
    user_client: Client, user: User, headers: dict[str, str]
) -> None:
    response = user_client.post(
        PROFILE_URL, profile_data(display_name="  ", time_zone="Mars/Olympus"), **headers
    )

    assert response.status_code == 200  # htmx 2 swaps only 2xx: invalid forms come back as 200
    html = response.content.decode()
    assert "Enter a display name." in html
    assert "Select a valid choice." in html
    assert "hx-swap-oob" not in html
    user.refresh_from_db()
    assert user.display_name == "Ann"
    if not headers:
        # The full page's nav still shows the saved name, not the rejected input.
        assert 'id="nav-user-name" class="nav-user-name">Ann<' in html


def test_profile_bio_longer_than_280_characters_is_refused(user_client: Client, user: User) -> None:
    response = user_client.post(PROFILE_URL, profile_data(bio="x" * 281))

    assert response.status_code == 200
    assert "Keep the bio to 280 characters or fewer." in response.content.decode()
    user.refresh_from_db()
    assert user.bio == ""


def test_profile_htmx_get_returns_only_the_partial(user_client: Client) -> None:
    response = user_client.get(PROFILE_URL, **HTMX)

    assert response.content.decode().lstrip().startswith('<form id="profile-form"')


def test_profile_anonymous_plain_request_is_redirected_to_login(client: Client) -> None:
    response = client.get(PROFILE_URL)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={PROFILE_URL}"


def test_profile_anonymous_htmx_request_gets_a_client_redirect(client: Client, db: None) -> None:
    response = client.post(
        PROFILE_URL,
        profile_data(),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/dashboard/profile/",
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fdashboard%2Fprofile%2F"
    assert response.content == b""


def test_profile_post_without_csrf_token_is_refused(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(PROFILE_URL, profile_data())

    assert response.status_code == 403
    user.refresh_from_db()
    assert user.display_name == "Ann"


def test_signup_creates_the_account_and_logs_in(client: Client, db: None) -> None:
    response = client.post(
        "/accounts/signup/",
        {"display_name": "Cy", "email": "Cy@Example.com", "password": "a-long-passphrase-9"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    user = User.objects.get()
    assert user.email == "cy@example.com"
    assert user.check_password("a-long-passphrase-9")
    assert client.get("/dashboard/").status_code == 200


def test_signup_refuses_a_taken_email_and_a_weak_password(client: Client, user: User) -> None:
    response = client.post(
        "/accounts/signup/", {"display_name": "X", "email": "ANN@example.com", "password": "1234"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "already exists" in html
    assert "too short" in html
    assert User.objects.count() == 1


def test_signups_from_one_address_are_rate_limited(client: Client, db: None, settings: Any) -> None:
    settings.SIGNUP_THROTTLE = {"window_seconds": 3600, "per_ip": 2}
    for n in range(2):
        signed_up = Client().post(
            "/accounts/signup/",
            {"display_name": "Bot", "email": f"bot{n}@example.com", "password": "a-long-pass-9"},
        )
        assert signed_up.status_code == 302

    response = client.post(
        "/accounts/signup/", {"display_name": "Bot", "email": "bot9@example.com", "password": "a-long-pass-9"}
    )

    assert response.status_code == 429
    assert "Too many accounts were created from your network" in response.content.decode()
    assert not User.objects.filter(email="bot9@example.com").exists()
    # Another client address is not held back.
    other = client.post(
        "/accounts/signup/",
        {"display_name": "Di", "email": "di@example.com", "password": "a-long-pass-9"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert other.status_code == 302


def test_login_with_email_in_any_case(client: Client, user: User) -> None:
    response = client.post("/accounts/login/", {"username": "ANN@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_logout_requires_post(user_client: Client) -> None:
    assert user_client.get("/accounts/logout/").status_code == 405
    assert user_client.post("/accounts/logout/").status_code == 302
    assert user_client.get("/dashboard/").status_code == 302


def test_password_reset_sends_a_working_link(client: Client, user: User) -> None:
    response = client.post("/accounts/password-reset/", {"email": "ann@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "brand-new-secret-42", "new_password2": "brand-new-secret-42"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-secret-42")


def test_password_reset_for_unknown_email_sends_nothing_and_reveals_nothing(client: Client, db: None) -> None:
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_password_change(user_client: Client, user: User) -> None:
    response = user_client.post(
        "/accounts/password-change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-good-pass-7",
            "new_password2": "another-good-pass-7",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-good-pass-7")
