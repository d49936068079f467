import asyncio
import socket
import sys
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bench.fake_anthropic import FakeAnthropic, Script, start_fake_anthropic
from bench.harness import Server, free_port
from bench.stream_load import StreamOutcome, percentile, read_events, run_load, steady_delays, summarize

pytestmark = pytest.mark.bench


def in_new_loop[T](coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine in a thread of its own: other tests (Playwright's sync API) may leave an event
    loop running in this one, where asyncio.run() refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(30)


def test_each_stamped_delta_is_timed_after_the_first_skipped_ones() -> None:
    outcome = StreamOutcome()
    events = b"".join(
        b'event: delta\ndata: {"text":" word|%.6f"}\n\n' % sent for sent in (100.0, 100.02, 100.04)
    )

    read_events(events, 100.05, outcome, skip=1)

    assert outcome.deltas == 3
    assert [round(delay, 3) for _, delay in outcome.timings] == [0.03, 0.01]
    assert outcome.end == "closed"  # no last event yet
    read_events(b'event: done\ndata: {"message_id":1}\n\n', 100.06, outcome, skip=1)
    assert outcome.end == "done"


def test_an_error_event_ends_the_stream_as_an_error() -> None:
    outcome = StreamOutcome()

    read_events(b'event: error\ndata: {"code":"upstream_overloaded"}\n\n', 1.0, outcome, skip=0)

    assert outcome.end == "error"


def test_only_deltas_sent_while_every_stream_was_open_count() -> None:
    early = StreamOutcome(end="done", timings=[(1.0, 0.5), (2.0, 0.002), (3.0, 0.004)])
    late = StreamOutcome(end="done", timings=[(2.0, 0.003), (3.5, 0.001), (4.0, 0.9)])

    # Both open from 2.0 (late's first) until 3.0 (early's last): the ramp's 0.5 s and the tail's 0.9 s
    # are left out.
    assert steady_delays([early, late]) == [0.002, 0.003]


def test_streams_that_never_overlap_are_measured_whole() -> None:
    first = StreamOutcome(end="done", timings=[(1.0, 0.01), (2.0, 0.02)])
    second = StreamOutcome(end="done", timings=[(3.0, 0.03)])

    assert steady_delays([first, second]) == [0.01, 0.02, 0.03]


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]

    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.99) == 7


def test_the_report_counts_every_way_a_stream_ended() -> None:
    report = summarize(
        [
            StreamOutcome(end="done", deltas=2, timings=[(1.0, 0.004)]),
            StreamOutcome(end="status 429"),
            StreamOutcome(end="timeout"),
        ],
        seconds=3.21,
    )

    assert (report.streams, report.completed, report.errors) == (3, 1, 2)
    assert report.ends == {"done": 1, "status 429": 1, "timeout": 1}
    assert (report.p50_ms, report.p99_ms, report.measured) == (4.0, 4.0, 1)


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    upstream = start_fake_anthropic(script=Script(tokens=12, token_interval=0.005, stamp=True))
    yield upstream
    upstream.stop()


@pytest.fixture
def proxy(fake: FakeAnthropic, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    server = Server(
        "proxy",
        [sys.executable, "-m", "uvicorn", "bench.stream_proxy:app", "--port", str(port), "--no-access-log"],
        {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.url, "PATH": "/usr/bin:/bin"},
        port,
        tmp_path / "proxy.log",
    )
    server.wait_ready("/")
    yield server
    server.stop()


def test_concurrent_streams_through_the_proxy_are_all_timed(proxy: Server, fake: FakeAnthropic) -> None:
    report = in_new_loop(
        run_load(url=proxy.base_url + "/stream/", tokens=[], concurrency=4, ramp=0.05, skip=2)
    )

    assert report.ends == {"done": 4}
    assert report.deltas == 4 * 12
    assert 0 < report.measured <= 4 * 10
    assert report.p50_ms is not None
    assert 0 <= report.p50_ms < 1000
    assert len(fake.records) == 4


def test_a_refused_stream_is_counted_by_its_status(fake: FakeAnthropic) -> None:
    # The fake answers 404 to anything but its messages path.
    report = in_new_loop(run_load(url=fake.url + "/elsewhere/", tokens=["t"], concurrency=2, ramp=0))

    assert report.ends == {"status 404": 2}
    assert report.errors == 2
    assert report.p99_ms is None


def test_a_server_that_is_not_there_is_a_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        report = in_new_loop(run_load(url=f"http://127.0.0.1:{port}/", tokens=[], concurrency=1, ramp=0))

    assert report.ends == {"connect": 1}


def test_a_stream_that_stalls_is_cut_at_its_timeout() -> None:
    upstream = start_fake_anthropic(script=Script(hang=True))
    try:
        report = in_new_loop(
            run_load(url=upstream.url + "/v1/messages", tokens=[], concurrency=1, ramp=0, stream_timeout=0.2)
        )
    finally:
        upstream.stop()

    assert report.ends == {"timeout": 1}
