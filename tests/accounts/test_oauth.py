"""Sign-in through a real OpenID Connect provider (oidc-provider-mock) on a local port: the real authlib
client fetches its discovery document and JWKS, exchanges the code and verifies the ID token."""

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from oidc_provider_mock import run_server_in_thread

from accounts.models import SocialAccount, User
from core.models import Flag

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(autouse=True)
def _oidc_settings(settings: Any, provider: str) -> None:
    settings.SITE_URL = "http://testserver"
    settings.OAUTH_PROVIDERS = {
        "oidc": {
            "name": "Acme SSO",
            "client_id": "twofold-test",
            "client_secret": "s3cret",
            "discovery_url": f"{provider}/.well-known/openid-configuration",
        }
    }


def sign_in(client: Client, provider: str, sub: str, claims: dict[str, Any]) -> tuple[str, Any]:
    """Start at our login URL, approve as `sub` at the provider, return the callback URL it sends back."""
    requests.put(f"{provider}/users/{sub}", json=claims, timeout=5).raise_for_status()
    start = client.get("/auth/oidc/login/")
    assert start.status_code == 302
    authorize_url = start["Location"]
    assert authorize_url.startswith(provider)
    approved = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert approved.status_code == 302
    callback = urlsplit(approved.headers["Location"])
    assert callback.path == "/api/oauth/oidc/callback/"
    path = f"{callback.path}?{callback.query}"
    return path, client.get(path)


def test_login_page_offers_the_configured_provider(client: Client) -> None:
    assert "Continue with Acme SSO" in client.get("/accounts/login/").content.decode()


def test_new_person_gets_an_account_and_is_logged_in(client: Client, provider: str) -> None:
    _, response = sign_in(
        client, provider, "alice", {"email": "Alice@Example.com", "email_verified": True, "name": "Al"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    user = User.objects.get(email="alice@example.com")
    assert user.display_name == "Al"
    assert not user.has_usable_password()
    assert SocialAccount.objects.get().subject == "alice"
    assert client.get("/dashboard/").status_code == 200


def test_verified_email_links_to_the_existing_account(client: Client, provider: str, user: User) -> None:
    _, response = sign_in(client, provider, "ann-sub", {"email": user.email, "email_verified": True})

    assert response.status_code == 302
    assert SocialAccount.objects.get().user == user
    assert User.objects.count() == 1


def test_unverified_email_is_never_linked(client: Client, provider: str, user: User) -> None:
    _, response = sign_in(client, provider, "mallory", {"email": user.email, "email_verified": False})

    assert response.status_code == 400
    assert "no verified email" in response.content.decode()
    assert not SocialAccount.objects.exists()


def test_replayed_callback_is_refused_with_400(client: Client, provider: str) -> None:
    path, first = sign_in(client, provider, "bob", {"email": "bob@example.com", "email_verified": True})
    assert first.status_code == 302
    client.logout()

    replay = client.get(path)

    assert replay.status_code == 400
    assert "expired or was already used" in replay.content.decode()


def test_forged_state_is_refused(client: Client, provider: str) -> None:
    response = client.get("/api/oauth/oidc/callback/?code=abc&state=forged")

    assert response.status_code == 400
    assert not User.objects.exists()


def test_closed_signups_refuse_new_people(client: Client, provider: str) -> None:
    Flag.objects.create(name="signups", label="Sign-ups", enabled=False)

    _, response = sign_in(client, provider, "carol", {"email": "carol@example.com", "email_verified": True})

    assert response.status_code == 400
    assert "Sign-ups are closed" in response.content.decode()
    assert not User.objects.exists()


def test_unknown_provider_is_404(client: Client) -> None:
    assert client.get("/auth/facebook/login/").status_code == 404
    assert client.get("/api/oauth/facebook/callback/").status_code == 404
