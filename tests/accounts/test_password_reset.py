# ruff: noqa: RUF001  (the look-alike letters are what these tests are about)
"""Password reset: it lifts the login lock, its emails are rate-limited, the console shows a usable link."""

import re
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.conftest import PASSWORD

RESET = "/accounts/password-reset/"
LIMIT = settings.AXES_FAILURE_LIMIT
LINK = re.compile(r"https?://\S+/accounts/reset/[^/\s]+/[^/\s]+/")


def lock(client: Client, email: str = "ann@example.com", ip: str = "10.0.0.1") -> None:
    for _ in range(LIMIT):
        client.post("/accounts/login/", {"username": email, "password": "wrong"}, REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD}, REMOTE_ADDR=ip)
    assert "or reset your password" in response.content.decode()


def reset_password(client: Client, new: str, ip: str = "10.0.0.1") -> None:
    mail.outbox.clear()
    assert client.post(RESET, {"email": "ann@example.com"}, REMOTE_ADDR=ip).status_code == 302
    (link,) = LINK.findall(mail.outbox[0].body)
    form_page = client.get(link.split("testserver", 1)[1], follow=True)
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302


def test_a_password_reset_lifts_the_lock_as_the_message_promises(client: Client, user: User) -> None:
    lock(client)

    reset_password(client, "brand-new-secret-42")

    response = client.post(
        "/accounts/login/",
        {"username": "ann@example.com", "password": "brand-new-secret-42"},
        REMOTE_ADDR="10.0.0.1",
    )
    assert response.status_code == 302


def test_the_reset_lifts_only_that_account_s_failures_from_the_address(client: Client, user: User) -> None:
    # The address also guessed other accounts: those failures stay counted against it.
    for i in range(LIMIT - 2):
        client.post(
            "/accounts/login/", {"username": f"x{i}@example.com", "password": "x"}, REMOTE_ADDR="10.0.0.5"
        )
    client.post("/accounts/login/", {"username": "ann@example.com", "password": "x"}, REMOTE_ADDR="10.0.0.5")

    reset_password(client, "brand-new-secret-42", ip="10.0.0.5")

    response = client.post(
        "/accounts/login/", {"username": "y@example.com", "password": "x"}, REMOTE_ADDR="10.0.0.5"
    )
    assert response.status_code == 200  # the address's failures: 4, minus ann's 1, plus this one
    response = client.post(
        "/accounts/login/", {"username": "z@example.com", "password": "x"}, REMOTE_ADDR="10.0.0.5"
    )
    assert response.status_code == 429


def test_reset_emails_are_limited_per_address_and_the_page_still_says_sent(
    client: Client, user: User
) -> None:
    per_email = settings.PASSWORD_RESET_THROTTLE["per_email"]
    for i in range(per_email + 2):
        # Another spelling of the same address is the same counter.
        email = "ANN@example.com" if i % 2 else "ann@example.com"
        response = client.post(RESET, {"email": email}, REMOTE_ADDR=f"10.1.0.{i}")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == per_email


def test_reset_emails_are_limited_per_client_address(client: Client, db: None, settings: Any) -> None:
    settings.PASSWORD_RESET_THROTTLE = {**settings.PASSWORD_RESET_THROTTLE, "per_ip": 2}
    for name in ["a", "b", "c"]:
        User.objects.create_user(email=f"{name}@example.com", password=PASSWORD)
        assert client.post(RESET, {"email": f"{name}@example.com"}, REMOTE_ADDR="10.2.0.1").status_code == 302
    assert [m.to for m in mail.outbox] == [["a@example.com"], ["b@example.com"]]

    client.post(RESET, {"email": "c@example.com"}, REMOTE_ADDR="10.2.0.2")
    assert mail.outbox[-1].to == ["c@example.com"]


def test_reset_finds_the_account_by_its_canonical_address_only(client: Client, db: None) -> None:
    User.objects.create_user(email="sam@example.com", password=PASSWORD)
    User.objects.create_user(email="alice@example.com", password=PASSWORD)

    client.post(RESET, {"email": "ſam@example.com"}, REMOTE_ADDR="10.3.0.1")
    client.post(RESET, {"email": "alıce@example.com"}, REMOTE_ADDR="10.3.0.1")

    # The stored address gets the mail; the look-alike of alice's gets nothing.
    assert [m.to for m in mail.outbox] == [["sam@example.com"]]


def test_the_console_email_shows_the_whole_reset_link_on_one_line(
    client: Client, user: User, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.console.EmailBackend", "OPTIONS": {}}
    }
    settings.ALLOWED_HOSTS = ["accounts.twofold-starter.example.com"]
    host = "accounts.twofold-starter.example.com"  # a real domain makes the link longer than 76 characters

    client.post(RESET, {"email": "ann@example.com"}, HTTP_HOST=host)

    printed = capsys.readouterr().out
    assert "quoted-printable" not in printed
    (link,) = LINK.findall(printed)
    assert len(link) > 78
    form_page = client.get(link.split(host, 1)[1], HTTP_HOST=host, follow=True)
    assert "Choose a new password" in form_page.content.decode()
