"""The login's second step for accounts with two-factor: on our form, the admin's, OAuth and the API."""

import time
from typing import Any

import pyotp
import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from accounts.models import TotpDevice, User
from accounts.second_step import SALT, SESSION_KEY
from accounts.totp import recovery_codes_generate, totp_secret_new
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
VERIFY = "/accounts/login/verify/"
ADMIN = f"/{settings.ADMIN_URL}"
TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def secret(user: User) -> str:
    value = totp_secret_new()
    TotpDevice.objects.create(user=user, secret=value)
    return value


def code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset)


def wrong_code(secret: str) -> str:
    valid = {code(secret, d) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222") if c not in valid)


def password_step(client: Client, email: str = "ann@example.com", **extra: str) -> Any:
    return client.post(LOGIN, {"username": email, "password": PASSWORD, **extra}, REMOTE_ADDR="10.0.0.1")


def test_the_password_alone_does_not_log_in_an_account_with_two_factor(client: Client, secret: str) -> None:
    response = password_step(client)
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    assert "_auth_user_id" not in client.session
    assert "sudo_until" not in client.session
    assert client.get("/dashboard/").status_code == 302
    page = client.get(VERIFY)
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()


def test_the_code_logs_in_and_next_survives(client: Client, user: User, secret: str) -> None:
    password_step(client, next="/dashboard/tokens/")
    response = client.post(VERIFY, {"code": code(secret)})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/tokens/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert SESSION_KEY not in client.session


def test_an_outside_next_is_dropped(client: Client, secret: str) -> None:
    password_step(client, next="https://evil.example/")
    response = client.post(VERIFY, {"code": code(secret)})
    assert response["Location"] == "/dashboard/"


def test_a_previous_window_code_is_accepted_and_cannot_be_reused(client: Client, secret: str) -> None:
    used = code(secret, -30)
    password_step(client)
    assert client.post(VERIFY, {"code": used}).status_code == 302
    client.post("/accounts/logout/")
    password_step(client)
    again = client.post(VERIFY, {"code": used})
    assert again.status_code == 200
    assert "not valid, or was already used" in again.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_wrong_code_is_shown_in_the_form(client: Client, secret: str) -> None:
    password_step(client)
    response = client.post(VERIFY, {"code": wrong_code(secret)})
    body = response.content.decode()
    assert response.status_code == 200
    assert "field-invalid" in body
    assert "not valid, or was already used" in body
    empty = client.post(VERIFY, {"code": ""})
    assert "This field is required" in empty.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_logs_in_once(client: Client, user: User, secret: str) -> None:
    codes = recovery_codes_generate(user=user)
    password_step(client)
    response = client.post(VERIFY, {"code": codes[0]}, follow=True)
    assert "You used a recovery code; 9 left" in response.content.decode()
    client.post("/accounts/logout/")
    password_step(client)
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_second_step_has_its_own_throttle_per_account(client: Client, secret: str) -> None:
    password_step(client)
    for _ in range(settings.SECOND_FACTOR_THROTTLE["per_account"] - 1):
        assert client.post(VERIFY, {"code": wrong_code(secret)}).status_code == 200
    locked = client.post(VERIFY, {"code": wrong_code(secret)})
    assert locked.status_code == 429
    assert "Too many wrong codes" in locked.content.decode()
    # Even the right code is refused while locked: guessing cannot go on.
    refused = client.post(VERIFY, {"code": code(secret)})
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_throttle_counts_per_client_address_across_accounts(
    client: Client, settings: Any, user: User, other_user: User
) -> None:
    settings.SECOND_FACTOR_THROTTLE = {**settings.SECOND_FACTOR_THROTTLE, "per_ip": 3, "per_account": 100}
    for account in (user, other_user):
        TotpDevice.objects.create(user=account, secret=totp_secret_new())
    password_step(client)
    for _ in range(2):
        client.post(VERIFY, {"code": "000000"}, REMOTE_ADDR="10.9.9.9")
    second = Client()
    password_step(second, "bob@example.com")
    locked = second.post(VERIFY, {"code": "000000"}, REMOTE_ADDR="10.9.9.9")
    assert locked.status_code == 429


def test_without_a_pending_login_the_second_step_sends_to_the_login(client: Client) -> None:
    response = client.get(VERIFY)
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.post(VERIFY, {"code": "123456"})["Location"] == LOGIN


def test_the_half_authenticated_state_expires(client: Client, secret: str, settings: Any) -> None:
    password_step(client)
    settings.SECOND_STEP_SECONDS = -1
    assert client.post(VERIFY, {"code": code(secret)})["Location"] == LOGIN
    assert "_auth_user_id" not in client.session


def test_a_forged_state_is_refused(client: Client, user: User, other_user: User, secret: str) -> None:
    password_step(client)
    session = client.session
    state = signing.loads(session[SESSION_KEY], salt=SALT)
    session[SESSION_KEY] = signing.dumps({**state, "u": other_user.pk}, salt="another")
    session.save()
    assert client.get(VERIFY)["Location"] == LOGIN


def test_a_password_changed_meanwhile_voids_the_state(client: Client, user: User, secret: str) -> None:
    password_step(client)
    user.set_password("a-whole-new-password")
    user.save()
    assert client.post(VERIFY, {"code": code(secret)})["Location"] == LOGIN


def test_an_account_without_two_factor_logs_in_with_its_password(client: Client, user: User) -> None:
    response = password_step(client)
    assert response["Location"] == "/dashboard/"
    assert client.session["_auth_user_id"] == str(user.pk)


# --- The admin ----------------------------------------------------------------------------------


def test_the_admin_login_takes_the_second_step_too(client: Client, staff_user: User) -> None:
    secret = totp_secret_new()
    TotpDevice.objects.create(user=staff_user, secret=secret)
    response = client.post(
        f"{ADMIN}login/", {"username": staff_user.email, "password": PASSWORD, "next": ADMIN}
    )
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    assert "_auth_user_id" not in client.session
    assert client.get(ADMIN).status_code == 302
    done = client.post(VERIFY, {"code": code(secret)})
    assert done["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_the_admin_login_still_shows_bad_passwords_in_its_form(client: Client, staff_user: User) -> None:
    response = client.post(f"{ADMIN}login/", {"username": staff_user.email, "password": "nope"})
    assert response.status_code == 200
    assert "correct email address and password" in response.content.decode()


def test_staff_without_two_factor_are_sent_to_set_it_up(
    client: Client, staff_user: User, settings: Any
) -> None:
    settings.STAFF_REQUIRE_2FA = True
    client.force_login(staff_user)
    for url in ("/staff/flags/", ADMIN):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == "/accounts/security/"
    assert "Staff accounts need two-factor" in client.get("/accounts/security/").content.decode()
    TotpDevice.objects.create(user=staff_user, secret=totp_secret_new())
    assert client.get("/staff/flags/").status_code == 200
    assert client.get(ADMIN).status_code == 200


def test_without_the_setting_staff_may_go_without_two_factor(staff_client: Client) -> None:
    assert staff_client.get("/staff/flags/").status_code == 200


# --- The token API ------------------------------------------------------------------------------


def token(client: Client, **body: str) -> Any:
    return client.post(
        TOKEN, {"email": "ann@example.com", "password": PASSWORD, **body}, content_type="application/json"
    )


def test_the_api_wants_otp_for_an_account_with_two_factor(client: Client, secret: str) -> None:
    response = token(client)
    assert response.status_code == 401
    assert response.json()["code"] == "otp_required"
    assert response.json()["detail"]
    assert response.has_header("WWW-Authenticate")


def test_the_api_refuses_a_wrong_otp(client: Client, secret: str) -> None:
    response = token(client, otp=wrong_code(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "otp_invalid"


def test_the_api_takes_a_code_once_and_a_recovery_code(client: Client, user: User, secret: str) -> None:
    current = code(secret)
    assert token(client, otp=current).status_code == 201
    assert token(client, otp=current).json()["code"] == "otp_invalid"
    codes = recovery_codes_generate(user=user)
    assert token(client, otp=codes[3]).status_code == 201
    assert token(client, otp=codes[3]).status_code == 401


def test_the_api_otp_is_throttled(client: Client, secret: str) -> None:
    for _ in range(settings.SECOND_FACTOR_THROTTLE["per_account"] - 1):
        assert token(client, otp="000000").status_code == 401
    locked = token(client, otp="000000")
    assert locked.status_code == 429
    assert locked.has_header("Retry-After")
    assert token(client, otp=code(secret)).status_code == 429


def test_the_api_wrong_password_is_not_asked_for_otp(client: Client, secret: str) -> None:
    response = client.post(
        TOKEN, {"email": "ann@example.com", "password": "wrong"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert "code" not in response.json() or response.json()["code"] != "otp_required"


def test_the_api_without_two_factor_needs_no_otp(client: Client, user: User) -> None:
    assert token(client).status_code == 201
