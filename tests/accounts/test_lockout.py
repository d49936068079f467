# ruff: noqa: RUF001  (the look-alike letters are what these tests are about)
"""One lockout for every way of presenting a password: the login form, the Django admin's login, the
token API and the password-change form share django-axes' counters, per account and per address."""

import threading
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.db.models import F, Sum
from django.test import Client

from accounts.models import User
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
ADMIN_LOGIN = f"/{settings.ADMIN_URL}login/"
TOKEN = "/api/v1/auth/token/"
LIMIT = settings.AXES_FAILURE_LIMIT


def login(client: Client, email: str = "ann@example.com", password: str = "wrong", ip: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def fail_until_locked(client: Client, email: str = "ann@example.com", ip: str = "10.0.0.1") -> None:
    for _ in range(LIMIT - 1):
        assert "do not match" in login(client, email, ip=ip).content.decode()
    locked = login(client, email, ip=ip)
    assert locked.status_code == 429
    assert "locked for about 15 minutes, or reset your password" in locked.content.decode()


def age_attempts(minutes: int) -> None:
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


def test_the_login_form_locks_the_account_and_says_for_how_long(client: Client, user: User) -> None:
    fail_until_locked(client)

    # Even the right password is refused now, from anywhere, with a 429 and how long to wait.
    response = login(client, password=PASSWORD, ip="10.7.7.7")
    assert response.status_code == 429
    assert 14 * 60 < int(response["Retry-After"]) <= 15 * 60
    assert "locked for about 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session

    age_attempts(minutes=10)
    assert "locked for about 5 minutes" in login(client, password=PASSWORD).content.decode()
    age_attempts(minutes=6)
    assert login(client, password=PASSWORD).status_code == 302


def test_refused_attempts_while_locked_do_not_extend_the_lock(client: Client, user: User) -> None:
    fail_until_locked(client)
    age_attempts(minutes=14)
    login(client)  # a guess during the lock: refused, not counted
    age_attempts(minutes=2)
    assert login(client, password=PASSWORD).status_code == 302


def test_one_address_guessing_many_accounts_is_locked(client: Client, user: User) -> None:
    for i in range(LIMIT):
        response = login(client, f"guess{i}@example.com", ip="10.9.9.9")
    assert response.status_code == 429
    # Even the right password for a real account is refused from that address…
    refused = login(client, password=PASSWORD, ip="10.9.9.9")
    assert refused.status_code == 429
    assert "from your network" in refused.content.decode()
    # …while the account owner, elsewhere, is not affected.
    assert login(client, password=PASSWORD, ip="10.1.1.1").status_code == 302


def test_the_address_is_the_one_the_server_resolved_not_a_forwarded_header(
    client: Client, user: User
) -> None:
    for i in range(LIMIT):
        client.post(
            LOGIN,
            {"username": f"guess{i}@example.com", "password": "x"},
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",  # rotating it changes nothing
        )
    response = client.post(
        LOGIN,
        {"username": "ann@example.com", "password": PASSWORD},
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert response.status_code == 429


def test_a_successful_login_clears_the_account_counter_not_the_address(client: Client, user: User) -> None:
    for _ in range(LIMIT - 1):
        login(client, ip="10.0.0.7")
    assert login(client, password=PASSWORD, ip="10.0.0.8").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(LIMIT - 1):
        assert "do not match" in login(client, ip="10.0.0.9").content.decode()

    # An address guessing other accounts, then logging into its own, is still counted.
    for i in range(LIMIT - 1):
        login(client, f"victim{i}@example.com", ip="10.5.5.5")
    client.post("/accounts/logout/")
    AccessAttempt.objects.filter(username="ann@example.com").delete()
    assert login(client, password=PASSWORD, ip="10.5.5.5").status_code == 302
    client.post("/accounts/logout/")
    assert login(client, "victim9@example.com", ip="10.5.5.5").status_code == 429


def test_the_admin_login_refuses_an_account_the_login_form_locked(client: Client, staff_user: User) -> None:
    staff_user.is_superuser = True
    staff_user.save()
    fail_until_locked(client, "staff@example.com")

    response = client.post(
        ADMIN_LOGIN,
        {"username": "staff@example.com", "password": PASSWORD, "next": f"/{settings.ADMIN_URL}"},
        REMOTE_ADDR="10.2.2.2",
    )

    assert response.status_code == 429
    assert "locked for about 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_login_failures_lock_the_login_form_too(client: Client, staff_user: User) -> None:
    for _ in range(LIMIT):
        response = client.post(ADMIN_LOGIN, {"username": "staff@example.com", "password": "x"})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert login(client, "staff@example.com", PASSWORD, ip="10.3.3.3").status_code == 429


def test_the_token_api_refuses_an_account_the_login_form_locked(client: Client, user: User) -> None:
    fail_until_locked(client)

    response = client.post(
        TOKEN, {"email": user.email, "password": PASSWORD}, "application/json", REMOTE_ADDR="10.4.4.4"
    )

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 14 * 60
    assert "locked for about 15 minutes" in response.json()["detail"]


def test_token_api_failures_lock_the_login_form(client: Client, user: User) -> None:
    for attempt in range(1, LIMIT + 1):
        response = client.post(TOKEN, {"email": user.email, "password": "no"}, "application/json")
        assert response.status_code == (429 if attempt == LIMIT else 401)
    assert login(client, password=PASSWORD, ip="10.3.3.3").status_code == 429


def test_wrong_old_passwords_count_and_a_locked_account_cannot_change_its_password(
    user_client: Client, user: User
) -> None:
    def change(old: str):  # type: ignore[no-untyped-def]
        return user_client.post(
            "/accounts/password-change/",
            {"old_password": old, "new_password1": "a-new-long-phrase", "new_password2": "a-new-long-phrase"},
        )

    for _ in range(LIMIT - 1):
        assert "entered incorrectly" in change("guess").content.decode()
    assert "locked for about 15 minutes" in change("guess").content.decode()

    response = change(PASSWORD)
    assert response.status_code == 429
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert login(Client(), password=PASSWORD, ip="10.3.3.3").status_code == 429


@pytest.mark.parametrize(
    ("typed", "same_account", "api_status"),
    [
        ("ſam@example.com", True, 201),  # long s: NFKC makes it an s, the same address
        ("SAM@EXAMPLE.COM", True, 201),
        ("ｓａｍ@example.com", True, 400),  # full-width: the form folds it; the API's email field refuses it
        ("alıce@example.com", False, 401),  # dotless i: another address, never alice's
        ("ALİCE@example.com", False, 401),  # dotted capital I: casefolds to i + combining dot
    ],
)
def test_look_alike_emails_are_the_same_account_or_none(
    client: Client, db: None, typed: str, same_account: bool, api_status: int
) -> None:
    User.objects.create_user(email="sam@example.com", password=PASSWORD)
    User.objects.create_user(email="alice@example.com", password=PASSWORD)

    response = login(client, typed, PASSWORD)
    assert (response.status_code == 302) is same_account
    api = client.post(TOKEN, {"email": typed, "password": PASSWORD}, "application/json")
    assert api.status_code == api_status


def test_a_look_alike_spelling_does_not_escape_the_lock(client: Client, db: None) -> None:
    User.objects.create_user(email="sam@example.com", password=PASSWORD)
    User.objects.create_user(email="alice@example.com", password=PASSWORD)
    for spelling in ["sam@example.com", "ſam@example.com", "SAM@example.com", "ſam@example.com"]:
        login(client, spelling)
    assert login(client, "ſam@example.com").status_code == 429  # one counter for every spelling
    assert login(client, "ſam@example.com", PASSWORD, ip="10.8.8.8").status_code == 429

    fail_until_locked(client, "alice@example.com", ip="10.6.6.6")
    for spelling in ["alıce@example.com", "ALİCE@example.com"]:
        assert login(client, spelling, PASSWORD, ip="10.6.6.7").status_code != 302
        api = client.post(TOKEN, {"email": spelling, "password": PASSWORD}, "application/json")
        assert api.status_code in (401, 429)
    assert "_auth_user_id" not in client.session


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_guesses_are_all_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    User.objects.create_user(email="ann@example.com", password=PASSWORD)
    threads_count = 12
    barrier = threading.Barrier(threads_count)
    checked: list[str] = []  # passwords actually compared with the stored hash
    verify = MD5PasswordHasher.verify
    monkeypatch.setattr(
        MD5PasswordHasher, "verify", lambda self, pw, encoded: checked.append(pw) or verify(self, pw, encoded)
    )

    def guess(i: int) -> None:
        try:
            barrier.wait()
            Client().post(
                LOGIN, {"username": "ann@example.com", "password": f"guess-{i}"}, REMOTE_ADDR=f"10.0.1.{i}"
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    counted = AccessAttempt.objects.filter(username="ann@example.com").aggregate(
        n=Sum("failures_since_start")
    )
    # No lost update: every guess whose password was checked is counted (the others were refused
    # as locked before any check, and a refusal is not a failure).
    assert counted["n"] == len(checked) >= LIMIT
    assert login(Client(), password=PASSWORD, ip="10.0.2.1").status_code == 429
