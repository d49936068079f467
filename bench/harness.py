"""The shared machinery of `make bench`: servers, readiness, load from wrk, memory from /proc.

Everything a benchmark needs to compare the production command against the anchor ("fastest Django":
the bare view through the full middleware stack on gunicorn sync workers) in the same run. A new
benchmark asks the `Context` for servers on a database, drives them with `wrk`, and returns a `Result`.
"""

import hashlib
import hmac
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parent.parent
BARE_PATH = "/__bench__/bare/"
# Django's signed-in floor (bench.urls.signed_in): the session's user loaded, a small template rendered.
SIGNED_IN_PATH = "/__bench__/signed-in/"
# The load PERFORMANCE.md measured with: one wrk thread, twenty open connections.
WRK_THREADS = 1
WRK_CONNECTIONS = 20
# The bench servers' Stripe webhook secret: events are signed with it (`stripe_signature`).
WEBHOOK_SECRET = "whsec_bench_0123456789abcdef0123456789abcdef"


class HarnessError(Exception):
    """The harness itself broke (a server did not start, wrk failed, a response was wrong)."""


# --- Results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A pass mark: the measured figure (a ratio, or a size) compared against `bound`."""

    op: Literal[">=", "<="]
    bound: float
    label: str  # as printed, e.g. "≥ 0.8" or "≤ 20 KB"

    def met_by(self, value: float) -> bool:
        return value >= self.bound if self.op == ">=" else value <= self.bound


@dataclass(frozen=True)
class Result:
    name: str
    value: str  # the benchmark's own figure, with its unit ("3512 req/s", "14.2 KB")
    anchor: str  # the anchor's figure measured in the same run ("2410 req/s"), or "—"
    ratio: float | None  # value / anchor, when the target is a ratio
    target: Target
    measured: float  # what the target is checked against (the ratio, or the size)
    rss_mb: float | None  # peak RSS of the measured server's process tree
    note: str = ""
    # value / Django's signed-in floor, for the signed-in rows measured against it too
    floor_ratio: float | None = None
    floor_target: Target | None = None

    @property
    def passed(self) -> bool:
        on_floor = self.floor_target is None or (
            self.floor_ratio is not None and self.floor_target.met_by(self.floor_ratio)
        )
        return self.target.met_by(self.measured) and on_floor


# --- Processes and memory ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def process_tree(root: int) -> list[int]:
    """The pid and every descendant's, from /proc (uvicorn and gunicorn fork their workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields resume after the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, stack = [], [root]
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(children.get(pid, []))
    return tree


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return total


class Server:
    """A server process started from a command, with its peak RSS sampled while it runs."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], port: int, log: Path) -> None:
        self.name = name
        self.port = port
        self.log = log
        self.peak_rss = 0
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            env=dict(env),
            cwd=ROOT,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole, never by name
        )
        self._stop_sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset_peak(self) -> None:
        """Start the peak over, so a benchmark's figure is not its setup's (logging in hashes a
        password with Argon2, which takes 100 MB for a moment)."""
        self.peak_rss = rss_bytes(process_tree(self.process.pid))

    def _sample(self) -> None:
        while not self._stop_sampling.wait(0.2):
            self.peak_rss = max(self.peak_rss, rss_bytes(process_tree(self.process.pid)))

    def wait_ready(self, path: str = BARE_PATH, timeout: float = 120.0) -> None:
        """Poll until `path` answers 200; the log is shown if the server dies or never answers. Start-up
        is not what is measured, and on a loaded shared machine importing the app alone can take 30 s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                status, _, _ = request("GET", self.base_url + path, timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        tail = self.log.read_text(errors="replace")[-2000:]
        raise HarnessError(f"{self.name} did not answer 200 on {path} within {timeout:.0f} s:\n{tail}")

    def stop(self) -> None:
        self._stop_sampling.set()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log_file.close()


# --- HTTP and load ----------------------------------------------------------------------------


def request(
    method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes = b"", timeout: float = 10
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One plain HTTP/1.1 request: status, headers (repeated ones kept), body. No cookie jar, no
    redirects: production cookies are `Secure`, which a jar would refuse to send over http."""
    match = re.fullmatch(r"http://([^/:]+):(\d+)(/.*)", url)
    if not match:
        raise HarnessError(f"not a loopback http URL: {url}")
    conn = http.client.HTTPConnection(match[1], int(match[2]), timeout=timeout)
    try:
        conn.request(method, match[3], body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def ensure_wrk() -> str:
    """wrk from PATH; installed with apt-get when running as root on Debian, else how to get it."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and Path("/etc/debian_version").exists():
        print("Installing wrk with apt-get…", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=False)  # noqa: S607
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)  # noqa: S607
        found = shutil.which("wrk")
        if found:
            return found
    raise HarnessError(
        "wrk is needed for `make bench`: `sudo apt-get install wrk` (Debian/Ubuntu), `brew install wrk` "
        "(macOS), or build it from https://github.com/wg/wrk."
    )


@dataclass(frozen=True)
class Load:
    """What wrk sends: a method, headers and a body (a Lua script is written for anything but GET),
    or a whole Lua `script` of its own (one that varies each request, e.g. `signed_events_script`)."""

    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    script: str = ""

    def lua(self) -> str:
        if self.script:
            return self.script

        def quote(text: str) -> str:
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

        lines = [f"wrk.method = {quote(self.method)}", f"wrk.body = {quote(self.body)}"]
        lines += [f"wrk.headers[{quote(k)}] = {quote(v)}" for k, v in self.headers.items()]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class WrkRun:
    requests_per_second: float
    latency_p50_ms: float
    latency_p99_ms: float
    requests: int
    bad_responses: int  # non-2xx/3xx
    socket_errors: int


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise HarnessError(f"unexpected wrk latency: {text!r}")
    return float(match[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}[match[2]]


def wrk(url: str, *, seconds: float, load: Load | None = None, scratch: Path) -> WrkRun:
    """Run wrk (a separate process on loopback) against `url` for `seconds`; parse its report."""
    command = [ensure_wrk(), f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{max(1, round(seconds))}s"]
    command += ["--latency", "--timeout", "10s"]
    if load is not None and (load.method != "GET" or load.body or load.headers or load.script):
        script = scratch / f"wrk-{abs(hash(load.lua()))}.lua"
        script.write_text(load.lua())
        command += ["-s", str(script)]
    out = subprocess.run(  # noqa: S603
        [*command, url], capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    if out.returncode != 0:
        raise HarnessError(f"wrk failed ({out.returncode}): {out.stderr or out.stdout}")
    return parse_report(out.stdout)


def parse_report(report: str) -> WrkRun:
    """The figures of a `wrk --latency` report."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", report)
    total = re.search(r"(\d+) requests in", report)
    if not rate or not total:
        raise HarnessError(f"wrk printed no rate: {report}")
    # The latency distribution's lines; "99%" alone would also match a "99.99%" elsewhere.
    p50 = re.search(r"^\s+50%\s+(\S+)$", report, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)$", report, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", report)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report)
    return WrkRun(
        requests_per_second=float(rate[1]),
        latency_p50_ms=_ms(p50[1]) if p50 else 0.0,
        latency_p99_ms=_ms(p99[1]) if p99 else 0.0,
        requests=int(total[1]),
        bad_responses=int(bad[1]) if bad else 0,
        # wrk counts a server closing a connection after its response (gunicorn sync) as a read
        # error; only connect errors and timeouts mean requests were lost.
        socket_errors=int(errors[1]) + int(errors[4]) if errors else 0,
    )


def checked(run: WrkRun, what: str) -> WrkRun:
    """A run whose responses were not all successes measures the wrong thing: refuse it."""
    if run.bad_responses or run.socket_errors:
        raise HarnessError(
            f"{what}: {run.bad_responses} non-2xx/3xx responses and {run.socket_errors} socket errors "
            f"out of {run.requests} requests"
        )
    return run


def stripe_signature(payload: str, *, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe sends: `t=<ts>,v1=hex(HMAC-SHA256(secret, "<ts>.<body>"))`
    (https://docs.stripe.com/webhooks#verify-manually)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def signed_events_script(events: Path) -> str:
    """A wrk Lua script that POSTs the signed events of `events` (one `signature<TAB>body` a line), each
    once, in order (wrk calls `request` once to check the script before it connects: the first event
    is never sent). Once they run out it sends an unsigned body, which the server answers 400: a run
    longer than its supply of events fails as a harness error instead of measuring duplicates."""
    return f"""wrk.method = "POST"
local events = {{}}
for line in io.lines({str(events)!r}) do
  local tab = line:find("\t", 1, true)
  events[#events + 1] = {{line:sub(1, tab - 1), line:sub(tab + 1)}}
end
local next_event = 0
request = function()
  next_event = next_event + 1
  local event = events[next_event] or {{"t=0,v1=exhausted", "{{}}"}}
  local headers = {{["Content-Type"] = "application/json", ["Stripe-Signature"] = event[1]}}
  return wrk.format(nil, nil, headers, event[2])
end
"""


def alternate(a: Callable[[], float], b: Callable[[], float], *, rounds: int) -> tuple[float, float]:
    """Measure A and B in alternating rounds (A B, B A, A B, …) so drift and noisy neighbours hit
    both alike; the median of each side is returned."""
    a_median, b_median = alternate_all([a, b], rounds=rounds)
    return a_median, b_median


def alternate_all(measures: list[Callable[[], float]], *, rounds: int) -> list[float]:
    """`alternate` for any number of sides: each round runs them all, in reverse order every other
    round (A B C, C B A, …); the median of each side, in the order given."""
    runs: list[list[float]] = [[] for _ in measures]
    for index in range(rounds):
        order = list(range(len(measures)))
        for side in order if index % 2 == 0 else reversed(order):
            runs[side].append(measures[side]())
    return [statistics.median(side) for side in runs]


# --- The servers under test -------------------------------------------------------------------


def production_env(*, database_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Production settings, as `make serve-prod` would get them, plus the bench-only URLconf
    (`bench.settings`: the project's settings with `bench.urls`)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "TWOFOLD_")) and key not in {"DATABASE_URL", "PORT"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "k" * 40,
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url,
            "PYTHONUNBUFFERED": "1",
            # Load from one address at thousands of requests a second is what DRF's throttles exist to
            # refuse: raised here so the API benchmarks measure the endpoints, not 429s.
            "API_THROTTLE_USER": "10000000/min",
            "API_THROTTLE_ANON": "10000000/min",
            # The webhook benchmark signs its events with this secret; tasks are stored for a worker
            # (none runs) as in production, so webhook ingest is measured without the processing.
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        }
    )
    env.update(extra or {})
    return env


def manage(env: Mapping[str, str], *args: str) -> str:
    """Run a management command with the servers' environment; its standard output."""
    out = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], env=dict(env), cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise HarnessError(f"manage.py {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
    return out.stdout


@dataclass
class Stack:
    """The anchor and the production command, both running on one database."""

    env: dict[str, str]
    anchor: Server
    production: Server


def postgres_url() -> str | None:
    """The PostgreSQL database a benchmark may use (BENCH_DATABASE_URL, else DATABASE_URL when it is
    PostgreSQL): migrated and seeded by `Context.stack`. None when there is none: skip the benchmark."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


class Context:
    """What benchmarks share in one run: a scratch directory, the process count, the time budget,
    and servers started on first use (one stack per database) and stopped at the end."""

    def __init__(self, *, processes: int, rounds: int, seconds: float) -> None:
        self.processes = processes
        self.rounds = rounds
        self.seconds = seconds
        self._tmp = tempfile.TemporaryDirectory(prefix="twofold-bench-")
        self.scratch = Path(self._tmp.name)
        self._stacks: dict[str, Stack] = {}
        self._static_collected = False
        # Work several benchmarks share, done once per run (e.g. the query counts of every page).
        self.memo: dict[str, object] = {}

    def stack(self, database_url: str | None = None) -> Stack:
        """The anchor (gunicorn, sync workers) and the production command on one database (a fresh
        SQLite file unless a URL is given), migrated and loaded with the demo data."""
        url = database_url or f"sqlite:///{self.scratch / 'bench.sqlite3'}"
        if url in self._stacks:
            return self._stacks[url]
        env = {**production_env(database_url=url), "BENCH_STATIC_ROOT": str(self.scratch / "static")}
        if not self._static_collected:
            manage(env, "collectstatic", "--noinput", "-v0")  # as `make serve-prod` does
            self._static_collected = True
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "seed_demo", "-v0")
        index = len(self._stacks)
        port = free_port()
        anchor = Server(
            "gunicorn (anchor)",
            [
                *(sys.executable, "-m", "gunicorn", "saas.wsgi:application"),
                *("--workers", str(self.processes), "--worker-class", "sync"),
                *("--bind", f"127.0.0.1:{port}"),
            ],
            env,
            port,
            self.scratch / f"anchor-{index}.log",
        )
        port = free_port()
        production = Server(
            "production (python -m saas.serve)",
            [sys.executable, "-m", "saas.serve"],
            # The production command as deployed: its access log stays on (written to a file here).
            {**env, "PORT": str(port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": str(self.processes)},
            port,
            self.scratch / f"production-{index}.log",
        )
        stack = Stack(env=env, anchor=anchor, production=production)
        self._stacks[url] = stack
        for server in (anchor, production):
            server.wait_ready()
        return stack

    def anchor_rate(self, stack: Stack) -> Callable[[], float]:
        """One measurement of the anchor: the bare view on gunicorn, requests per second."""
        return lambda: (
            checked(
                wrk(stack.anchor.base_url + BARE_PATH, seconds=self.seconds, scratch=self.scratch),
                "anchor",
            ).requests_per_second
        )

    def floor_rate(self, stack: Stack, session: Mapping[str, str]) -> Callable[[], float]:
        """One measurement of Django's signed-in floor: the signed-in view on the anchor's gunicorn,
        with the session cookie of `session` (see `bench.benchmarks.log_in`), requests per second."""
        load = Load(headers={"Cookie": "; ".join(f"{k}={v}" for k, v in session.items())})
        url = stack.anchor.base_url + SIGNED_IN_PATH
        status, _, body = request("GET", url, headers=load.headers)
        if status != 200:
            raise HarnessError(f"Django's signed-in floor did not see a session: {status} {body[:300]!r}")
        return lambda: (
            (
                checked(wrk(url, seconds=self.seconds, load=load, scratch=self.scratch), "signed-in floor")
            ).requests_per_second
        )

    def warm_up(self, url: str, load: Load | None = None) -> None:
        wrk(url, seconds=1, load=load, scratch=self.scratch)

    def close(self) -> None:
        for stack in self._stacks.values():
            stack.anchor.stop()
            stack.production.stop()
        self._tmp.cleanup()


@contextmanager
def context(*, processes: int, rounds: int, seconds: float) -> Iterator[Context]:
    ctx = Context(processes=processes, rounds=rounds, seconds=seconds)
    try:
        yield ctx
    finally:
        ctx.close()


def mb(value: int) -> float:
    return round(value / (1024 * 1024), 1)
