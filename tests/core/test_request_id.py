"""X-Request-ID on every response and on every log line (core/request_id.py)."""

import gzip
import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from core.request_id import JsonFormatter, RequestIdFilter, request_id_resolve
from tests.prod_server import ROOT, running_app

GENERATED = re.compile(r"[0-9a-f]{32}")
logger = logging.getLogger("tests.request_id")


def boom(request: HttpRequest) -> HttpResponse:
    logger.warning("about to fail")
    raise RuntimeError("boom")


urlpatterns = [path("boom/", boom), path("", include("saas.urls"))]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What LOG_FORMAT=json prints, captured: the settings' formatter and filter on the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 200), ("/guide/", 200), ("/api/schema/", 200), ("/api/v1/me/", 401), ("/nowhere/", 404)],
)
def test_pages_api_and_errors_carry_a_generated_id(client: Client, path: str, status: int) -> None:
    response = client.get(path)

    assert response.status_code == status
    assert GENERATED.fullmatch(response["X-Request-ID"])


@pytest.mark.django_db
def test_health_checks_carry_it_before_any_other_middleware_answers(client: Client) -> None:
    first, second = client.get("/healthz"), client.get("/readyz", headers={"X-Request-ID": "lb-check-7"})

    assert first.status_code == 200
    assert GENERATED.fullmatch(first["X-Request-ID"])
    assert second["X-Request-ID"] == "lb-check-7"


@pytest.mark.django_db
def test_each_request_gets_its_own_id(client: Client) -> None:
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


@pytest.mark.django_db
def test_a_well_formed_incoming_id_is_kept(client: Client) -> None:
    incoming = "req-01J9Z3.abc:42_x"

    assert client.get("/", headers={"X-Request-ID": incoming})["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "",
        "x" * 129,
        "has space",
        "line\nbreak",
        'quote"injection',
        "-starts-with-a-dash",
        "ünïcode",
        '{"level": "CRITICAL"}',
    ],
)
def test_a_malformed_incoming_id_is_replaced_not_echoed(incoming: str) -> None:
    assert GENERATED.fullmatch(request_id_resolve(incoming))
    assert GENERATED.fullmatch(request_id_resolve(incoming.encode()))


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_500_carries_it_and_its_json_log_lines_name_it(json_log: io.StringIO) -> None:
    client = Client(raise_request_exception=False)

    response = client.get("/boom/", headers={"X-Request-ID": "trace-500"})

    assert response.status_code == 500
    assert response["X-Request-ID"] == "trace-500"
    lines = log_lines(json_log)
    ours = next(line for line in lines if line["message"] == "about to fail")
    assert ours == ours | {"level": "WARNING", "logger": "tests.request_id", "request_id": "trace-500"}
    error = next(line for line in lines if line["logger"] == "django.request")
    assert error["request_id"] == "trace-500"
    assert "RuntimeError: boom" in error["exc_info"]


def test_json_lines_outside_a_request_and_extra_fields() -> None:
    record = logging.makeLogRecord({"name": "worker", "levelname": "INFO", "msg": "task %s", "args": (7,)})
    record.task_id = "t-1"
    RequestIdFilter().filter(record)

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "task 7"
    assert line["request_id"] == "-"
    assert line["task_id"] == "t-1"


# --- The production command: `python -m saas.serve` with LOG_FORMAT=json ---------------------------


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    scratch = tmp_path_factory.mktemp("prod")
    with running_app(
        scratch,
        DJANGO_SETTINGS_MODULE="tests.server_settings",
        WEB_MAX_BODY_BYTES="1024",
        WEB_ACCESS_LOG="true",
        LOG_FORMAT="json",
    ) as (base, _):
        yield base, scratch / "server.log"


def test_production_server_answers_every_path_with_the_id(production: tuple[str, Path]) -> None:
    base, _ = production
    sync = httpx.get(base + "/plain/", headers={"X-Request-ID": "edge-1"})
    asynchronous = httpx.get(base + "/async/")
    health = httpx.get(base + "/healthz")
    too_large = httpx.post(base + "/echo/x", content=b"x" * 2048)

    assert sync.headers["x-request-id"] == "edge-1"
    assert GENERATED.fullmatch(asynchronous.headers["x-request-id"])
    assert GENERATED.fullmatch(health.headers["x-request-id"])
    assert too_large.status_code == 413
    assert GENERATED.fullmatch(too_large.headers["x-request-id"])
    # One id per response, never two (the server's edge and Django agree on it).
    assert sync.headers.get_list("x-request-id") == ["edge-1"]


def test_production_logs_are_one_json_object_per_line_with_the_id(production: tuple[str, Path]) -> None:
    base, output = production
    httpx.get(base + "/plain/", headers={"X-Request-ID": "access-9"})
    deadline = time.monotonic() + 5
    while "access-9" not in output.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)

    lines = [json.loads(line) for line in output.read_text().splitlines() if line.strip()]

    access = [line for line in lines if line["logger"] == "uvicorn.access" and "/plain/" in line["message"]]
    assert access, lines
    assert access[-1]["request_id"] == "access-9"
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # startup lines are JSON too


# --- Sentry, when SENTRY_DSN is set ------------------------------------------------------------------


class SentryIngest(BaseHTTPRequestHandler):
    """Stands in for Sentry's ingest endpoint: keeps each envelope the SDK posts."""

    envelopes: list[bytes] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]

            body = brotli.decompress(body)
        self.envelopes.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


SENTRY_SCRIPT = """
import os, django, sentry_sdk
django.setup()
from django.test import Client, override_settings
with override_settings(ROOT_URLCONF=os.environ["TEST_URLCONF"]):
    response = Client(raise_request_exception=False).get("/boom/", headers={"X-Request-ID": "sentry-1"})
assert response.status_code == 500
sentry_sdk.flush(timeout=5)
"""


def test_sentry_reports_an_unhandled_error_tagged_with_the_request_id() -> None:
    ingest = ThreadingHTTPServer(("127.0.0.1", 0), SentryIngest)
    threading.Thread(target=ingest.serve_forever, daemon=True).start()
    SentryIngest.envelopes.clear()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "TEST_URLCONF": __name__,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "SENTRY_DSN": f"http://public@127.0.0.1:{ingest.server_address[1]}/1",
    }
    try:
        subprocess.run([sys.executable, "-c", SENTRY_SCRIPT], env=env, cwd=ROOT, check=True, timeout=180)
    finally:
        ingest.shutdown()

    lines = [line for envelope in SentryIngest.envelopes for line in envelope.splitlines() if line]
    items = [json.loads(line) for line in lines]
    events = [item for item in items if item.get("exception")]
    assert events, items
    event = events[0]
    assert event["tags"]["request_id"] == "sentry-1"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert "django" in event["sdk"]["integrations"]
    assert "anthropic" not in event["sdk"]["integrations"]


def test_without_sentry_dsn_the_sdk_is_not_started() -> None:
    import sentry_sdk

    assert not sentry_sdk.get_client().is_active()
