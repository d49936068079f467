"""The passkey ceremony endpoints' refusals (the ceremonies themselves run in Chromium: tests/browser)."""

import os
import subprocess
import sys
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User
from accounts.passkeys import relying_party
from accounts.sudo import SESSION_KEY as SUDO_KEY

pytestmark = pytest.mark.django_db

OPTIONS = "/accounts/passkeys/auth/options/"
VERIFY = "/accounts/passkeys/auth/verify/"
REGISTER_OPTIONS = "/accounts/passkeys/register/options/"


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def test_the_relying_party_is_site_url_with_localhost_for_a_loopback_address(settings: Any) -> None:
    settings.SITE_URL = "https://app.example.com"
    assert relying_party().id == "app.example.com"
    assert relying_party().origin == "https://app.example.com"
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert relying_party().id == "localhost"
    assert relying_party().origin == "http://localhost:8000"


@pytest.mark.parametrize(
    ("env", "site_url"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "9000"}, "http://127.0.0.1:9000"),
        ({"PORT": "9000", "SITE_URL": "https://app.example.com"}, "https://app.example.com"),
    ],
)
def test_site_url_follows_the_port_when_unset(env: dict[str, str], site_url: str) -> None:
    # `PORT=9000 make run` (the README's other port): the emailed links and the passkeys' origin
    # (localhost on that port) must follow, or passkeys are offered nowhere the site is served.
    script = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    base = {k: v for k, v in os.environ.items() if k not in ("PORT", "SITE_URL")}
    run = subprocess.run(
        [sys.executable, "-c", script],
        env={**base, "DJANGO_SETTINGS_MODULE": "saas.settings", "DJANGO_DEBUG": "true", **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    assert run.stdout.strip() == site_url


def test_login_options_list_no_credentials_and_require_user_verification(client: Client) -> None:
    response = post(client, OPTIONS, {"purpose": "login"})
    assert response.status_code == 200
    options = response.json()
    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"
    assert options["challenge"]


def test_a_verify_without_a_challenge_is_refused(client: Client) -> None:
    response = post(client, VERIFY, {"purpose": "login", "credential": {"id": "x"}})
    assert response.status_code == 400
    assert response.json()["code"] == "passkey_refused"


def test_a_challenge_is_good_for_one_answer(client: Client) -> None:
    post(client, OPTIONS, {"purpose": "login"})
    first = post(client, VERIFY, {"purpose": "login", "credential": {"id": "unknown"}})
    assert "not registered" in first.json()["detail"]
    second = post(client, VERIFY, {"purpose": "login", "credential": {"id": "unknown"}})
    assert "expired or was already used" in second.json()["detail"]


def test_bad_input_is_a_400_with_field_errors(client: Client) -> None:
    assert post(client, OPTIONS, {"purpose": "steal"}).status_code == 400
    assert post(client, VERIFY, {"purpose": "login", "credential": "nope"}).status_code == 400


def test_the_second_step_needs_a_pending_login(client: Client) -> None:
    response = post(client, OPTIONS, {"purpose": "second_step"})
    assert response.status_code == 400
    assert "expired" in response.json()["detail"]


def test_registration_needs_a_login_and_sudo(client: Client, user: User) -> None:
    assert post(client, REGISTER_OPTIONS, {}).status_code == 403
    client.force_login(user)
    session = client.session
    session[SUDO_KEY] = 0
    session.save()
    refused = post(client, REGISTER_OPTIONS, {})
    assert refused.status_code == 403
    assert refused.json()["code"] == "sudo_required"
    assert refused.json()["redirect"].startswith("/accounts/reauth/?next=")


def test_registration_options_ask_for_a_resident_key(user_client: Client) -> None:
    options = post(user_client, REGISTER_OPTIONS, {}).json()
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"


def test_the_ceremonies_check_csrf_even_for_anonymous_callers(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    assert post(client, OPTIONS, {"purpose": "login"}).status_code == 403
