"""The models that answer: Anthropic's Messages API, or an offline demo model when no key is set.

A provider streams text deltas as an async iterator and fills in a `ReplyProgress` as it goes, so
whoever stops reading early (a client that left) still knows the usage so far. Failures come out as
one exception type, `ProviderError`, with a stable code the API passes on to its clients.
"""

import asyncio
import random
import weakref
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from django.conf import settings

if TYPE_CHECKING:
    # The SDK takes seconds to import (pydantic models for the whole API): the server imports it on the
    # first real answer, not at start-up, so cold starts and the demo model never pay for it.
    import anthropic
    from anthropic.types import MessageParam

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class ProviderMessage:
    role: Role
    content: str


@dataclass
class ReplyProgress:
    """Usage and stop reason, updated while the stream runs (the API reports output tokens at the end)."""

    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str = ""


# Stable error codes of the `error` stream event (README, "Streaming chat").
UPSTREAM_AUTH = "upstream_auth"
UPSTREAM_RATE_LIMITED = "upstream_rate_limited"
UPSTREAM_OVERLOADED = "upstream_overloaded"
UPSTREAM_TIMEOUT = "upstream_timeout"
UPSTREAM_UNAVAILABLE = "upstream_unavailable"
UPSTREAM_ERROR = "upstream_error"
INTERNAL_ERROR = "internal_error"

ERROR_DETAILS = {
    UPSTREAM_AUTH: "The AI service refused our credentials. The site's operators have to fix this.",
    UPSTREAM_RATE_LIMITED: "The AI service is rate limiting us. Please try again in a minute.",
    UPSTREAM_OVERLOADED: "The AI service is overloaded right now. Please try again shortly.",
    UPSTREAM_TIMEOUT: "The AI service did not answer in time. Please try again.",
    UPSTREAM_UNAVAILABLE: "The AI service cannot be reached right now. Please try again later.",
    UPSTREAM_ERROR: "The AI service failed to answer. Please try again.",
    INTERNAL_ERROR: "Something went wrong on our side. Please try again.",
}


class ProviderError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
        self.detail = ERROR_DETAILS[code]


class ChatProvider(Protocol):
    name: str

    def stream(
        self, *, system: str, messages: Sequence[ProviderMessage], progress: ReplyProgress
    ) -> AsyncGenerator[str]: ...


# Anthropic's error types (https://docs.anthropic.com/en/api/errors), as sent in an error body or a
# mid-stream `error` event, and the HTTP statuses behind them.
_ERROR_TYPES = {
    "authentication_error": UPSTREAM_AUTH,
    "permission_error": UPSTREAM_AUTH,
    "rate_limit_error": UPSTREAM_RATE_LIMITED,
    "overloaded_error": UPSTREAM_OVERLOADED,
    "timeout_error": UPSTREAM_TIMEOUT,
}
_STATUSES = {401: UPSTREAM_AUTH, 403: UPSTREAM_AUTH, 429: UPSTREAM_RATE_LIMITED, 529: UPSTREAM_OVERLOADED}


def error_code_for(error: "anthropic.APIStatusError") -> str:
    body = error.body if isinstance(error.body, dict) else {}
    inner = body.get("error", body)
    error_type = inner.get("type") if isinstance(inner, dict) else None
    if isinstance(error_type, str) and error_type in _ERROR_TYPES:
        return _ERROR_TYPES[error_type]
    if error.status_code in _STATUSES:
        return _STATUSES[error.status_code]
    return UPSTREAM_UNAVAILABLE if error.status_code >= 500 else UPSTREAM_ERROR


def _message_param(message: ProviderMessage) -> "MessageParam":
    from anthropic.types import AssistantMessageParam, UserMessageParam

    if message.role == "user":
        return UserMessageParam(role="user", content=message.content)
    return AssistantMessageParam(role="assistant", content=message.content)


class AnthropicProvider:
    """Claude through the official SDK's `messages.stream`
    (https://docs.anthropic.com/en/api/messages-streaming)."""

    name = "anthropic"

    def __init__(
        self, *, api_key: str, base_url: str, model: str, max_tokens: int, timeout: float, max_retries: int
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url or None  # None: the SDK's default (or ANTHROPIC_BASE_URL, read by the SDK)
        self.model = model
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_retries = max_retries
        # One client (one connection pool) per event loop: the server has one loop for its lifetime, but
        # the no-JavaScript action runs each answer in a short-lived loop of its own (async_to_sync), and
        # pooled connections cannot move between loops.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anthropic.AsyncAnthropic] = (
            weakref.WeakKeyDictionary()
        )

    def client(self) -> "anthropic.AsyncAnthropic":
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            import anthropic

            client = anthropic.AsyncAnthropic(
                api_key=self.api_key,
                base_url=self.base_url,
                timeout=self.timeout,
                max_retries=self.max_retries,
            )
            self._clients[loop] = client
        return client

    async def release(self) -> None:
        """Close the running loop's client: for code that runs a loop of its own and then ends it."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()

    async def stream(
        self, *, system: str, messages: Sequence[ProviderMessage], progress: ReplyProgress
    ) -> AsyncGenerator[str]:
        import anthropic

        try:
            # Leaving this block for any reason (the end, an error, the consumer closing us because the
            # client went away) closes the HTTP response, so the upstream stops generating at once.
            async with self.client().messages.stream(
                model=self.model,
                max_tokens=self.max_tokens,
                system=system,
                messages=[_message_param(m) for m in messages],
            ) as stream:
                async for event in stream:
                    if event.type == "text":
                        yield event.text
                    elif event.type == "message_start":
                        progress.input_tokens = event.message.usage.input_tokens
                        progress.output_tokens = event.message.usage.output_tokens
                    elif event.type == "message_delta":
                        progress.output_tokens = event.usage.output_tokens
                        progress.stop_reason = event.delta.stop_reason or ""
        except anthropic.APIStatusError as error:
            # Also a mid-stream `error` event: the SDK raises it with status_code 200.
            raise ProviderError(error_code_for(error)) from error
        except anthropic.APITimeoutError as error:
            raise ProviderError(UPSTREAM_TIMEOUT) from error
        except anthropic.APIConnectionError as error:
            raise ProviderError(UPSTREAM_UNAVAILABLE) from error


DEMO_ANSWER = """\
**Demo mode** — this answer comes from Twofold's offline demo model, not from Claude. \
Set `ANTHROPIC_API_KEY` to talk to a real model.

You wrote: *{quote}*

What you are watching is the real thing, end to end:

1. Your message was saved, and counted against your plan's daily quota.
2. An **async** Django view streams this reply as server-sent events, one word at a time, on the \
event loop of the production ASGI server.
3. Your browser reads the stream with `fetch` and shows each word as it arrives; press **Stop** and \
the server closes the upstream request and keeps what was said so far.

```sh
curl -N -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
  -d '{{"message": "Hello"}}' http://127.0.0.1:8000/api/v1/chat/stream/
```

Mobile apps use the same endpoint with a personal API token."""


class DemoProvider:
    """A clearly labelled canned answer, streamed word by word at a human reading pace, so `make run`
    shows streaming with no keys at all."""

    name = "demo"

    def __init__(self, *, delay: float) -> None:
        self.delay = delay

    async def stream(
        self, *, system: str, messages: Sequence[ProviderMessage], progress: ReplyProgress
    ) -> AsyncGenerator[str]:
        question = messages[-1].content if messages else ""
        quote = " ".join(question.split())
        quote = (quote[:120] + "…") if len(quote) > 120 else quote
        # Inline Markdown in the user's words must not turn the quote into something else.
        quote = "".join(f"\\{c}" if c in "\\`*_[]<>" else c for c in quote)
        answer = DEMO_ANSWER.format(quote=quote or "(nothing)")
        progress.input_tokens = sum(len(m.content.split()) for m in messages) + len(system.split())
        jitter = random.Random(len(question))  # noqa: S311 - pacing, not security
        for word in answer.split(" "):
            if self.delay:
                await asyncio.sleep(self.delay * jitter.uniform(0.5, 1.5))
            progress.output_tokens += 1
            yield word + " "
        progress.stop_reason = "end_turn"


_providers: dict[tuple[object, ...], ChatProvider] = {}


def chat_provider() -> ChatProvider:
    """The configured provider, created once per process (per configuration, so tests can change it)."""
    key = (
        settings.ANTHROPIC_API_KEY,
        settings.ANTHROPIC_BASE_URL,
        settings.CHAT_MODEL,
        settings.CHAT_MAX_TOKENS,
        settings.CHAT_UPSTREAM_TIMEOUT,
        settings.CHAT_UPSTREAM_RETRIES,
        settings.CHAT_DEMO_DELAY,
    )
    provider = _providers.get(key)
    if provider is None:
        if settings.ANTHROPIC_API_KEY:
            provider = AnthropicProvider(
                api_key=settings.ANTHROPIC_API_KEY,
                base_url=settings.ANTHROPIC_BASE_URL,
                model=settings.CHAT_MODEL,
                max_tokens=settings.CHAT_MAX_TOKENS,
                timeout=settings.CHAT_UPSTREAM_TIMEOUT,
                max_retries=settings.CHAT_UPSTREAM_RETRIES,
            )
        else:
            provider = DemoProvider(delay=settings.CHAT_DEMO_DELAY)
        _providers[key] = provider
    return provider
