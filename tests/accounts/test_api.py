import pytest
from django.conf import settings
from django.test import Client

from accounts.models import ApiToken, User
from accounts.tokens import api_token_create
from tests.conftest import PASSWORD

TOKEN_URL = "/api/v1/auth/token/"


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_token_create_returns_201_with_a_working_token(client: Client, user: User) -> None:
    response = client.post(
        TOKEN_URL,
        {"email": "ANN@example.com", "password": PASSWORD, "device_name": "Pixel"},
        "application/json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Pixel"
    assert body["token"].startswith("tf_")
    me = client.get("/api/v1/me/", **bearer(body["token"]))
    assert me.status_code == 200
    assert me.json()["email"] == "ann@example.com"
    stored = ApiToken.objects.get()
    assert body["token"] not in (stored.digest, stored.prefix)  # only a digest is kept


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"password": "x"}, "email"), ({"email": "not-an-email", "password": "x"}, "email")],
)
def test_token_create_400_with_field_errors(
    client: Client, db: None, payload: dict[str, str], field: str
) -> None:
    response = client.post(TOKEN_URL, payload, "application/json")

    assert response.status_code == 400
    assert field in response.json()


def test_token_create_401_for_wrong_password_then_429_with_retry_after(client: Client, user: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(TOKEN_URL, {"email": user.email, "password": "nope"}, "application/json")
        assert response.status_code == 401
        assert response.json() == {"detail": "That email and password do not match an account."}
    response = client.post(TOKEN_URL, {"email": user.email, "password": "nope"}, "application/json")
    assert response.status_code == 429  # the failure that reaches the limit already says so
    # Said once, as the login page says it: no "Expected available in 900 seconds." after it.
    assert response.json()["detail"].startswith("Too many failed attempts. Logging in is locked for about")
    assert response.json()["detail"].endswith("minutes, or reset your password.")

    response = client.post(TOKEN_URL, {"email": user.email, "password": PASSWORD}, "application/json")

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert ApiToken.objects.count() == 0


def test_token_create_400_on_malformed_json(client: Client, db: None) -> None:
    response = client.post(TOKEN_URL, "{not json", "application/json")

    assert response.status_code == 400
    assert "detail" in response.json()


def test_delete_revokes_the_token_in_use(client: Client, user: User) -> None:
    _, raw = api_token_create(user=user, name="CLI")
    _, other = api_token_create(user=user, name="Phone")

    assert client.delete(TOKEN_URL, **bearer(raw)).status_code == 204

    assert client.get("/api/v1/me/", **bearer(raw)).status_code == 401
    assert client.get("/api/v1/me/", **bearer(other)).status_code == 200


def test_delete_without_a_token_is_401(user_client: Client) -> None:
    assert user_client.delete(TOKEN_URL).status_code == 401


def test_me_requires_authentication(client: Client, db: None) -> None:
    response = client.get("/api/v1/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/me/", **bearer("tf_not-a-real-token")).status_code == 401
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer").status_code == 401


def test_me_patch_updates_with_the_profile_rules(client: Client, user: User) -> None:
    _, raw = api_token_create(user=user, name="CLI")

    response = client.patch("/api/v1/me/", {"display_name": "  Ann B  "}, "application/json", **bearer(raw))

    assert response.status_code == 200
    assert response.json()["display_name"] == "Ann B"
    user.refresh_from_db()
    assert user.display_name == "Ann B"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"display_name": ""}, "display_name"),
        ({"time_zone": "Mars/Base"}, "time_zone"),
        ({"email": "x@y.z"}, "email"),
    ],
)
def test_me_patch_400_changes_nothing(
    client: Client, user: User, payload: dict[str, str], field: str
) -> None:
    _, raw = api_token_create(user=user, name="CLI")

    response = client.patch("/api/v1/me/", payload, "application/json", **bearer(raw))

    assert response.status_code == 400
    assert field in response.json()
    user.refresh_from_db()
    assert (user.display_name, user.time_zone, user.email) == ("Ann", "UTC", "ann@example.com")


def test_me_with_session_needs_csrf(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.get("/api/v1/me/").status_code == 200
    assert client.patch("/api/v1/me/", {"bio": "x"}, "application/json").status_code == 403


def test_schema_documents_the_api(client: Client, db: None) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert "/api/v1/auth/token/" in response.content.decode()


def test_an_unknown_email_runs_the_password_hasher_too(
    client: Client, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counted, not timed: an unknown email costs one hash, as a known one does, so timing tells nothing.
    from django.contrib.auth.hashers import MD5PasswordHasher

    calls: list[str] = []
    encode = MD5PasswordHasher.encode
    monkeypatch.setattr(
        MD5PasswordHasher, "encode", lambda self, pw, salt: calls.append(pw) or encode(self, pw, salt)
    )

    unknown = client.post(
        TOKEN_URL, {"email": "nobody@example.com", "password": "guess-1"}, "application/json"
    )
    known = client.post(TOKEN_URL, {"email": user.email, "password": "guess-2"}, "application/json")

    assert unknown.status_code == known.status_code == 401
    assert unknown.json() == known.json()
    assert calls.count("guess-1") == calls.count("guess-2") == 1


def test_token_create_201_carries_location(client: Client, user: User) -> None:
    response = client.post(TOKEN_URL, {"email": user.email, "password": PASSWORD}, "application/json")

    assert response.status_code == 201
    assert response["Location"] == "http://testserver" + TOKEN_URL


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", ["Ann"]),
        ("display_name", {"first": "Ann"}),
        ("display_name", True),
        ("display_name", 12),
        ("bio", ["a", "b"]),
        ("bio", {"text": "x"}),
        ("bio", False),
        ("time_zone", ["UTC"]),
        ("time_zone", {"zone": "UTC"}),
        ("time_zone", True),
        ("display_name", None),
    ],
)
def test_me_patch_400_for_a_value_of_the_wrong_type(
    client: Client, user: User, field: str, value: object
) -> None:
    _, raw = api_token_create(user=user, name="CLI")

    # Sent with a valid change beside it: that one must not be stored either.
    valid = {"bio": "Changed"} if field != "bio" else {"display_name": "Changed"}

    response = client.patch("/api/v1/me/", {**valid, field: value}, "application/json", **bearer(raw))

    assert response.status_code == 400
    assert field in response.json()
    user.refresh_from_db()
    assert (user.display_name, user.bio, user.time_zone) == ("Ann", "", "UTC")
