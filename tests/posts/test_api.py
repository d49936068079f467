from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from accounts.tokens import api_token_create
from posts.models import Post
from tests.conftest import needs, personal_team

LIST = "/api/v1/posts/"


@pytest.fixture
def auth(user: User) -> dict[str, str]:
    _, raw = api_token_create(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_create_201_and_read_back(client: Client, user: User, auth: dict[str, str]) -> None:
    response = client.post(
        LIST, {"title": " Hello ", "body": "**hi** <script>x</script>"}, "application/json", **auth
    )

    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Hello"
    assert "<strong>hi</strong>" in body["body_html"]
    assert "<script>" not in body["body_html"]
    detail = client.get(f"{LIST}{body['id']}/", **auth)
    assert detail.json()["id"] == body["id"]
    assert Post.objects.get().author == user


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "x"}, "title"),
        ({"title": "   ", "body": "x"}, "title"),
        ({"title": "t" * 121, "body": "x"}, "title"),
    ],
)
def test_create_400_field_errors_store_nothing(
    client: Client, auth: dict[str, str], payload: dict[str, Any], field: str
) -> None:
    response = client.post(LIST, payload, "application/json", **auth)

    assert response.status_code == 400
    assert field in response.json()
    assert not Post.objects.exists()


def test_create_400_at_the_plan_limit(
    client: Client, user: User, auth: dict[str, str], settings: Any, plan_limits: Any
) -> None:
    plan_limits(max_posts=50)
    Post.objects.bulk_create(
        Post(author=user, team=personal_team(user), title=f"P{i}", body="b") for i in range(50)
    )

    response = client.post(LIST, {"title": "One more", "body": "b"}, "application/json", **auth)

    assert response.status_code == 400
    assert response.json()["code"] == "post_limit"
    assert Post.objects.count() == 50


def test_list_is_paginated_and_only_mine(
    client: Client, user: User, other_user: User, auth: dict[str, str], django_assert_max_num_queries: Any
) -> None:
    Post.objects.bulk_create(
        Post(author=user, team=personal_team(user), title=f"Mine {i}", body="b") for i in range(25)
    )
    Post.objects.create(author=other_user, team=personal_team(other_user), title="Theirs", body="b")

    # The token, its last use, the caller's membership of the token's team, the count and the page.
    with django_assert_max_num_queries(6):
        first = client.get(LIST, **auth).json()
    second = client.get(LIST + "?page=2", **auth).json()

    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert len(second["results"]) == 5
    assert all(p["title"].startswith("Mine") for p in first["results"] + second["results"])


def test_list_query_count_is_constant(
    client: Client, user: User, auth: dict[str, str], django_assert_max_num_queries: Any
) -> None:
    Post.objects.bulk_create(
        Post(author=user, team=personal_team(user), title=f"A{i}", body="b") for i in range(2)
    )
    client.get(LIST, **auth)  # warm caches (token last-used, flags), as in a running process
    with django_assert_max_num_queries(10) as few:
        client.get(LIST, **auth)
    Post.objects.bulk_create(
        Post(author=user, team=personal_team(user), title=f"B{i}", body="b") for i in range(18)
    )
    with django_assert_max_num_queries(len(few)):
        client.get(LIST, **auth)


def test_someone_elses_post_is_404_for_every_method(
    client: Client, other_user: User, auth: dict[str, str]
) -> None:
    theirs = Post.objects.create(author=other_user, team=personal_team(other_user), title="Theirs", body="b")
    url = f"{LIST}{theirs.pk}/"

    assert client.get(url, **auth).status_code == 404
    assert client.patch(url, {"title": "X"}, "application/json", **auth).status_code == 404
    assert client.delete(url, **auth).status_code == 404
    theirs.refresh_from_db()
    assert theirs.title == "Theirs"


def test_patch_changes_only_what_is_sent(client: Client, user: User, auth: dict[str, str]) -> None:
    post = Post.objects.create(author=user, team=personal_team(user), title="Old", body="Keep me")

    response = client.patch(f"{LIST}{post.pk}/", {"title": "New"}, "application/json", **auth)

    assert response.status_code == 200
    post.refresh_from_db()
    assert (post.title, post.body) == ("New", "Keep me")


def test_patch_400_changes_nothing(client: Client, user: User, auth: dict[str, str]) -> None:
    post = Post.objects.create(author=user, team=personal_team(user), title="Old", body="Keep me")

    response = client.patch(f"{LIST}{post.pk}/", {"body": ""}, "application/json", **auth)

    assert response.status_code == 400
    post.refresh_from_db()
    assert post.body == "Keep me"


def test_delete_204(client: Client, user: User, auth: dict[str, str]) -> None:
    post = Post.objects.create(author=user, team=personal_team(user), title="Bye", body="b")

    assert client.delete(f"{LIST}{post.pk}/", **auth).status_code == 204
    assert not Post.objects.exists()


def test_401_without_credentials(client: Client, db: None) -> None:
    assert client.get(LIST).status_code == 401
    assert client.post(LIST, {"title": "t", "body": "b"}, "application/json").status_code == 401


def test_429_with_retry_after_when_the_rate_is_exceeded(
    client: Client, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(
        UserRateThrottle, "THROTTLE_RATES", {**UserRateThrottle.THROTTLE_RATES, "user": "3/min"}
    )
    statuses = [client.get(LIST, **auth).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get(LIST, **auth)
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"].lower()


@needs("billing")  # /api/v1/subscription/ is billing's
def test_subscription_reports_post_usage(client: Client, user: User, auth: dict[str, str]) -> None:
    Post.objects.create(author=user, team=personal_team(user), title="One", body="b")

    body = client.get("/api/v1/subscription/", **auth).json()

    assert body["usage"]["posts"] == 1


def test_create_201_carries_the_location_of_the_new_post(client: Client, auth: dict[str, str]) -> None:
    response = client.post(LIST, {"title": "T", "body": "b"}, "application/json", **auth)

    assert response.status_code == 201
    location = response["Location"]
    assert location == f"http://testserver{LIST}{response.json()['id']}/"
    assert client.get(location, **auth).json() == response.json()
