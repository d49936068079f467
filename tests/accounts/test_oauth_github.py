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
# What GET /user and GET /user/emails answer; a test may swap in anything, bytes are sent as they are.
ANSWERS: dict[str, Any] = {}


class FakeGitHub(BaseHTTPRequestHandler):
    status_override: int | None = None

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, body: Any, status: int = 200) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        form = parse_qs(self.rfile.read(length).decode())
        if self.path in ANSWERS:
            self._json(ANSWERS[self.path])
        elif self.path == "/login/oauth/access_token" and form.get("code") == ["good-code"]:
            self._json({"access_token": "gho_test", "token_type": "bearer", "scope": "read:user,user:email"})
        else:
            self._json({"error": "bad_verification_code"}, 400)

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != "Bearer gho_test":
            self._json({"message": "Requires authentication"}, 401)
        elif self.path in ANSWERS:
            self._json(ANSWERS[self.path], self.status_override or 200)
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
    ANSWERS.clear()
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


# --- Malformed answers: the sign-in error page with a reason, never a 500, nothing written ----------

PRIMARY = {"primary": True, "verified": True}


def assert_refused(response: Any, reason: str) -> None:
    assert response.status_code == 400
    body = response.content.decode()
    assert "Sign-in failed" in body
    assert reason in body
    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()


@pytest.mark.parametrize(
    ("emails", "reason"),
    [
        ({"email": "octo@example.com", **PRIMARY}, "in a form we do not understand"),
        ("octo@example.com", "in a form we do not understand"),
        (["octo@example.com"], "in a form we do not understand"),
        (None, "in a form we do not understand"),
        (b"<html>rate limited</html>", "not valid JSON"),
        ([{"email": "oc\x00to@example.com", **PRIMARY}], "email address we cannot use"),
        ([{"email": "o" * 288 + "@example.com", **PRIMARY}], "email address we cannot use"),
        ([{"email": 42, **PRIMARY}], "in a form we do not understand"),
        ([{"email": ["octo@example.com"], **PRIMARY}], "in a form we do not understand"),
    ],
)
def test_malformed_emails_are_refused(client: Client, github: str, emails: Any, reason: str) -> None:
    ANSWERS["/user/emails"] = emails

    assert_refused(sign_in(client, github), reason)


@pytest.mark.parametrize(
    ("user", "reason"),
    [
        ([{"id": 1}], "in a form we do not understand"),
        (b"not json", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b'{"id": ' + b"9" * 5000 + b"}", "not valid JSON"),
        ({"login": "octo"}, "did not say who you are"),
        ({"id": None, "login": "octo"}, "did not say who you are"),
        ({"id": True, "login": "octo"}, "did not say who you are"),
        ({"id": {"n": 1}, "login": "octo"}, "did not say who you are"),
        ({"id": "x\x00y", "login": "octo"}, "account id we cannot use"),
    ],
)
def test_a_malformed_profile_is_refused(client: Client, github: str, user: Any, reason: str) -> None:
    ANSWERS["/user"] = user
    EMAILS[:] = [{"email": "octo@example.com", **PRIMARY}]

    assert_refused(sign_in(client, github), reason)


def test_a_token_answer_nested_beyond_any_parser_is_refused(client: Client, github: str) -> None:
    ANSWERS["/login/oauth/access_token"] = b"[" * 100_000 + b"]" * 100_000

    assert_refused(sign_in(client, github), "did not answer as expected")


def test_a_github_error_status_is_refused(client: Client, github: str) -> None:
    ANSWERS["/user"] = {"message": "Server Error"}
    EMAILS[:] = [{"email": "octo@example.com", **PRIMARY}]
    FakeGitHub.status_override = 502
    try:
        response = sign_in(client, github)
    finally:
        FakeGitHub.status_override = None

    assert_refused(response, "answered with an error (502)")


def test_a_nul_or_a_non_string_name_does_not_stop_the_sign_in(client: Client, github: str) -> None:
    ANSWERS["/user"] = {"id": 7, "login": ["octo"], "name": "Oc\x00to\r\nCat"}
    EMAILS[:] = [{"email": "octo@example.com", **PRIMARY}]

    response = sign_in(client, github)

    assert response.status_code == 302
    assert User.objects.get().display_name == "Octo Cat"
