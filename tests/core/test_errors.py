"""Errors as users and API clients see them: branded 404 and 500 pages, JSON on the API, and a 503
(never a 500) for a database error raised anywhere in a request, middleware included.

"The database is down" is made real with Django's execute_wrapper: every statement on this thread's
connection fails the way it does while PostgreSQL is unreachable. tests/test_outage_postgres.py
stops a real PostgreSQL under the production server."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from accounts.models import User
from accounts.tokens import api_token_create
from tests.conftest import HTMX, in_own_thread, needs

# A client that answers what the server would, instead of re-raising the view's exception.
SERVER_LIKE = {"raise_request_exception": False}


@contextmanager
def database_down() -> Iterator[list[str]]:
    refused: list[str] = []

    def refuse(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        refused.append(sql)
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    with connection.execute_wrapper(refuse):
        yield refused


@pytest.fixture
def signed_in(user: User) -> Client:
    client = Client(**SERVER_LIKE)
    client.force_login(user)
    return client


@pytest.fixture
def error_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.core.error_urls"


def assert_unavailable_page(response: Any) -> None:
    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Please try again" in html
    assert "nothing was changed" in html
    assert 'class="topbar"' in html  # the product's own page, not a bare error
    assert "Traceback" not in html


@pytest.mark.parametrize(
    "path", ["/dashboard/", pytest.param("/dashboard/posts/", marks=needs("posts")), "/", "/accounts/login/"]
)
def test_a_signed_in_page_is_a_503_while_the_database_is_down(signed_in: Client, path: str) -> None:
    # The user is loaded by a middleware, before any view: that is where the error is raised.
    with database_down() as refused:
        response = signed_in.get(path)

    assert refused  # the request did try the database
    assert_unavailable_page(response)
    assert "Your change was not saved" not in response.content.decode()  # a GET changes nothing


@needs("posts")
def test_a_plain_post_is_a_503_page_with_a_way_back(signed_in: Client) -> None:
    with database_down():
        response = signed_in.post(
            "/dashboard/posts/new/",
            {"title": "t", "body": "b"},
            HTTP_REFERER="http://testserver/dashboard/posts/",
        )

    assert_unavailable_page(response)
    assert "Your change was not saved" in response.content.decode()
    assert 'href="http://testserver/dashboard/posts/"' in response.content.decode()


@needs("posts")
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_htmx_request_gets_the_alert_while_the_database_is_down(signed_in: Client, method: str) -> None:
    with database_down():
        response = getattr(signed_in, method)("/dashboard/posts/", **HTMX)

    html = response.content.decode()
    assert response.status_code == 200  # htmx 2 swaps only 2xx
    assert response["HX-Retarget"] == "this"
    assert response["HX-Reswap"] == "afterbegin"
    assert response["Retry-After"] == "5"
    assert 'role="alert"' in html
    assert "nothing was changed" in html
    assert "<html" not in html


@needs("posts")
def test_the_api_answers_json_503_with_a_session(signed_in: Client) -> None:
    with database_down():
        response = signed_in.get("/api/v1/posts/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "detail": "Something went wrong on our side and nothing was changed. Please try again in a moment."
    }


@needs("posts")
@pytest.mark.parametrize(
    ("method", "path"), [("get", "/api/v1/posts/"), ("post", "/api/v1/posts/"), ("get", "/api/v1/me/")]
)
def test_the_api_answers_json_503_with_a_token(user: User, method: str, path: str) -> None:
    raw = api_token_create(user=user, name="phone")[1]
    with database_down():
        response = getattr(Client(**SERVER_LIKE), method)(
            path,
            {"title": "t", "body": "b"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "detail" in response.json()


@needs("chat")
@pytest.mark.django_db(transaction=True)
def test_the_chat_stream_answers_json_503(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    # The stream does its database work in a thread pool, beyond this thread's execute_wrapper: the
    # token lookup fails there as a dropped connection would.
    def lookup_fails(raw: str) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("chat.api.api_token_authenticate", lookup_fails)
    response = in_own_thread(
        lambda: Client(**SERVER_LIKE).post(
            "/api/v1/chat/stream/",
            {"message": "Hi"},
            content_type="application/json",
            HTTP_AUTHORIZATION="Bearer tf_x",
        )
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "detail" in response.json()


def test_a_database_error_in_a_view_is_a_503_too(error_urls: None) -> None:
    response = Client(**SERVER_LIKE).get("/database-gone/")

    assert_unavailable_page(response)


def test_the_404_page_is_the_products(client: Client, db: None) -> None:
    response = client.get("/no/such/page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in html
    assert "/no/such/page/" in html
    assert 'class="topbar"' in html


def test_the_404_page_escapes_the_path(client: Client, db: None) -> None:
    response = client.get("/<script>alert(1)</script>/")

    assert response.status_code == 404
    assert "<script>alert(1)" not in response.content.decode()


def test_an_api_404_is_json(client: Client, db: None) -> None:
    response = client.get("/api/v1/no-such-endpoint/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_the_500_page_is_the_products_and_needs_no_database(error_urls: None, user: User) -> None:
    client = Client(**SERVER_LIKE)
    with database_down() as refused:
        response = client.get("/boom/")

    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html
    assert 'class="topbar"' in html
    assert "a bug of ours" not in html
    assert refused == []  # rendered without a single query


def test_an_api_500_is_json(error_urls: None, db: None) -> None:
    response = Client(**SERVER_LIKE).get("/api/boom/")

    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}


def test_a_form_body_over_the_limit_is_a_413(client: Client, db: None, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/accounts/login/", {"email": "a@example.com", "password": "x" * 2000})

    assert response.status_code == 413
    assert b"Request body too large" in response.content
