"""The reference of the chat stream benchmark: the least a Python server can do to proxy a chat stream.

A raw ASGI app, no framework, no authentication, no database: it reads `{"message": ...}`, calls the
upstream with the same `anthropic.AsyncAnthropic.messages.stream` the chat uses, and forwards each text
delta as a server-sent event in the chat's format (`start`, `delta`…, `done` or `error`). Served by the
same uvicorn (httptools, uvloop, access log on) as the production command:

    ANTHROPIC_API_KEY=x ANTHROPIC_BASE_URL=http://127.0.0.1:9100 \\
        python -m uvicorn bench.stream_proxy:app --http httptools --loop uvloop --port 8124

What the production chat path costs beyond this is Django: routing, authentication, the database
writes of a turn, and Django's ASGI response path.
"""

import json
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anthropic

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]

MODEL = os.environ.get("CHAT_MODEL", "claude-sonnet-5-5")
MAX_TOKENS = int(os.environ.get("CHAT_MAX_TOKENS", "1024"))
SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]

_client: anthropic.AsyncAnthropic | None = None


def client() -> anthropic.AsyncAnthropic:
    # Created on first use, inside the server's event loop: its connection pool belongs to that loop.
    global _client
    if _client is None:
        _client = anthropic.AsyncAnthropic(max_retries=0)  # key and base URL from the environment
    return _client


def event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


async def read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body", False):
            return body


async def respond(send: Send, status: int, body: bytes, content_type: bytes = b"text/plain") -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]}
    )
    await send({"type": "http.response.body", "body": body})


async def proxy(receive: Receive, send: Send) -> None:
    try:
        message = json.loads(await read_body(receive))["message"]
    except (ValueError, KeyError, TypeError):
        await respond(
            send, 400, b'{"detail": "The body must be {\\"message\\": \\"...\\"}."}', b"application/json"
        )
        return
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
    await send({"type": "http.response.body", "body": event("start", {}), "more_body": True})
    try:
        async with client().messages.stream(
            model=MODEL, max_tokens=MAX_TOKENS, messages=[{"role": "user", "content": message}]
        ) as stream:
            async for text in stream.text_stream:
                await send(
                    {"type": "http.response.body", "body": event("delta", {"text": text}), "more_body": True}
                )
            final = await stream.get_final_message()
        last = event("done", {"stop_reason": final.stop_reason})
    except anthropic.APIError as error:
        last = event("error", {"code": "upstream_error", "detail": str(error)})
    await send({"type": "http.response.body", "body": last})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "http" and scope["method"] == "POST":
        await proxy(receive, send)
    elif scope["type"] == "http":
        await respond(send, 200, b"ok")  # readiness, for the harness
