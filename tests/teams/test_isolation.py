"""Nothing of one team is visible from another, through any page or endpoint, ids guessed included."""

import importlib.util
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from accounts.tokens import api_token_create
from teams.services import member_add, team_create
from tests.conftest import needs, personal_team


@pytest.fixture
def secrets(user: User, other_user: User) -> dict[str, Any]:
    """Bob's team with a post and a conversation of his (those of the apps installed); Ann is not in it."""
    bob_team = personal_team(other_user)
    ids: dict[str, Any] = {}
    if importlib.util.find_spec("posts"):
        from posts.models import Post

        ids["post"] = Post.objects.create(author=other_user, team=bob_team, title="Bob's secret", body="b").pk
    if importlib.util.find_spec("chat"):
        from chat.models import Conversation

        chat = Conversation.objects.create(user=other_user, team=bob_team, title="Bob's chat")
        ids["conversation"] = chat.pk
    return ids


POSTS, CHAT = needs("posts"), needs("chat")
PAGES = [
    pytest.param("/dashboard/posts/", "Bob's secret", marks=POSTS),
    pytest.param("/chat/", "Bob's chat", marks=CHAT),
]
GUESSED_PAGES = [
    pytest.param("/dashboard/posts/{post}/", marks=POSTS),
    pytest.param("/dashboard/posts/{post}/edit/", marks=POSTS),
    pytest.param("/chat/{conversation}/", marks=CHAT),
]
GUESSED_API = [
    pytest.param("get", "/api/v1/posts/{post}/", marks=POSTS),
    pytest.param("patch", "/api/v1/posts/{post}/", marks=POSTS),
    pytest.param("delete", "/api/v1/posts/{post}/", marks=POSTS),
    pytest.param("get", "/api/v1/chat/conversations/{conversation}/", marks=CHAT),
    pytest.param("delete", "/api/v1/chat/conversations/{conversation}/", marks=CHAT),
]
API_LISTS = [
    pytest.param("/api/v1/posts/", marks=POSTS),
    pytest.param("/api/v1/chat/conversations/", marks=CHAT),
]


@pytest.mark.parametrize(("url", "secret"), PAGES)
def test_lists_show_nothing_of_another_team(
    user_client: Client, secrets: dict[str, Any], url: str, secret: str
) -> None:
    response = user_client.get(url)

    assert response.status_code == 200
    assert secret not in response.content.decode()


@pytest.mark.parametrize("url", GUESSED_PAGES)
def test_guessed_ids_of_another_team_are_not_found_on_pages(
    user_client: Client, secrets: dict[str, Any], url: str
) -> None:
    assert user_client.get(url.format(**secrets)).status_code == 404


@pytest.mark.parametrize(("method", "url"), GUESSED_API)
def test_guessed_ids_of_another_team_are_not_found_in_the_api(
    client: Client, user: User, secrets: dict[str, Any], method: str, url: str
) -> None:
    token = api_token_create(user=user, name="t")[1]

    response = getattr(client, method)(
        url.format(**secrets), {}, "application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert response.status_code == 404


@pytest.mark.parametrize("url", API_LISTS)
def test_api_lists_show_nothing_of_another_team(
    client: Client, user: User, secrets: dict[str, Any], url: str
) -> None:
    token = api_token_create(user=user, name="t")[1]

    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert "Bob's" not in response.content.decode()


@needs("posts", "billing")
def test_a_token_of_a_shared_team_sees_that_teams_posts_and_usage_only(
    client: Client, user: User, other_user: User, secrets: dict[str, Any]
) -> None:
    from posts.models import Post

    acme = team_create(user=other_user, name="Acme")
    member_add(team=acme, user=user)
    Post.objects.create(author=other_user, team=acme, title="Acme plan", body="b")
    token = api_token_create(user=user, name="t", team_id=acme.pk)[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    titles = [post["title"] for post in client.get("/api/v1/posts/", **auth).json()["results"]]
    subscription = client.get("/api/v1/subscription/", **auth).json()

    assert titles == ["Acme plan"]
    assert (subscription["team"], subscription["usage"]["posts"], subscription["members"]) == (acme.pk, 1, 2)


def test_a_token_for_a_team_one_is_not_in_is_a_field_error(
    client: Client, user: User, other_user: User
) -> None:
    bob_team = personal_team(other_user)

    response = client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": "correct-horse-battery-staple", "team": bob_team.pk},
        "application/json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["team"]
    assert not user.api_tokens.exists()


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("/api/v1/posts/", marks=POSTS),
        pytest.param("/api/v1/chat/conversations/", marks=CHAT),
        pytest.param("/api/v1/subscription/", marks=needs("billing")),
    ],
)
def test_a_token_of_a_team_its_owner_has_left_is_a_404_not_a_500(
    client: Client, user: User, other_user: User, url: str
) -> None:
    from teams.models import Membership

    acme = team_create(user=other_user, name="Acme")
    member_add(team=acme, user=user)
    token = api_token_create(user=user, name="t", team_id=acme.pk)[1]
    Membership.objects.filter(team=acme, user=user).delete()

    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 404
    assert response.json()["detail"] == "This token's team is not one of yours any more."
