"""Two-factor with an authenticator app: codes computed here from the secret, as the app would."""

import base64
import time

import pyotp
import pytest
from django.test import Client

from accounts.models import RecoveryCode, TotpDevice, User
from accounts.totp import (
    recovery_codes_generate,
    second_factor_verify,
    time_step,
    totp_enable,
    totp_match_step,
    totp_secret_new,
)
from accounts.views_security import SETUP_SECRET_KEY

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def code_at(secret: str, when: float) -> str:
    return pyotp.TOTP(secret).at(when)


def test_the_codes_are_rfc_6238_sha1_30_seconds_6_digits() -> None:
    # RFC 6238 appendix B's SHA-1 vector, for its 20-byte ASCII key, truncated to 6 digits.
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp_match_step(secret, "287082", at=59) == 1
    assert totp_match_step(secret, "081804", at=1111111109) == 1111111109 // 30


def test_the_current_the_previous_and_the_next_window_are_accepted() -> None:
    now = time.time()
    assert totp_match_step(SECRET, code_at(SECRET, now)) == time_step(now)
    assert totp_match_step(SECRET, code_at(SECRET, now - 30)) == time_step(now) - 1
    assert totp_match_step(SECRET, code_at(SECRET, now + 30)) == time_step(now) + 1


def test_an_expired_window_is_refused() -> None:
    now = time.time()
    assert totp_match_step(SECRET, code_at(SECRET, now - 60)) is None
    assert totp_match_step(SECRET, code_at(SECRET, now + 60)) is None
    assert totp_match_step(SECRET, "12345") is None
    assert totp_match_step(SECRET, "abcdef") is None


@pytest.mark.django_db
def test_a_used_code_is_refused_and_so_is_an_older_one(user: User) -> None:
    secret = totp_secret_new()
    now = time.time()
    totp_enable(user=user, secret=secret, code=code_at(secret, now - 30))
    # The setup's code is used: it cannot log in.
    assert second_factor_verify(user=user, code=code_at(secret, now - 30)) is None
    assert second_factor_verify(user=user, code=code_at(secret, now)) == "totp"
    assert second_factor_verify(user=user, code=code_at(secret, now)) is None
    assert TotpDevice.objects.get(user=user).last_used_step == time_step(now)


@pytest.mark.django_db
def test_recovery_codes_work_once_each_and_are_stored_hashed(user: User) -> None:
    TotpDevice.objects.create(user=user, secret=SECRET)
    codes = recovery_codes_generate(user=user)
    assert len(codes) == len(set(codes)) == 10
    stored = set(RecoveryCode.objects.filter(user=user).values_list("digest", flat=True))
    assert not stored & set(codes)
    assert second_factor_verify(user=user, code=codes[0].lower()) == "recovery"
    assert second_factor_verify(user=user, code=codes[0]) is None
    assert second_factor_verify(user=user, code=codes[1].replace("-", " ")) == "recovery"
    # Making new ones voids the old.
    recovery_codes_generate(user=user)
    assert second_factor_verify(user=user, code=codes[2]) is None


@pytest.mark.django_db
def test_another_accounts_recovery_code_is_refused(user: User, other_user: User) -> None:
    TotpDevice.objects.create(user=user, secret=SECRET)
    TotpDevice.objects.create(user=other_user, secret=SECRET)
    codes = recovery_codes_generate(user=other_user)
    assert second_factor_verify(user=user, code=codes[0]) is None


# --- The setup page ------------------------------------------------------------------------------


def test_setup_shows_a_qr_code_and_the_secret_then_turns_on_with_a_first_code(user_client: Client) -> None:
    page = user_client.get("/accounts/security/totp/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body
    secret = user_client.session[SETUP_SECRET_KEY]
    assert secret[:4] in body

    bad = "000000" if "000000" not in {code_at(secret, time.time() + d) for d in (-30, 0, 30)} else "111111"
    wrong = user_client.post("/accounts/security/totp/", {"code": bad})
    assert wrong.status_code == 200
    assert "That code does not match" in wrong.content.decode()
    assert not TotpDevice.objects.exists()

    done = user_client.post("/accounts/security/totp/", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    assert done["Location"] == "/accounts/security/recovery-codes/"
    assert TotpDevice.objects.get().secret == secret

    codes_page = user_client.get(done["Location"]).content.decode()
    assert codes_page.count("<li><code>") == 10
    download = user_client.get("/accounts/security/recovery-codes/download/")
    assert download["Content-Disposition"].startswith("attachment;")
    lines = download.content.decode().split("\n")
    assert sum(1 for line in lines if len(line) == 11 and line[5] == "-") == 10

    # Once saved, they are never shown again.
    user_client.post("/accounts/security/recovery-codes/")
    assert user_client.get("/accounts/security/recovery-codes/").status_code == 302
    assert user_client.get("/accounts/security/recovery-codes/download/").status_code == 302


def test_setup_with_an_empty_code_says_so_in_the_form(user_client: Client) -> None:
    user_client.get("/accounts/security/totp/")
    response = user_client.post("/accounts/security/totp/", {"code": ""})
    assert response.status_code == 200
    assert "field-invalid" in response.content.decode()
    assert "This field is required" in response.content.decode()


def test_turning_two_factor_off_needs_sudo(user_client: Client, user: User) -> None:
    TotpDevice.objects.create(user=user, secret=SECRET)
    recovery_codes_generate(user=user)
    session = user_client.session
    session["sudo_until"] = 0
    session.save()
    refused = user_client.post("/accounts/security/totp/off/")
    assert refused.status_code == 302
    assert refused["Location"].startswith("/accounts/reauth/")
    assert TotpDevice.objects.filter(user=user).exists()

    session = user_client.session
    session["sudo_until"] = int(time.time()) + 60
    session.save()
    assert user_client.post("/accounts/security/totp/off/").status_code == 302
    assert not TotpDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(user=user).exists()


def test_regenerating_recovery_codes_shows_the_new_ones(user_client: Client, user: User) -> None:
    TotpDevice.objects.create(user=user, secret=SECRET)
    old = recovery_codes_generate(user=user)
    response = user_client.post("/accounts/security/recovery-codes/new/", follow=True)
    assert response.status_code == 200
    assert old[0] not in response.content.decode()
    assert response.content.decode().count("<li><code>") == 10
    assert second_factor_verify(user=user, code=old[0]) is None


def test_the_security_page_lists_two_factor_and_passkeys(user_client: Client, user: User) -> None:
    body = user_client.get("/accounts/security/").content.decode()
    assert "Set up an authenticator app" in body
    assert "No passkeys yet" in body
    TotpDevice.objects.create(user=user, secret=SECRET)
    recovery_codes_generate(user=user)
    body = user_client.get("/accounts/security/").content.decode()
    assert "10 of 10 left" in body
    assert "Turn off" in body
