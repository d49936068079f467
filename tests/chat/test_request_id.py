"""The request id on the chat stream, served by the real ASGI server (core.request_id)."""

import re

import httpx
import pytest

from accounts.models import User
from accounts.tokens import api_token_create
from tests.chat.conftest import AsgiServer

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.django_db(transaction=True)
def test_the_async_stream_carries_the_id_while_it_streams(
    asgi_server: AsgiServer,
    demo_model: None,
    user: User,
) -> None:
    _, raw = api_token_create(user=user, name="phone")
    headers = {"Authorization": f"Bearer {raw}", "X-Request-ID": "stream-1"}

    with httpx.stream(
        "POST", asgi_server.url + "/api/v1/chat/stream/", json={"message": "hi"}, headers=headers, timeout=10
    ) as response:
        body = response.read().decode()

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"] == "stream-1"
    assert "event: done" in body


@pytest.mark.django_db(transaction=True)
def test_the_stream_refusal_carries_a_generated_id(asgi_server: AsgiServer) -> None:
    response = httpx.post(asgi_server.url + "/api/v1/chat/stream/", json={"message": "hi"}, timeout=10)

    assert response.status_code == 401
    assert GENERATED.fullmatch(response.headers["x-request-id"])
