"""The chat API's refusals (before any stream starts), through the real ASGI server, and the
conversation history endpoints."""

from typing import Any

import httpx
import pytest
from django.test import Client

from accounts.models import User
from accounts.tokens import api_token_create
from chat.models import Conversation, DailyUsage, Message
from chat.services import _today, chat_messages_used_today
from core.models import Flag
from tests.chat.conftest import AsgiServer
from tests.conftest import personal_team

# The stream view does its database work on the event loop's thread pool, with connections of its
# own: they see only committed data.
committed = pytest.mark.django_db(transaction=True)

STREAM = "/api/v1/chat/stream/"


@pytest.fixture
def token(user: User) -> str:
    return api_token_create(user=user, name="phone")[1]


@pytest.fixture
def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post(server: AsgiServer, body: Any, token: str | None = None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    content = body if isinstance(body, str) else None
    return httpx.post(
        server.url + STREAM,
        json=None if content is not None else body,
        content=content,
        headers={"Content-Type": "application/json", **headers},
        timeout=10,
        **kwargs,
    )


def conversation_of(user: User, *contents: str) -> Conversation:
    conversation = Conversation.objects.create(
        user=user, team=personal_team(user), title=contents[0] if contents else "Thread"
    )
    for index, content in enumerate(contents):
        role = Message.Role.USER if index % 2 == 0 else Message.Role.ASSISTANT
        Message.objects.create(conversation=conversation, role=role, content=content)
    return conversation


@committed
def test_stream_without_credentials_is_401_with_a_challenge(asgi_server: AsgiServer) -> None:
    response = post(asgi_server, {"message": "Hi"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "detail" in response.json()


@committed
def test_stream_with_a_revoked_or_unknown_token_is_401(asgi_server: AsgiServer) -> None:
    response = post(asgi_server, {"message": "Hi"}, token="tf_nope")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked token."}


@committed
def test_stream_with_the_session_but_no_csrf_token_is_403(asgi_server: AsgiServer, user: User) -> None:
    client = Client()
    client.force_login(user)

    response = post(asgi_server, {"message": "Hi"}, cookies={"sessionid": client.cookies["sessionid"].value})

    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")
    assert not Message.objects.exists()


@committed
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": ""}, "message"),
        ({"message": "   "}, "message"),
        ({}, "message"),
        ({"message": "x" * 4001}, "message"),
        ({"message": "Hi", "conversation_id": "abc"}, "conversation_id"),
        ({"message": "Hi", "conversation_id": 0}, "conversation_id"),
    ],
)
def test_stream_refuses_bad_input_with_400_and_stores_nothing(
    asgi_server: AsgiServer, token: str, body: dict[str, Any], field: str
) -> None:
    response = post(asgi_server, body, token)

    assert response.status_code == 400
    assert field in response.json()
    assert not Message.objects.exists()
    assert not DailyUsage.objects.filter(messages__gt=0).exists()


@committed
@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"Hi"', ""])
def test_stream_refuses_a_body_that_is_not_a_json_object(
    asgi_server: AsgiServer, token: str, raw: str
) -> None:
    response = post(asgi_server, raw, token)

    assert response.status_code == 400
    assert "detail" in response.json()


@committed
def test_stream_into_someone_elses_conversation_is_404(
    asgi_server: AsgiServer, token: str, other_user: User
) -> None:
    theirs = conversation_of(other_user, "Private")

    response = post(asgi_server, {"message": "Hi", "conversation_id": theirs.pk}, token)

    assert response.status_code == 404
    assert theirs.messages.count() == 1


@committed
def test_stream_into_a_conversation_id_past_any_database_integer_is_404(
    asgi_server: AsgiServer, token: str
) -> None:
    response = post(asgi_server, {"message": "Hi", "conversation_id": 10**30}, token)

    assert response.status_code == 404
    assert response.json()["detail"] == "No such conversation."
    assert not Message.objects.exists()


@committed
def test_stream_past_the_daily_quota_is_429_with_retry_after(
    asgi_server: AsgiServer, token: str, user: User
) -> None:
    DailyUsage.objects.create(team=personal_team(user), day=_today(), messages=20)  # the Free plan's 20 a day

    response = post(asgi_server, {"message": "Hi"}, token)

    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 24 * 3600
    assert "20" in response.json()["detail"]
    assert not Message.objects.exists()
    assert chat_messages_used_today(personal_team(user)) == 20


@committed
def test_stream_is_503_when_staff_switch_chat_off(asgi_server: AsgiServer, token: str) -> None:
    Flag.objects.create(name="chat", enabled=False, label="AI chat")

    response = post(asgi_server, {"message": "Hi"}, token)

    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert not Message.objects.exists()


@committed
def test_stream_accepts_only_post(asgi_server: AsgiServer, token: str) -> None:
    response = httpx.get(asgi_server.url + STREAM, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 405


def test_conversations_list_only_the_callers_own(
    client: Client, bearer: dict[str, str], user: User, other_user: User, django_assert_max_num_queries: Any
) -> None:
    mine = [conversation_of(user, f"Mine {n}") for n in range(3)]
    conversation_of(other_user, "Theirs")

    # 4, one added with tenancy: the token's team membership (teams.services.request_membership), which
    # proves the caller is still in the team the token acts within; a removed member's token sees nothing.
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/chat/conversations/", **bearer)

    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [c.pk for c in reversed(mine)]
    assert set(response.json()["results"][0]) == {"id", "title", "created_at", "updated_at"}


def test_conversation_detail_has_the_messages_in_order(
    client: Client, bearer: dict[str, str], user: User, django_assert_max_num_queries: Any
) -> None:
    conversation = conversation_of(user, "Question", "Answer", "Another", "Reply")

    # 5, one added with tenancy: the token's team membership (see the list's test above).
    with django_assert_max_num_queries(5):
        response = client.get(f"/api/v1/chat/conversations/{conversation.pk}/", **bearer)

    body = response.json()
    assert response.status_code == 200
    assert [m["content"] for m in body["messages"]] == ["Question", "Answer", "Another", "Reply"]
    assert body["messages"][1]["role"] == "assistant"
    assert body["messages"][1]["status"] == "complete"


def test_someone_elses_conversation_is_404_to_read_and_to_delete(
    client: Client, bearer: dict[str, str], other_user: User
) -> None:
    theirs = conversation_of(other_user, "Private")

    assert client.get(f"/api/v1/chat/conversations/{theirs.pk}/", **bearer).status_code == 404
    assert client.delete(f"/api/v1/chat/conversations/{theirs.pk}/", **bearer).status_code == 404
    assert Conversation.objects.filter(pk=theirs.pk).exists()


def test_deleting_a_conversation_is_204_and_keeps_the_days_usage(
    client: Client, bearer: dict[str, str], user: User
) -> None:
    conversation = conversation_of(user, "Question", "Answer")
    DailyUsage.objects.create(team=personal_team(user), day=_today(), messages=1)

    response = client.delete(f"/api/v1/chat/conversations/{conversation.pk}/", **bearer)

    assert response.status_code == 204
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert chat_messages_used_today(personal_team(user)) == 1


def test_history_endpoints_need_authentication(client: Client, db: None) -> None:
    assert client.get("/api/v1/chat/conversations/").status_code == 401
