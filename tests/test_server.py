"""saas/server.py under the real production command (`python -m saas.serve`, uvicorn) on a free port."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from saas.server import is_async_path

ROOT = Path(__file__).resolve().parent.parent
MAX_BODY = 4096


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    scratch = tmp_path_factory.mktemp("server")
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DJANGO_DEBUG": "false",
        "DJANGO_ROOT_URLCONF": "tests.server_urls",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "WEB_MAX_BODY_BYTES": str(MAX_BODY),
        "WEB_ACCESS_LOG": "false",
    }
    log = (scratch / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "saas.serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the server did not start:\n" + (scratch / "server.log").read_text())
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def fetch(
    port: int,
    method: str,
    target: str,
    *,
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest(method, target)
    for name, value in headers or []:
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def echo(port: int, method: str, target: str, **kwargs: Any) -> dict[str, Any]:
    response, data = fetch(port, method, target, **kwargs)
    assert response.status == 200, data
    result: dict[str, Any] = json.loads(data)
    return result


def test_a_sync_view_is_served_by_the_wsgi_handler(server: int) -> None:
    seen = echo(server, "GET", "/echo/page")

    assert seen["handler"] == "WSGIRequest"
    assert seen["method"] == "GET"
    assert seen["path"] == "/echo/page"


def test_an_async_view_is_served_by_the_asgi_handler(server: int) -> None:
    assert echo(server, "GET", "/async/")["handler"] == "ASGIRequest"


def test_unknown_paths_are_a_404_from_django(server: int) -> None:
    response, data = fetch(server, "GET", "/nowhere/")

    assert response.status == 404
    assert b"Not Found" in data


def test_a_post_body_reaches_the_view(server: int) -> None:
    seen = echo(
        server,
        "POST",
        "/echo/form",
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
        body="note=héllo&n=2".encode(),
    )

    assert seen["method"] == "POST"
    assert seen["body"] == "note=héllo&n=2"


def test_a_chunked_body_reaches_the_view(server: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    conn.request("POST", "/echo/chunked", body=iter([b"part one, ", b"part two"]), encode_chunked=True)
    seen = json.loads(conn.getresponse().read())
    conn.close()

    assert seen["body"] == "part one, part two"


def test_head_sends_headers_without_a_body(server: int) -> None:
    get, get_body = fetch(server, "GET", "/plain/")
    head, head_body = fetch(server, "HEAD", "/plain/")

    assert head.status == 200
    assert head_body == b""
    assert get_body == b"the same body for GET and HEAD"
    assert head.getheader("Content-Length") == get.getheader("Content-Length") == str(len(get_body))


def test_query_strings_and_non_ascii_paths(server: int) -> None:
    seen = echo(server, "GET", "/echo/caf%C3%A9/%E2%9C%93?tag=a&tag=b&q=%C3%A9t%C3%A9")

    assert seen["path"] == "/echo/café/✓"
    assert seen["query"] == {"tag": ["a", "b"], "q": ["été"]}


def test_repeated_headers_and_cookies(server: int) -> None:
    response, data = fetch(
        server,
        "GET",
        "/echo/headers",
        headers=[("X-Multi", "a"), ("X-Multi", "b"), ("Cookie", "one=1"), ("Cookie", "two=2")],
    )
    seen = json.loads(data)

    assert seen["x_multi"] == "a,b"
    assert seen["cookies"] == {"one": "1", "two": "2"}
    set_cookies = [value for name, value in response.getheaders() if name.lower() == "set-cookie"]
    assert [cookie.split(";")[0] for cookie in set_cookies] == ["first=1", "second=2"]


def test_a_body_over_the_limit_is_refused(server: int) -> None:
    response, data = fetch(server, "POST", "/echo/big", body=b"x" * (MAX_BODY + 1))

    assert response.status == 413
    assert b"too large" in data


def test_a_chunked_body_over_the_limit_is_refused(server: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    chunks = iter([b"x" * 1024] * 8)
    conn.request("POST", "/echo/big", body=chunks, encode_chunked=True)

    assert conn.getresponse().status == 413
    conn.close()


def test_the_client_address_reaches_django(server: int) -> None:
    assert echo(server, "GET", "/echo/addr")["remote_addr"] == "127.0.0.1"
    # From a trusted proxy (FORWARDED_ALLOW_IPS, 127.0.0.1 by default) the forwarded address counts.
    forwarded = echo(server, "GET", "/echo/addr", headers=[("X-Forwarded-For", "203.0.113.9")])
    assert forwarded["remote_addr"] == "203.0.113.9"


def test_routing_by_view_kind_in_the_project_urls() -> None:
    # saas.urls today: every view is sync, and unknown paths go to WSGI for Django's 404.
    assert is_async_path("/dashboard/profile/") is False
    assert is_async_path("/no/such/path/") is False
