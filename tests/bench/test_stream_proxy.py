import asyncio
import json
from collections.abc import Coroutine, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bench import stream_proxy
from bench.fake_anthropic import FakeAnthropic, Script, start_fake_anthropic

pytestmark = pytest.mark.bench


def in_new_loop[T](coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine in a thread of its own: other tests (Playwright's sync API) may leave an event
    loop running in this one, where asyncio.run() refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(30)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    upstream = start_fake_anthropic(tokens=4)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", upstream.url)
    monkeypatch.setattr(stream_proxy, "_client", None)  # each test's event loop gets its own client
    yield upstream
    upstream.stop()


def call(body: bytes, method: str = "POST") -> tuple[int, bytes]:
    """The app called as uvicorn would: one request, the response's status and whole body."""
    sent: list[Mapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        await stream_proxy.app({"type": "http", "method": method, "path": "/"}, receive, send)
        client = stream_proxy._client
        if client is not None:
            await client.close()

    in_new_loop(run())
    assert sent[0]["type"] == "http.response.start"
    assert not sent[-1].get("more_body", False)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def events(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for block in body.decode().strip().split("\n\n"):
        name, data = block.split("\n")
        found.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return found


def test_the_upstream_deltas_are_forwarded_in_the_chats_event_format(fake: FakeAnthropic) -> None:
    status, body = call(b'{"message": "Hello"}')

    assert status == 200
    assert events(body) == [
        ("start", {}),
        ("delta", {"text": "Streaming"}),
        ("delta", {"text": " keeps"}),
        ("delta", {"text": " people"}),
        ("delta", {"text": " reading"}),
        ("done", {"stop_reason": "end_turn"}),
    ]
    assert fake.records[0].body["messages"] == [{"role": "user", "content": "Hello"}]
    assert fake.records[0].headers["authorization"] == "Bearer test-key"


def test_an_upstream_failure_midway_ends_with_an_error_event(fake: FakeAnthropic) -> None:
    fake.script = Script(tokens=4, error_after=2)

    status, body = call(b'{"message": "Hello"}')

    assert status == 200
    assert [name for name, _ in events(body)] == ["start", "delta", "delta", "error"]


def test_a_body_without_a_message_is_refused(fake: FakeAnthropic) -> None:
    assert call(b"{}")[0] == 400
    assert call(b"not json")[0] == 400
    assert fake.records == []


def test_any_other_request_is_the_readiness_check() -> None:
    assert call(b"", method="GET") == (200, b"ok")
