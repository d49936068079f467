"""Sign in with GitHub against a local stand-in for GitHub's OAuth and REST endpoints (GitHub is
plain OAuth 2, not OpenID Connect: the person comes from GET /user and /user/emails)."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from accounts.models import SocialAccount, User

pytestmark = pytest.mark.django_db

EMAILS: list[dict[str, Any]] = []


class FakeGitHub(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, body: Any, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        form = parse_qs(self.rfile.read(length).decode())
        if self.path == "/login/oauth/access_token" and form.get("code") == ["good-code"]:
            self._json({"access_token": "gho_test", "token_type": "bearer", "scope": "read:user,user:email"})
        else:
            self._json({"error": "bad_verification_code"}, 400)

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != "Bearer gho_test":
            self._json({"message": "Requires authentication"}, 401)
        elif self.path == "/user":
            self._json({"id": 4242, "login": "octo", "name": "Octo Cat"})
        elif self.path == "/user/emails":
            self._json(EMAILS)
        else:
            self._json({"message": "Not Found"}, 404)


@pytest.fixture(scope="module")
def github() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(autouse=True)
def _github_settings(settings: Any, github: str) -> None:
    settings.SITE_URL = "http://testserver"
    settings.OAUTH_PROVIDERS = {
        "github": {
            "name": "GitHub",
            "client_id": "Iv1.test",
            "client_secret": "shh",
            "web_url": github,
            "api_url": f"{github}/",
        }
    }


def sign_in(client: Client, github: str, code: str = "good-code") -> Any:
    start = client.get("/auth/github/login/")
    authorize = urlsplit(start["Location"])
    assert f"{authorize.scheme}://{authorize.netloc}" == github
    state = parse_qs(authorize.query)["state"][0]
    return client.get(f"/api/oauth/github/callback/?code={code}&state={state}")


def test_primary_verified_email_signs_in(client: Client, github: str) -> None:
    EMAILS[:] = [
        {"email": "old@example.com", "primary": False, "verified": True},
        {"email": "octo@example.com", "primary": True, "verified": True},
    ]

    response = sign_in(client, github)

    assert response.status_code == 302
    user = User.objects.get()
    assert (user.email, user.display_name) == ("octo@example.com", "Octo Cat")
    assert SocialAccount.objects.get().subject == "4242"


def test_unverified_primary_email_is_refused(client: Client, github: str, user: User) -> None:
    EMAILS[:] = [{"email": user.email, "primary": True, "verified": False}]

    response = sign_in(client, github)

    assert response.status_code == 400
    assert not SocialAccount.objects.exists()


def test_a_code_github_refuses_is_a_400(client: Client, github: str) -> None:
    EMAILS[:] = [{"email": "octo@example.com", "primary": True, "verified": True}]

    response = sign_in(client, github, code="stolen")

    assert response.status_code == 400
    assert not User.objects.exists()
