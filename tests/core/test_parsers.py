"""Every JSON endpoint refuses a body it cannot safely parse with a 400 (a 413 when too large), never
a 500: DRF's parser (settings REST_FRAMEWORK) and the chat stream's own parsing alike."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from accounts.tokens import api_token_create
from tests.conftest import PASSWORD, in_own_thread, needs

# The posts API is the body-reading endpoint these tests store through; without it they skip.
Post = pytest.importorskip("posts.models", reason="the posts app is not installed").Post

DEEP = "[" * 100_000


@pytest.fixture
def bearer(user: User) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user, name='phone')[1]}"}


# Every JSON endpoint that reads a body; the chat stream parses its own.
ENDPOINTS = [
    ("post", "/api/v1/auth/token/"),
    ("patch", "/api/v1/me/"),
    ("post", "/api/v1/posts/"),
    # The stream's database work runs in other threads, which see only committed rows.
    pytest.param(
        "post", "/api/v1/chat/stream/", marks=[pytest.mark.django_db(transaction=True), needs("chat")]
    ),
]


def send(client: Client, method: str, path: str, body: str | bytes, bearer: dict[str, str]) -> Any:
    # A client that answers what the server would, instead of re-raising a view's exception.
    def call() -> Any:
        return getattr(client, method)(path, body, content_type="application/json", **bearer)

    # The stream is an async view (see in_own_thread); its database work is in other threads anyway.
    return in_own_thread(call) if path == "/api/v1/chat/stream/" else call()


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("body", [DEEP, '{"a":' * 100_000, "[" * 65 + "]" * 65])
def test_deeply_nested_json_is_a_400(
    method: str, path: str, body: str, bearer: dict[str, str], user: User
) -> None:
    client = Client(raise_request_exception=False)
    response = send(client, method, path, body, bearer)

    assert response.status_code == 400
    assert "nested deeper than 64 levels" in str(response.json())
    assert not Post.objects.exists()


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("body", ["{", "[NaN]", b"\xff\xfe\x00", '{"title": %s}' % ("1" * 5000)])
def test_malformed_json_is_a_400(
    method: str, path: str, body: str, bearer: dict[str, str], user: User
) -> None:
    response = send(Client(raise_request_exception=False), method, path, body, bearer)

    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_body_over_the_limit_is_a_json_413(
    method: str, path: str, bearer: dict[str, str], user: User, settings: Any
) -> None:
    # Under the production server the body is refused before Django (tests/test_server.py); under
    # any other server Django's own limit holds, and DRF's parser reads past it unless told.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"title": "t", "body": "%s"}' % ("x" * 2000)
    response = send(Client(raise_request_exception=False), method, path, body, bearer)

    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large: the limit is 1000 bytes."}
    assert not Post.objects.exists()


def test_ordinary_json_still_works(user: User, bearer: dict[str, str]) -> None:
    client = Client()
    token = client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": PASSWORD, "name": "laptop"},
        content_type="application/json",
    )
    created = client.post(
        "/api/v1/posts/",
        {"title": "Hello", "body": "[[nested]] text"},
        content_type="application/json",
        **bearer,
    )

    assert token.status_code == 201
    assert created.status_code == 201
    assert Post.objects.get().body == "[[nested]] text"
