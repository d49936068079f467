"""Sign-in with an OpenID Connect provider that behaves as OpenID Connect Core 5.4 allows: the ID token
names the person (`sub`) and the email claims come only from the UserInfo endpoint, as node's certified
`oidc-provider` does by default. oidc-provider-mock cannot be told to leave claims out of its ID token,
so this is a small provider of our own: a real HTTP server with discovery, JWKS, authorize, token
(client secret and PKCE checked) and UserInfo endpoints, signing real RS256 ID tokens with joserfc
(what authlib itself verifies with). The real authlib client talks to it.

It can also be told to misbehave (malformed UserInfo, claims of the wrong type, a bad signature), and
every such answer must end on the sign-in error page, never a 500 and never a half-made account."""

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from accounts.models import SocialAccount, User

pytestmark = pytest.mark.django_db

CLIENT_ID = "twofold-test"
CLIENT_SECRET = "s3cret"


@dataclass
class Behaviour:
    """What the provider says about the person who signs in next."""

    sub: str = "person-1"
    id_token_claims: dict[str, Any] = field(default_factory=dict)  # beyond iss/sub/aud/exp/iat/nonce
    userinfo: Any = None  # a JSON value, or bytes sent as they are
    userinfo_status: int = 200
    sign_with_another_key: bool = False


@dataclass
class Grant:
    nonce: str | None
    challenge: str
    redirect_uri: str
    access_token: str = ""


class Provider:
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "signing"})
        self.behaviour = Behaviour()
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, Grant] = {}
        self.userinfo_calls = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self._send(provider.discovery())
                elif url.path == "/jwks":
                    self._send(KeySet([provider.key]).as_dict(private=False))
                elif url.path == "/authorize":
                    self._send(b"", 302, {"Location": provider.authorize(parse_qs(url.query))})
                elif url.path == "/userinfo":
                    provider.userinfo_calls += 1
                    self._send(*provider.answer_userinfo(self.headers.get("Authorization", "")))
                else:
                    self._send({"error": "not_found"}, 404)

            def do_POST(self) -> None:
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                if self.path == "/token":
                    self._send(*provider.exchange(form, self.headers.get("Authorization", "")))
                else:
                    self._send({"error": "not_found"}, 404)

        return Handler

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
            "claims_supported": ["sub", "email", "email_verified", "name"],
        }

    def authorize(self, query: dict[str, list[str]]) -> str:
        assert query["client_id"] == [CLIENT_ID]
        assert query["response_type"] == ["code"]
        assert "openid" in query["scope"][0].split()
        assert query["code_challenge_method"] == ["S256"]
        code = secrets.token_urlsafe(16)
        self.codes[code] = Grant(
            nonce=query.get("nonce", [None])[0],
            challenge=query["code_challenge"][0],
            redirect_uri=query["redirect_uri"][0],
        )
        return f"{query['redirect_uri'][0]}?{urlencode({'code': code, 'state': query['state'][0]})}"

    def exchange(self, form: dict[str, list[str]], authorization: str) -> tuple[Any, int]:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if authorization != expected:
            return {"error": "invalid_client"}, 401
        grant = self.codes.pop(form.get("code", [""])[0], None)
        if grant is None or form.get("redirect_uri") != [grant.redirect_uri]:
            return {"error": "invalid_grant"}, 400
        verifier = form.get("code_verifier", [""])[0].encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
        if digest != grant.challenge:
            return {"error": "invalid_grant", "error_description": "PKCE verifier"}, 400
        grant.access_token = secrets.token_urlsafe(16)
        self.tokens[grant.access_token] = grant
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": self.behaviour.sub,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            **({"nonce": grant.nonce} if grant.nonce else {}),
            **self.behaviour.id_token_claims,
        }
        key = (
            RSAKey.generate_key(2048, parameters={"kid": "signing"})
            if self.behaviour.sign_with_another_key
            else self.key
        )
        id_token = jwt.encode({"alg": "RS256", "kid": "signing"}, claims, key)
        body = {
            "access_token": grant.access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }
        return body, 200

    def answer_userinfo(self, authorization: str) -> tuple[Any, int]:
        if not authorization.startswith("Bearer ") or authorization[7:] not in self.tokens:
            return {"error": "invalid_token"}, 401
        return self.behaviour.userinfo, self.behaviour.userinfo_status


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    provider = Provider()
    thread = threading.Thread(target=provider.server.serve_forever, daemon=True)
    thread.start()
    yield provider
    provider.server.shutdown()


@pytest.fixture(autouse=True)
def _oidc_settings(settings: Any, provider: Provider) -> None:
    provider.behaviour = Behaviour()
    provider.userinfo_calls = 0
    settings.SITE_URL = "http://testserver"
    settings.OAUTH_PROVIDERS = {
        "oidc": {
            "name": "Acme SSO",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "discovery_url": f"{provider.url}/.well-known/openid-configuration",
        }
    }


def sign_in(client: Client, provider: Provider, **behaviour: Any) -> Any:
    provider.behaviour = Behaviour(**behaviour)
    start = client.get("/auth/oidc/login/")
    assert start.status_code == 302
    assert start["Location"].startswith(provider.url + "/authorize?")
    approved = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(approved.headers["Location"])
    assert callback.path == "/api/oauth/oidc/callback/"
    return client.get(f"{callback.path}?{callback.query}")


def assert_refused(response: Any, reason: str) -> None:
    assert response.status_code == 400
    body = response.content.decode()
    assert "Sign-in failed" in body
    assert reason in body
    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()


# --- OpenID Connect Core 5.4: the email from UserInfo ---------------------------------------------


def test_the_email_only_in_userinfo_signs_the_person_in(client: Client, provider: Provider) -> None:
    response = sign_in(
        client,
        provider,
        sub="ada",
        userinfo={"sub": "ada", "email": "ada@example.com", "email_verified": True, "name": "Ada L"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert provider.userinfo_calls == 1
    user = User.objects.get()
    assert (user.email, user.display_name) == ("ada@example.com", "Ada L")
    assert SocialAccount.objects.get(user=user).subject == "ada"


def test_an_id_token_with_the_email_claims_needs_no_userinfo_call(client: Client, provider: Provider) -> None:
    response = sign_in(
        client, provider, sub="bo", id_token_claims={"email": "bo@example.com", "email_verified": True}
    )

    assert response.status_code == 302
    assert provider.userinfo_calls == 0
    assert User.objects.get().email == "bo@example.com"


def test_an_unverified_email_in_userinfo_is_not_used(client: Client, provider: Provider, user: User) -> None:
    response = sign_in(
        client, provider, sub="m", userinfo={"sub": "m", "email": user.email, "email_verified": False}
    )

    assert response.status_code == 400
    assert "no verified email" in response.content.decode()
    assert not SocialAccount.objects.exists()


def test_userinfo_about_another_subject_is_refused(client: Client, provider: Provider) -> None:
    response = sign_in(
        client,
        provider,
        sub="real",
        userinfo={"sub": "someone-else", "email": "x@example.com", "email_verified": True},
    )

    assert_refused(response, "described a different person")


# --- Malformed answers: the sign-in error page with a reason, nothing written ----------------------


@pytest.mark.parametrize(
    ("userinfo", "status", "reason"),
    [
        (b"<html>Service unavailable</html>", 200, "not valid JSON"),
        (b"", 200, "not valid JSON"),
        ("just a string", 200, "not valid JSON"),
        ({"error": "server_error"}, 500, "answered with an error (500)"),
    ],
)
def test_userinfo_that_is_not_a_json_object_or_an_error(
    client: Client, provider: Provider, userinfo: Any, status: int, reason: str
) -> None:
    response = sign_in(client, provider, sub="p", userinfo=userinfo, userinfo_status=status)

    assert_refused(response, reason)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"email": "nul\x00@example.com", "email_verified": True}, "email address we cannot use"),
        ({"email": "a" * 290 + "@example.com", "email_verified": True}, "email address we cannot use"),
        ({"email": "not an address", "email_verified": True}, "email address we cannot use"),
        ({"email": ["a@example.com"], "email_verified": True}, "in a form we do not understand"),
        ({"email": {"value": "a@example.com"}, "email_verified": True}, "in a form we do not understand"),
    ],
)
def test_unusable_email_claims_are_refused(
    client: Client, provider: Provider, claims: dict[str, Any], reason: str
) -> None:
    response = sign_in(client, provider, sub="p", userinfo={"sub": "p", **claims})

    assert_refused(response, reason)


def test_a_subject_with_a_nul_or_too_long_is_refused(client: Client, provider: Provider) -> None:
    for sub in ["nul\x00sub", "s" * 256]:
        response = sign_in(
            client, provider, sub=sub, userinfo={"sub": sub, "email": "s@example.com", "email_verified": True}
        )
        assert_refused(response, "account id we cannot use")


def test_odd_names_are_cleaned_not_refused(client: Client, provider: Provider) -> None:
    response = sign_in(
        client,
        provider,
        sub="n",
        userinfo={
            "sub": "n",
            "email": "n@example.com",
            "email_verified": True,
            "name": "Ne\x00d\n " + "x" * 300,
        },
    )

    assert response.status_code == 302
    name = User.objects.get().display_name
    assert "\x00" not in name
    assert "\n" not in name
    assert name.startswith("Ned x")  # the newline became a space, the NUL is gone
    assert len(name) <= 60


def test_a_non_string_name_is_ignored(client: Client, provider: Provider) -> None:
    response = sign_in(
        client,
        provider,
        sub="n2",
        userinfo={"sub": "n2", "email": "n2@example.com", "email_verified": True, "name": {"first": "N"}},
    )

    assert response.status_code == 302
    assert User.objects.get().display_name == ""


def test_email_verified_must_be_the_boolean_true(client: Client, provider: Provider) -> None:
    response = sign_in(
        client, provider, sub="v", userinfo={"sub": "v", "email": "v@example.com", "email_verified": "yes"}
    )

    assert_refused(response, "no verified email")


def test_an_id_token_signed_with_another_key_is_refused(client: Client, provider: Provider) -> None:
    response = sign_in(
        client,
        provider,
        sub="forged",
        id_token_claims={"email": "f@example.com", "email_verified": True},
        sign_with_another_key=True,
    )

    assert_refused(response, "could not be verified")
