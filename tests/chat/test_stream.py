"""The stream endpoint over real sockets: the production ASGI app on uvicorn, the real Anthropic SDK,
and a fake Anthropic speaking its wire format."""

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.test import Client

from accounts.models import User
from accounts.tokens import api_token_create
from bench.fake_anthropic import FakeAnthropic, Script
from chat.models import Conversation, DailyUsage, Message
from chat.services import chat_messages_used_today
from saas.server import is_async_path
from tests.chat.conftest import AsgiServer, free_port
from tests.conftest import personal_team

pytestmark = pytest.mark.django_db(transaction=True)

STREAM = "/api/v1/chat/stream/"


@pytest.fixture
def bearer(user: User) -> dict[str, str]:
    _, raw = api_token_create(user=user, name="phone")
    return {"Authorization": f"Bearer {raw}"}


def read_events(response: httpx.Response) -> Iterator[tuple[float, str, dict[str, Any]]]:
    """(arrival time, event name, data) for each server-sent event, as it arrives."""
    buffer = ""
    for chunk in response.iter_text():
        buffer += chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines())
            yield time.monotonic(), fields["event"], json.loads(fields["data"])


def stream(
    server: AsgiServer, headers: dict[str, str], **body: Any
) -> list[tuple[float, str, dict[str, Any]]]:
    with httpx.stream("POST", server.url + STREAM, json=body, headers=headers, timeout=10) as response:
        assert response.status_code == 200, response.read()
        return list(read_events(response))


def wait_for(predicate: Any, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def reply_saved(server: AsgiServer, headers: dict[str, str], conversation_id: int) -> bool:
    """Asked over HTTP, not here: in-memory SQLite's shared cache refuses a read from this thread while
    the server's thread writes, where a real database would wait."""
    url = f"{server.url}/api/v1/chat/conversations/{conversation_id}/"
    messages = httpx.get(url, headers=headers).json()["messages"]
    return any(message["role"] == "assistant" for message in messages)


def test_the_stream_view_is_async_so_the_server_routes_it_to_the_event_loop() -> None:
    assert is_async_path(STREAM)
    assert not is_async_path("/api/v1/chat/conversations/")
    assert not is_async_path("/chat/")


def test_deltas_arrive_as_the_upstream_sends_them_and_the_answer_is_stored(
    asgi_server: AsgiServer, fake_anthropic: FakeAnthropic, bearer: dict[str, str], user: User
) -> None:
    fake_anthropic.script = Script(tokens=6, token_interval=0.06)

    with httpx.stream(
        "POST", asgi_server.url + STREAM, json={"message": "Hello there"}, headers=bearer, timeout=10
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        events = list(read_events(response))

    names = [name for _, name, _ in events]
    assert names == ["start"] + ["delta"] * 6 + ["done"]
    times = [at for at, name, _ in events if name == "delta"]
    # Streamed, not buffered: the deltas arrive spread out over the upstream's own pacing.
    assert times[-1] - times[0] > 0.2
    assert "".join(data["text"] for _, name, data in events if name == "delta") == (
        "Streaming keeps people reading while the"
    )
    start, done = events[0][2], events[-1][2]
    conversation = Conversation.objects.get(user=user)
    assert start == {"conversation_id": conversation.pk, "message_id": conversation.messages.first().pk}  # type: ignore[union-attr]
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert done == {
        "message_id": reply.pk,
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 12, "output_tokens": 6},
    }
    assert reply.status == Message.Status.COMPLETE
    assert reply.content == "Streaming keeps people reading while the"
    assert conversation.title == "Hello there"
    sent = fake_anthropic.records[0].body
    assert sent["messages"] == [{"role": "user", "content": "Hello there"}]
    assert sent["stream"] is True
    assert "Twofold" in sent["system"]
    assert fake_anthropic.records[0].headers["authorization"] == "Bearer sk-ant-test"
    usage = DailyUsage.objects.get(team=personal_team(user))
    assert (usage.messages, usage.input_tokens, usage.output_tokens) == (1, 12, 6)


def test_a_follow_up_sends_the_conversation_history(
    asgi_server: AsgiServer, fake_anthropic: FakeAnthropic, bearer: dict[str, str], user: User
) -> None:
    fake_anthropic.script = Script(tokens=2)
    first = stream(asgi_server, bearer, message="First question")
    conversation_id = first[0][2]["conversation_id"]

    second = stream(asgi_server, bearer, message="And a second one", conversation_id=conversation_id)

    assert second[0][2]["conversation_id"] == conversation_id
    assert fake_anthropic.records[1].body["messages"] == [
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "Streaming keeps"},
        {"role": "user", "content": "And a second one"},
    ]
    assert list(Message.objects.values_list("role", flat=True)) == ["user", "assistant"] * 2
    assert chat_messages_used_today(personal_team(user)) == 2


def test_a_client_that_leaves_closes_the_upstream_and_keeps_the_partial_answer(
    asgi_server: AsgiServer, fake_anthropic: FakeAnthropic, bearer: dict[str, str], user: User
) -> None:
    fake_anthropic.script = Script(tokens=100, token_interval=0.05)
    baseline = asgi_server.tasks()

    with httpx.stream(
        "POST", asgi_server.url + STREAM, json={"message": "Tell me a long story"}, headers=bearer, timeout=10
    ) as response:
        received = []
        for _, name, data in read_events(response):
            received.append((name, data))
            if [n for n, _ in received].count("delta") == 3:
                break
    left_at = time.monotonic()
    conversation_id = received[0][1]["conversation_id"]

    wait_for(lambda: fake_anthropic.records[0].closed_early_at is not None)
    closed_at = fake_anthropic.records[0].closed_early_at
    assert closed_at is not None
    assert closed_at - left_at < 1.0
    assert not fake_anthropic.records[0].finished
    wait_for(lambda: reply_saved(asgi_server, bearer, conversation_id))
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert reply.status == Message.Status.INCOMPLETE
    assert reply.content.startswith("Streaming keeps people")
    assert reply.input_tokens == 12
    assert reply.output_tokens >= 3  # the deltas received: the API reports the total only at the end
    assert DailyUsage.objects.get(team=personal_team(user)).output_tokens == reply.output_tokens
    wait_for(lambda: sorted(asgi_server.tasks()) == sorted(baseline))
    assert fake_anthropic.open_streams == 0


@pytest.mark.parametrize(
    ("http_status", "code"),
    [
        (401, "upstream_auth"),
        (429, "upstream_rate_limited"),
        (529, "upstream_overloaded"),
        (500, "upstream_unavailable"),
        (400, "upstream_error"),
    ],
)
def test_an_upstream_refusal_gives_one_error_event_and_no_answer(
    asgi_server: AsgiServer,
    fake_anthropic: FakeAnthropic,
    bearer: dict[str, str],
    user: User,
    http_status: int,
    code: str,
) -> None:
    fake_anthropic.script = Script(http_status=http_status)

    events = stream(asgi_server, bearer, message="Hi")

    assert [name for _, name, _ in events] == ["start", "error"]
    assert events[-1][2]["code"] == code
    assert events[-1][2]["detail"]
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert (reply.status, reply.content, reply.error_code) == (Message.Status.ERROR, "", code)
    assert chat_messages_used_today(personal_team(user)) == 0  # nothing was used: the message is given back


def test_an_upstream_that_never_answers_times_out_with_one_error_event(
    asgi_server: AsgiServer, fake_anthropic: FakeAnthropic, bearer: dict[str, str], settings: Any
) -> None:
    fake_anthropic.script = Script(hang=True)
    settings.CHAT_UPSTREAM_TIMEOUT = 0.3

    events = stream(asgi_server, bearer, message="Hi")

    assert [name for _, name, _ in events] == ["start", "error"]
    assert events[-1][2]["code"] == "upstream_timeout"


def test_an_unreachable_upstream_gives_one_error_event(
    asgi_server: AsgiServer, fake_anthropic: FakeAnthropic, bearer: dict[str, str], settings: Any
) -> None:
    settings.ANTHROPIC_BASE_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    events = stream(asgi_server, bearer, message="Hi")

    assert [name for _, name, _ in events] == ["start", "error"]
    assert events[-1][2]["code"] == "upstream_unavailable"


def test_a_mid_stream_error_keeps_the_partial_as_incomplete_with_one_error_event(
    asgi_server: AsgiServer, fake_anthropic: FakeAnthropic, bearer: dict[str, str], user: User
) -> None:
    fake_anthropic.script = Script(tokens=10, error_after=3, error_type="overloaded_error")

    events = stream(asgi_server, bearer, message="Hi")

    assert [name for _, name, _ in events] == ["start", "delta", "delta", "delta", "error"]
    assert events[-1][2]["code"] == "upstream_overloaded"
    reply = Message.objects.get(role=Message.Role.ASSISTANT)
    assert reply.status == Message.Status.INCOMPLETE
    assert reply.content == "Streaming keeps people"
    assert reply.error_code == "upstream_overloaded"
    assert chat_messages_used_today(personal_team(user)) == 1  # an answer was (partly) given: it counts


def test_our_page_streams_with_the_session_cookie_and_csrf_token(
    asgi_server: AsgiServer, fake_anthropic: FakeAnthropic, user: User
) -> None:
    client = Client()
    client.force_login(user)
    secret = "a" * 32
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": secret}

    refused = httpx.post(asgi_server.url + STREAM, json={"message": "Hi"}, cookies=cookies)
    with httpx.stream(
        "POST",
        asgi_server.url + STREAM,
        json={"message": "Hi"},
        cookies=cookies,
        headers={"X-CSRFToken": secret},
    ) as response:
        events = list(read_events(response))

    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("CSRF Failed")
    assert [name for _, name, _ in events][-1] == "done"


def test_the_demo_model_streams_a_labelled_answer_without_any_key(
    asgi_server: AsgiServer, demo_model: None, bearer: dict[str, str]
) -> None:
    events = stream(asgi_server, bearer, message="What is this?")

    text = "".join(data["text"] for _, name, data in events if name == "delta")
    assert [name for _, name, _ in events][-1] == "done"
    assert text.startswith("**Demo mode**")
    assert "ANTHROPIC_API_KEY" in text
    assert "What is this?" in text
    assert Message.objects.get(role=Message.Role.ASSISTANT).content == text
