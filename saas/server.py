"""The production ASGI application: ordinary requests at WSGI speed, streams on the event loop.

Django's ASGI handler costs about 2.5 ms per request on a small machine (a thread per request for
sync work and many sync/async hops), which is most of the budget of a fast page. Yet the chat stream
must run on the event loop: under WSGI every open stream would hold a thread. So this module routes
each HTTP request by the view that will serve it:

- an **async view** (a coroutine function: the chat stream) goes to Django's ASGI handler and
  streams on the event loop;
- every other request goes to Django's **WSGI handler**, called once in a small thread pool with
  the whole request body, its response collected in that thread and sent back in one piece.

Both kinds get the same body limit first (WEB_MAX_BODY_BYTES): a larger body is answered 413 before
it is read, or as soon as a chunked one passes the limit.

That keeps a single server command (`uvicorn saas.server:app`) and a single Django project, with no
second process or proxy. `make bench` measures the bare view through it against gunicorn.
"""

import asyncio
import functools
import io
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from core.checks import MISSING_SECRET_KEY  # noqa: E402

try:
    settings.SECRET_KEY  # noqa: B018  (no server without a key: Django raises on an empty one)
except ImproperlyConfigured as error:
    raise ImproperlyConfigured(MISSING_SECRET_KEY) from error

from asgiref.sync import iscoroutinefunction  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.urls import Resolver404, get_resolver  # noqa: E402

from core.request_id import bind_asgi  # noqa: E402

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]

# A request body larger than this (settings.WEB_MAX_BODY_BYTES, also Django's DATA_UPLOAD_MAX_MEMORY_SIZE)
# is refused before it reaches Django, on every path. Stripe webhooks and API calls are far smaller.
MAX_BODY_BYTES: int = settings.WEB_MAX_BODY_BYTES
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


async def read_body(scope: Scope, receive: Receive) -> bytes | None:
    """The whole request body, or None when the client left or sent more than MAX_BODY_BYTES.

    A declared length over the limit is refused before a byte is read; a chunked body (no length
    declared) is counted as it arrives and cut off as soon as it passes the limit, so a huge upload
    costs the server at most MAX_BODY_BYTES of memory and none of disk.
    """
    if declared_length(scope) > MAX_BODY_BYTES:
        return None
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


async def too_large_response(scope: Scope, send: Send) -> None:
    """413, in JSON `{"detail": ...}` on the API (what its clients parse), a line of text elsewhere.

    The body was not read, so the connection cannot carry another request: `Connection: close` makes
    uvicorn close it right after this answer (left to keep-alive, it would wait for its idle timeout),
    and the client's upload ends there too.
    """
    detail = f"Request body too large: the limit is {MAX_BODY_BYTES} bytes."
    if scope["path"].startswith("/api/"):
        content_type, text = b"application/json", json.dumps({"detail": detail}).encode()
    else:
        content_type, text = b"text/plain; charset=utf-8", detail.encode()
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(text)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": text})


async def serve_wsgi(scope: Scope, receive: Receive, send: Send) -> None:
    body = await read_body(scope, receive)
    if body is None:
        await too_large_response(scope, send)
        return
    loop = asyncio.get_running_loop()
    status, headers, chunks = await loop.run_in_executor(executor, run_wsgi, build_environ(scope, body))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if scope["method"] == "HEAD":
        chunks = []
    for chunk in chunks[:-1]:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": chunks[-1] if chunks else b""})


async def serve_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    """Django's ASGI handler, given a body already read within the limit.

    Left to itself the handler reads the whole body, spooling it to disk, before any view can refuse
    it: a 2 GB upload to the stream endpoint would be written out before its 401. Here it is read (and
    cut off) first, then replayed as one message; later receives go to the client, so the handler
    still hears a disconnect while it streams.
    """
    body = await read_body(scope, receive)
    if body is None:
        await too_large_response(scope, send)
        return
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    await asgi_handler(scope, replay, send)


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
    if scope["type"] == "http":
        scope, send = bind_asgi(scope, send)  # X-Request-ID here too: the access log and our own 413
    if scope["type"] == "http" and not is_async_path(scope["path"]):
        await serve_wsgi(scope, receive, send)
    elif scope["type"] == "http":
        await serve_asgi(scope, receive, send)
    elif scope["type"] == "lifespan":
        await lifespan(receive, send)
    else:
        await asgi_handler(scope, receive, send)


__all__ = ["app"]
