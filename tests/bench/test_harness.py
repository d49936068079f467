import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import stripe

from bench.__main__ import table
from bench.harness import (
    Load,
    Result,
    Target,
    _ms,
    alternate,
    alternate_all,
    parse_report,
    process_tree,
    rss_bytes,
    signed_events_script,
    stripe_signature,
    wrk,
)

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parent.parent.parent


def test_targets_compare_each_way() -> None:
    assert Target(">=", 0.8, "≥ 0.8").met_by(0.8)
    assert not Target(">=", 0.8, "≥ 0.8").met_by(0.79)
    assert Target("<=", 20, "≤ 20 KB").met_by(19.9)
    assert not Target("<=", 20, "≤ 20 KB").met_by(20.1)


def test_the_lua_script_quotes_what_it_sends() -> None:
    script = Load(method="POST", headers={"X-CSRFToken": 'a"b'}, body="bio=line\\one\ntwo").lua()

    assert 'wrk.method = "POST"' in script
    assert 'wrk.body = "bio=line\\\\one\\ntwo"' in script
    assert 'wrk.headers["X-CSRFToken"] = "a\\"b"' in script


def test_wrk_latencies_are_read_in_milliseconds() -> None:
    assert _ms("850.00us") == pytest.approx(0.85)
    assert _ms("12.5ms") == 12.5
    assert _ms("1.20s") == 1200.0


def test_rounds_alternate_and_report_medians() -> None:
    calls: list[str] = []
    a_rates, b_rates = iter([10.0, 30.0, 20.0]), iter([1.0, 3.0, 2.0])

    def a() -> float:
        calls.append("a")
        return next(a_rates)

    def b() -> float:
        calls.append("b")
        return next(b_rates)

    assert alternate(a, b, rounds=3) == (20.0, 2.0)
    assert calls == ["a", "b", "b", "a", "a", "b"]


def test_the_process_tree_and_its_memory_come_from_proc() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        tree = process_tree(os.getpid())
        assert tree[0] == os.getpid()
        assert child.pid in tree
        assert rss_bytes(tree) > rss_bytes([os.getpid()]) > 10 * 1024 * 1024
    finally:
        child.kill()
        child.wait()


def test_the_table_marks_missed_targets_without_failing() -> None:
    results = [
        Result("bare", "3,000 req/s", "2,500 req/s", 1.2, Target(">=", 0.8, "≥ 0.8"), 1.2, 85.0),
        Result("js", "25.0 KB", "—", None, Target("<=", 20, "≤ 20 KB"), 25.0, None),
    ]

    lines = table(results).splitlines()

    assert lines[0].split()[:2] == ["benchmark", "rate"]
    assert "1.20" in lines[2]
    assert "✔" in lines[2]
    assert "85 MB" in lines[2]
    assert "✘ MISSED" in lines[3]


def test_three_sides_alternate_in_reverse_every_other_round() -> None:
    calls: list[str] = []

    def side(name: str, rates: list[float]) -> Callable[[], float]:
        values = iter(rates)

        def measure() -> float:
            calls.append(name)
            return next(values)

        return measure

    medians = alternate_all(
        [side("a", [1.0, 5.0, 3.0]), side("b", [20.0, 10.0, 30.0]), side("c", [7.0, 8.0, 9.0])], rounds=3
    )

    assert medians == [3.0, 20.0, 8.0]
    assert calls == ["a", "b", "c", "c", "b", "a", "a", "b", "c"]


def test_a_row_measured_against_the_floor_must_meet_both_targets() -> None:
    def row(floor_ratio: float | None) -> Result:
        return Result(
            "profile",
            "900 req/s",
            "2,000 req/s",
            0.45,
            Target(">=", 1 / 3, "≥ 0.33"),
            0.45,
            90.0,
            floor_ratio=floor_ratio,
            floor_target=Target(">=", 0.7, "≥ 0.7"),
        )

    on_both, under_the_floor, floor_unmeasured = row(0.85), row(0.6), row(None)
    plain = Result("bare", "3,000 req/s", "2,500 req/s", 1.2, Target(">=", 0.8, "≥ 0.8"), 1.2, 85.0)

    assert (on_both.passed, under_the_floor.passed, floor_unmeasured.passed, plain.passed) == (
        True,
        False,
        False,
        True,
    )
    lines = table([plain, on_both, under_the_floor]).splitlines()
    header = lines[0]
    assert "÷ floor" in header
    assert "floor target" in header
    column = header.index("÷ floor")
    assert lines[2][column:].split()[0] == "—"  # the bare view is not measured against the floor
    assert lines[3][column:].split()[:3] == ["0.85", "≥", "0.7"]
    assert lines[3].rstrip().endswith("90 MB")
    assert "✔" in lines[3]
    assert lines[4][column:].split()[0] == "0.60"
    assert "✘ MISSED" in lines[4]


class _Target(ThreadingHTTPServer):
    # http.server's default backlog of 5 drops most of wrk's 20 connections on a busy machine, and a
    # dropped SYN waits a second to be retried: longer than the run.
    request_queue_size = 128
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status = 200 if self.path == "/ok.txt" else 404
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
def test_wrk_reports_rate_and_bad_responses(tmp_path: Path) -> None:
    server = _Target(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        found = wrk(f"http://127.0.0.1:{port}/ok.txt", seconds=1, scratch=tmp_path)
        missing = wrk(f"http://127.0.0.1:{port}/missing", seconds=1, scratch=tmp_path)
    finally:
        server.shutdown()
        server.server_close()

    assert found.requests > 0
    assert found.requests_per_second > 0
    assert found.bad_responses == 0
    assert 0 < missing.bad_responses <= missing.requests


def test_latency_percentiles_are_read_from_the_distribution() -> None:
    report = """Running 1s test @ http://127.0.0.1:1/
  1 threads and 20 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    1.20ms  21.00ms   99.99%
    Req/Sec     3.75k   441.94     4.70k    86.00%
  Latency Distribution
     50%    4.90ms
     75%    5.50ms
     90%    6.10ms
     99%   12.40ms
  3750 requests in 1.00s, 1.00MB read
Requests/sec:   3750.00
"""
    assert parse_report(report).latency_p99_ms == 12.4
    assert parse_report(report).latency_p50_ms == 4.9


def test_stripe_signatures_verify_with_the_stripe_sdk() -> None:
    body = json.dumps({"id": "evt_1", "object": "event"})
    header = stripe_signature(body, secret="whsec_abc", timestamp=int(time.time()))

    stripe.WebhookSignature.verify_header(body, header, "whsec_abc", tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body + " ", header, "whsec_abc", tolerance=300)


class _Recorder(BaseHTTPRequestHandler):
    """Answers 200 to a correctly signed body and 400 to anything else, recording what it got."""

    received: list[tuple[str, str]]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        signature = self.headers["Stripe-Signature"]
        self.received.append((signature, body))
        try:
            stripe.WebhookSignature.verify_header(body, signature, "whsec_abc", tolerance=300)
            status = 200
        except stripe.SignatureVerificationError:
            status = 400
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # wrk opens twenty connections at once; the default backlog of 5 resets some


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    received: list[tuple[str, str]] = []
    handler = type("Handler", (_Recorder,), {"received": received})
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
def test_wrk_posts_each_signed_event_once_then_fails_loudly(
    tmp_path: Path, recorder: tuple[str, list[tuple[str, str]]]
) -> None:
    url, received = recorder
    timestamp = int(time.time())
    events = tmp_path / "events.tsv"
    bodies = [json.dumps({"id": f"evt_{n}", "object": "event"}) for n in range(30)]
    events.write_text(
        "".join(f"{stripe_signature(b, secret='whsec_abc', timestamp=timestamp)}\t{b}\n" for b in bodies)
    )

    run = wrk(url, seconds=1, load=Load(script=signed_events_script(events)), scratch=tmp_path)

    # Every event went out exactly once (but the first, which wrk takes to check the script); what
    # came after them was refused, which the harness reports as an error.
    signed = sorted(body for signature, body in received if signature != "t=0,v1=exhausted")
    assert signed == sorted(bodies[1:])
    assert run.requests > 29
    assert run.bad_responses == run.requests - 29
