import time

import pytest
from django.test import Client

from accounts.models import User
from tests.conftest import PASSWORD


def attempt(
    client: Client, email: str = "ann@example.com", password: str = "wrong", ip: str = "10.0.0.1"
) -> str:
    response = client.post("/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)
    return "ok" if response.status_code == 302 else response.content.decode()


def test_failures_are_slowed_down_then_locked(
    client: Client, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])

    for _ in range(3):
        assert "do not match" in attempt(client)
    # Fourth attempt straight away: refused without checking the password, with how long to wait.
    assert "Wait 1 seconds" in attempt(client, password=PASSWORD)
    now[0] += 1.5
    assert "do not match" in attempt(client)  # allowed again after the pause; failure #4
    now[0] += 2.5
    assert "do not match" in attempt(client)  # failure #5: now locked
    now[0] += 60
    html = attempt(client, password=PASSWORD)
    assert "locked for about 14 minutes" in html
    now[0] += 15 * 60
    assert attempt(client, password=PASSWORD) == "ok"


def test_one_address_guessing_many_accounts_is_locked(
    client: Client, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [2_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    for i in range(5):
        now[0] += 100
        assert "do not match" in attempt(client, email=f"guess{i}@example.com", ip="10.9.9.9")
    # Even the right password for a real account is refused from that address…
    assert "locked" in attempt(client, password=PASSWORD, ip="10.9.9.9")
    # …while the account owner, elsewhere, is not affected.
    assert attempt(client, password=PASSWORD, ip="10.1.1.1") == "ok"


def test_a_successful_login_clears_the_account_counter(
    client: Client, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [3_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    for _ in range(2):
        attempt(client, ip="10.0.0.7")
    assert attempt(client, password=PASSWORD, ip="10.0.0.8") == "ok"
    client.post("/accounts/logout/")
    for _ in range(3):
        assert "do not match" in attempt(client, ip="10.0.0.9")
