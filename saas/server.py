"""The production ASGI application: ordinary requests at WSGI speed, streams on the event loop.

Django's ASGI handler costs about 2.5 ms per request on a small machine (a thread per request for
sync work and many sync/async hops), which is most of the budget of a fast page. Yet the chat stream
must run on the event loop: under WSGI every open stream would hold a thread. So this module routes
each HTTP request by the view that will serve it:

- an **async view** (a coroutine function: the chat stream) goes to Django's ASGI handler and
  streams on the event loop;
- every other request goes to Django's **WSGI handler**, called once in a small thread pool with
  the whole request body, its response collected in that thread and sent back in one piece.

That keeps a single server command (`uvicorn saas.server:app`) and a single Django project, with no
second process or proxy. `make bench` measures the bare view through it against gunicorn.
"""

import asyncio
import functools
import io
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings")
django.setup(set_prefix=False)

from asgiref.sync import iscoroutinefunction  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.urls import Resolver404, get_resolver  # noqa: E402

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]

# A request body larger than this is refused before it reaches Django (Django's own limits apply
# below it). Stripe webhooks and API calls are far smaller.
MAX_BODY_BYTES = int(os.environ.get("WEB_MAX_BODY_BYTES", 10 * 1024 * 1024))
WSGI_THREADS = int(os.environ.get("WEB_THREADS", "4"))

wsgi_handler = WSGIHandler()
asgi_handler = ASGIHandler()
executor = ThreadPoolExecutor(max_workers=WSGI_THREADS, thread_name_prefix="wsgi")


@functools.lru_cache(maxsize=4096)
def is_async_path(path: str) -> bool:
    """Is the view behind this path a coroutine function? Unknown paths are served by WSGI (404)."""
    try:
        match = get_resolver().resolve(path)
    except Resolver404:
        return False
    return iscoroutinefunction(match.func)


def build_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """A PEP 3333 environ from an ASGI HTTP scope (the ASGI spec's "WSGI compatibility" section)."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf8").decode("latin1"),
        "PATH_INFO": scope["path"].encode("utf8").decode("latin1"),
        "QUERY_STRING": scope["query_string"].decode("latin1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin1")
        value = raw_value.decode("latin1")
        if name == "content-type":
            key = "CONTENT_TYPE"
        elif name == "content-length":
            continue  # set below from the body actually received
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    if body:
        # The whole body is in hand: its length is known even when it came chunked (no header),
        # where Django would otherwise read nothing.
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def run_wsgi(environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
    """Call Django's WSGI handler and collect the whole response, in a worker thread."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: None  # the legacy write() callable; Django never uses it

    result: Iterable[bytes] = wsgi_handler(environ, start_response)
    try:
        chunks = [chunk for chunk in result if chunk]
    finally:
        # Closing the response fires request_finished: database connections are returned here.
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = started
    return (
        int(status.split(" ", 1)[0]),
        [(name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers],
        chunks,
    )


def declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when the client left or sent more than MAX_BODY_BYTES."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            return None
        if not message.get("more_body", False):
            return bytes(body)


async def plain_response(send: Send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text})


async def serve_wsgi(scope: Scope, receive: Receive, send: Send) -> None:
    # A declared length over the limit is refused before a byte of the body is read.
    body = None if declared_length(scope) > MAX_BODY_BYTES else await read_body(receive)
    if body is None:
        await plain_response(send, 413, b"Request body too large.")
        return
    loop = asyncio.get_running_loop()
    status, headers, chunks = await loop.run_in_executor(executor, run_wsgi, build_environ(scope, body))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if scope["method"] == "HEAD":
        chunks = []
    for chunk in chunks[:-1]:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": chunks[-1] if chunks else b""})


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            executor.shutdown(wait=True, cancel_futures=False)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http" and not is_async_path(scope["path"]):
        await serve_wsgi(scope, receive, send)
    elif scope["type"] == "lifespan":
        await lifespan(receive, send)
    else:
        await asgi_handler(scope, receive, send)


__all__ = ["app"]
