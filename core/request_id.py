"""A request id on every request: in the `X-Request-ID` response header and on every log line.

The id comes from the incoming `X-Request-ID` when it is well-formed (Render, Heroku, nginx's
`$request_id` and most load balancers set one, so our lines join theirs), else a fresh UUID4 hex.
An incoming value is only a correlation key, never trusted data: it is accepted only if it is 1-128
characters of letters, digits and `-._:` (as Rails' ActionDispatch::RequestId sanitises it), so it
cannot forge log lines or bloat them; anything else is replaced, not echoed.

It is bound twice, with the same value: by `bind_asgi` in the production server (so uvicorn's access
log line and the server's own 413 carry it) and by `RequestIdMiddleware` in Django (so a page, the API,
/healthz and the async stream all carry it under any server, the test client included). The current id
lives in a context variable that `RequestIdFilter` copies onto each log record.
"""

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

if TYPE_CHECKING:
    from sentry_sdk._types import Event, Hint

HEADER = "X-Request-ID"
_VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-._:]{0,127}")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id_resolve(incoming: str | bytes | None) -> str:
    """The incoming id when it is well-formed, else a new one."""
    if isinstance(incoming, bytes):
        incoming = incoming.decode("latin1")
    if incoming and _VALID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()


# --- Django ----------------------------------------------------------------------------------------


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every response (health checks, errors, streams) gets the header.

    Sync and async capable: the async chat stream is served without a thread hop, and the id stays bound
    while a streaming response is iterated (after this middleware has returned)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _bind(self, request: HttpRequest) -> str:
        request_id = request_id_resolve(request.headers.get(HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        return request_id

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        request_id = self._bind(request)
        token = request_id_var.set(request_id)
        try:
            response: HttpResponseBase = self.get_response(request)
        finally:
            # Sync views run in pooled threads: unbind, or the next request's early lines get this id.
            request_id_var.reset(token)
        response[HEADER] = request_id
        if getattr(response, "streaming", False) and not getattr(response, "is_async", False):
            response.streaming_content = _bound_iter(response.streaming_content, request_id)  # type: ignore[attr-defined]
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = self._bind(request)
        # Under ASGI each request runs in its own task (its own context copy), and the stream is sent
        # from that same task: the binding needs no reset and holds while the body is streamed.
        request_id_var.set(request_id)
        response: HttpResponseBase = await self.get_response(request)
        response[HEADER] = request_id
        return response


def _bound_iter(content: Iterator[bytes], request_id: str) -> Iterator[bytes]:
    token = request_id_var.set(request_id)
    try:
        yield from content
    finally:
        request_id_var.reset(token)


# --- ASGI (the production server, saas/server.py) ---------------------------------------------------

Scope = dict[str, Any]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]


def bind_asgi(scope: Scope, send: Send) -> tuple[Scope, Send]:
    """Resolve the id once per HTTP request at the server's edge, bind it for this task (uvicorn writes
    its access line from here), pass it to Django in the header, and add it to any response that lacks
    it (the server's own 413 and 400s)."""
    incoming = next((value for name, value in scope["headers"] if name == b"x-request-id"), None)
    request_id = request_id_resolve(incoming)
    request_id_var.set(request_id)
    encoded = request_id.encode("latin1")
    headers = [(name, value) for name, value in scope["headers"] if name != b"x-request-id"]
    scope = {**scope, "headers": [*headers, (b"x-request-id", encoded)]}

    async def send_with_id(message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            response_headers = list(message.get("headers", []))
            if not any(name.lower() == b"x-request-id" for name, _ in response_headers):
                message = {**message, "headers": [*response_headers, (b"x-request-id", encoded)]}
        await send(message)

    return scope, send_with_id


# --- Logging -----------------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or "-" outside a request) on each record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (`LOG_FORMAT=json`), for log drains that parse lines: time, level,
    logger, message, request id, the exception if any, and whatever `extra=` a call site passed."""

    # Attributes every LogRecord has (and uvicorn's ANSI-coloured copy of the message); anything else
    # was passed with extra= and is kept.
    _STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
        "message",
        "asctime",
        "request_id",
        "color_message",
    }

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        for key, value in record.__dict__.items():
            if key not in self._STANDARD and not key.startswith("_"):
                entry[key] = value
        return json.dumps(entry, default=str)


def sentry_before_send(event: "Event", hint: "Hint") -> "Event":
    """Tag each Sentry event with the request id, so a report leads to its log lines and back."""
    request_id = request_id_var.get()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event
