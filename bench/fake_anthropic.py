"""A local stand-in for Anthropic's Messages API that the real SDK talks to (ANTHROPIC_BASE_URL).

It speaks the documented streaming wire format (https://docs.anthropic.com/en/api/messages-streaming):
`message_start`, `content_block_*`, `ping`, `message_delta`, `message_stop`, and on demand a mid-stream
`error` event, an HTTP error before the stream, or no answer at all. It records each request and notices
when a client closes a stream early. Plain asyncio, one event loop in a background thread, so it carries
hundreds of concurrent streams (the benchmark) as easily as one (the tests):

    fake = start_fake_anthropic(token_interval=0.02, tokens=150)
    ... ANTHROPIC_BASE_URL=fake.url ...
    fake.stop()

or standalone: `python -m bench.fake_anthropic --port 9100 --interval 0.02 --tokens 150`.
"""

import argparse
import asyncio
import contextlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

WORDS = [
    "Streaming",
    "keeps",
    "people",
    "reading",
    "while",
    "the",
    "model",
    "is",
    "still",
    "writing",
    "the",
    "rest",
    "of",
    "its",
    "answer",
]


@dataclass
class Script:
    """What the next requests get. `http_status` answers with that HTTP error before any stream;
    `error_after` sends a mid-stream `error` event after that many deltas; `hang` never answers."""

    tokens: int = 5
    token_interval: float = 0.0
    http_status: int | None = None
    error_type: str = "overloaded_error"
    error_after: int | None = None
    hang: bool = False
    stop_reason: str = "end_turn"
    input_tokens: int = 12
    stamp: bool = False  # append "|<time.monotonic()>" to each delta's text: when it left (the benchmark)
    texts: tuple[str, ...] = ()  # the deltas' texts, in place of `tokens` words (e.g. Markdown, hostile HTML)


@dataclass
class Record:
    body: dict[str, Any]
    headers: dict[str, str]
    started: float
    closed_early_at: float | None = None  # when the client went away before the end of the stream
    finished: bool = False


ERROR_STATUS_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def token_text(index: int) -> str:
    return ("" if index == 0 else " ") + WORDS[index % len(WORDS)]


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


class FakeAnthropic:
    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self.records: list[Record] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.open_streams = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- HTTP/1.1, just enough: keep-alive, Content-Length bodies, chunked responses -----------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if method != "POST" or not path.startswith("/v1/messages"):
                    await self._json(writer, 404, {"type": "error", "error": {"type": "not_found_error"}})
                    continue
                keep_going = await self._messages(reader, writer, json.loads(body or b"{}"), headers)
                if not keep_going:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _json(self, writer: asyncio.StreamWriter, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            f"request-id: req_fake\r\nretry-after-ms: 0\r\n\r\n".encode()
            + body
        )
        await writer.drain()

    async def _messages(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: dict[str, Any], headers: Any
    ) -> bool:
        script = self.script
        record = Record(body=body, headers=headers, started=time.monotonic())
        self.records.append(record)
        if script.hang:
            await reader.read()  # until the client gives up
            record.closed_early_at = time.monotonic()
            return False
        if script.http_status is not None:
            error_type = ERROR_STATUS_TYPES.get(script.http_status, "api_error")
            payload = {"type": "error", "error": {"type": error_type, "message": f"fake {error_type}"}}
            await self._json(writer, script.http_status, payload)
            return True
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"request-id: req_fake\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        # A client that leaves closes its socket: reading sees the end at once, long before a write fails.
        gone = asyncio.ensure_future(reader.read(1))
        self.open_streams += 1
        try:
            for event in self._events(script):
                if isinstance(event, float):
                    done, _ = await asyncio.wait({gone}, timeout=event)
                    if done:
                        record.closed_early_at = time.monotonic()
                        return False
                    continue
                writer.write(b"%x\r\n%s\r\n" % (len(event), event))
                await writer.drain()
                if gone.done():
                    record.closed_early_at = time.monotonic()
                    return False
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            record.finished = True
        except ConnectionError:
            record.closed_early_at = time.monotonic()
            return False
        finally:
            self.open_streams -= 1
            if not gone.done():
                gone.cancel()
        return False  # the reader task owns the socket's read side now: one stream per connection

    def _events(self, script: Script) -> Any:
        model = "claude-fake"
        yield sse(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_fake",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": model,
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": script.input_tokens, "output_tokens": 1},
                },
            },
        )
        yield sse(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
        yield sse("ping", {"type": "ping"})
        count = len(script.texts) or script.tokens
        for index in range(count):
            if script.error_after is not None and index == script.error_after:
                yield sse(
                    "error",
                    {
                        "type": "error",
                        "error": {"type": script.error_type, "message": "fake mid-stream error"},
                    },
                )
                return
            if script.token_interval:
                yield script.token_interval
            yield sse(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {
                        "type": "text_delta",
                        "text": (script.texts[index] if script.texts else token_text(index))
                        + (f"|{time.monotonic():.6f}" if script.stamp else ""),
                    },
                },
            )
            if index == count // 2:
                yield sse("ping", {"type": "ping"})
        yield sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        yield sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": script.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": count},
            },
        )
        yield sse("message_stop", {"type": "message_stop"})

    # --- Lifecycle ------------------------------------------------------------------------------------
    def start(self, port: int = 0) -> "FakeAnthropic":
        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", port, backlog=1024)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-anthropic", daemon=True)
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)


def start_fake_anthropic(
    *, port: int = 0, token_interval: float = 0.0, tokens: int = 5, script: Script | None = None
) -> FakeAnthropic:
    """Start the fake on `port` (0: any free one) in a background thread; `.url` is its base URL."""
    return FakeAnthropic(script or Script(tokens=tokens, token_interval=token_interval)).start(port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between tokens")
    parser.add_argument("--tokens", type=int, default=150)
    parser.add_argument("--stamp", action="store_true", help="append each delta's send time to its text")
    args = parser.parse_args()
    script = Script(tokens=args.tokens, token_interval=args.interval, stamp=args.stamp)
    fake = start_fake_anthropic(port=args.port, script=script)
    print(
        f"Fake Anthropic on {fake.url} ({args.tokens} tokens, one every {args.interval * 1000:.0f} ms)",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    fake.stop()


if __name__ == "__main__":
    main()
