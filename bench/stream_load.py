"""The load client of the chat stream benchmarks: N concurrent POST streams, each delta's delay measured.

`bench.streams` runs it as a process of its own (`python -m bench.stream_load …`), so its work is not
the measured server's; it prints one JSON object. Raw asyncio sockets on uvloop, not an HTTP library:
the client shares two cores with the server and the fake upstream, and must stay cheap.

**Added latency per token**: the fake upstream (`bench.fake_anthropic --stamp`) appends to each
delta's text the `time.monotonic()` at which it wrote it (`" word|12345.678901"`); the client reads
the clock when the bytes holding that delta arrive. CLOCK_MONOTONIC is one clock for every process of
the machine, so `arrival - stamp` is what the server (and the loopback between) added to that token.
Steady state only: the first `skip` deltas of each stream (connection setup, the SDK's first parse)
are not counted.
"""

import argparse
import asyncio
import json
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

STAMP = re.compile(rb'\|(\d+\.\d+)"\}')


@dataclass
class StreamOutcome:
    """How one stream ended: `done`, `error` (an error event), `status <code>`, `closed` (the server
    ended the response without a last event), `timeout` or `connect` (no connection)."""

    end: str = "closed"
    deltas: int = 0
    # (sent, delay) in seconds of each delta after the first `skip`
    timings: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    streams: int
    completed: int  # ended with `done`
    ends: dict[str, int]  # every way the streams ended, with counts
    deltas: int
    measured: int  # the steady-state deltas behind the percentiles
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    seconds: float

    @property
    def errors(self) -> int:
        return self.streams - self.completed

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "errors": self.errors}


def request_bytes(*, host: str, port: int, path: str, token: str, message: str) -> bytes:
    body = json.dumps({"message": message}).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def read_events(complete: bytes, now: float, outcome: StreamOutcome, skip: int) -> None:
    """Account for a run of whole events (ending in a blank line) that arrived at `now`."""
    for stamp in STAMP.findall(complete):
        if outcome.deltas >= skip:
            sent = float(stamp)
            outcome.timings.append((sent, now - sent))
        outcome.deltas += 1
    if b"event: done\n" in complete:
        outcome.end = "done"
    elif b"event: error\n" in complete:
        outcome.end = "error"


async def stream_once(
    *, host: str, port: int, path: str, token: str, message: str, skip: int
) -> StreamOutcome:
    """One POST, its SSE answer read to its last event."""
    outcome = StreamOutcome()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        outcome.end = "connect"
        return outcome
    try:
        writer.write(request_bytes(host=host, port=port, path=path, token=token, message=message))
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            outcome.end = f"status {status}"
            return outcome
        buffer = b""
        while outcome.end == "closed":
            data = await reader.read(65536)
            if not data:
                break
            now = time.monotonic()
            buffer += data
            # Events are whole between blank lines; chunked framing only ever falls between events
            # (the server writes one event per chunk), so it needs no decoding to be skipped.
            cut = buffer.rfind(b"\n\n")
            if cut >= 0:
                read_events(buffer[: cut + 2], now, outcome, skip)
                buffer = buffer[cut + 2 :]
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
        outcome.end = "closed"
    finally:
        writer.close()
    return outcome


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values."""
    index = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered) - 1e-9) - 1))
    return ordered[index]


def steady_delays(outcomes: Sequence[StreamOutcome]) -> list[float]:
    """The delays of the deltas sent while every stream was open (after each stream's first `skip`
    deltas, before any stream's last), sorted; all measured ones if the streams never overlapped."""
    streams = [o.timings for o in outcomes if o.timings]
    if not streams:
        return []
    opened = max(timings[0][0] for timings in streams)
    closing = min(timings[-1][0] for timings in streams)
    every = [(sent, delay) for timings in streams for sent, delay in timings]
    steady = [delay for sent, delay in every if opened <= sent < closing]
    return sorted(steady or [delay for _, delay in every])


def summarize(outcomes: Sequence[StreamOutcome], seconds: float) -> Report:
    delays = steady_delays(outcomes)
    ends = Counter(o.end for o in outcomes)

    def ms(fraction: float) -> float | None:
        return round(percentile(delays, fraction) * 1000, 2) if delays else None

    return Report(
        streams=len(outcomes),
        completed=ends.get("done", 0),
        ends=dict(ends),
        deltas=sum(o.deltas for o in outcomes),
        measured=len(delays),
        p50_ms=ms(0.50),
        p99_ms=ms(0.99),
        max_ms=round(delays[-1] * 1000, 2) if delays else None,
        seconds=round(seconds, 2),
    )


async def run_load(
    *,
    url: str,
    tokens: Sequence[str],
    concurrency: int,
    ramp: float = 1.0,
    skip: int = 10,
    stream_timeout: float = 60.0,
    message: str = "Benchmark: say something long.",
) -> Report:
    """Open `concurrency` streams, started evenly over `ramp` seconds (a burst of simultaneous
    connects measures the accept queue, not streaming), each with the next bearer token in turn;
    a stream still running after `stream_timeout` seconds counts as `timeout`."""
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"

    async def one(index: int) -> StreamOutcome:
        await asyncio.sleep(ramp * index / concurrency)
        token = tokens[index % len(tokens)] if tokens else ""
        try:
            return await asyncio.wait_for(
                stream_once(host=host, port=port, path=path, token=token, message=message, skip=skip),
                stream_timeout,
            )
        except TimeoutError:
            return StreamOutcome(end="timeout")

    started = time.monotonic()
    outcomes = await asyncio.gather(*(one(i) for i in range(concurrency)))
    return summarize(outcomes, time.monotonic() - started)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stream_load", description=__doc__)
    parser.add_argument("url", help="the stream endpoint, e.g. http://127.0.0.1:8123/api/v1/chat/stream/")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--tokens-file", help="bearer tokens, one a line, used in turn")
    parser.add_argument("--ramp", type=float, default=1.0, help="seconds over which the streams start")
    parser.add_argument("--skip", type=int, default=10, help="first deltas of each stream not measured")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a stream may take")
    args = parser.parse_args(argv)
    tokens: list[str] = []
    if args.tokens_file:
        with open(args.tokens_file) as file:
            tokens = [line.strip() for line in file if line.strip()]
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    report = runner(
        run_load(
            url=args.url,
            tokens=tokens,
            concurrency=args.concurrency,
            ramp=args.ramp,
            skip=args.skip,
            stream_timeout=args.timeout,
        )
    )
    json.dump(report.as_dict(), sys.stdout)
    print()


if __name__ == "__main__":
    main()
