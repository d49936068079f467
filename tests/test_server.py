"""saas/server.py under the real production command (`python -m saas.serve`, uvicorn) on a free port."""

import http.client
import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from saas.server import is_async_path
from tests.prod_server import running_app

ROOT = Path(__file__).resolve().parent.parent
MAX_BODY = 4096


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with running_app(
        tmp_path_factory.mktemp("server"),
        DJANGO_SETTINGS_MODULE="tests.server_settings",
        WEB_MAX_BODY_BYTES=str(MAX_BODY),
    ) as (base, _):
        yield int(base.rsplit(":", 1)[1])


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
    # 8 KB in 1 KB chunks against a 4 KB limit. The server answers and closes once the limit is passed, so
    # the client may be cut off mid-body (a broken pipe): its answer is read all the same.
    sock = socket.create_connection(("127.0.0.1", server), timeout=10)
    sock.sendall(b"POST /echo/big HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    try:
        for _ in range(8):
            if select.select([sock], [], [], 0.05)[0]:
                break  # answered: the rest would only be refused
            sock.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")
        else:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    answer = sock.recv(65536)
    sock.close()

    assert answer.startswith(b"HTTP/1.1 413 ")


def upload_until_answered(port: int, target: str, *, total: int) -> tuple[int, bytes]:
    """POST a chunked body of up to `total` bytes, stopping as soon as the server answers.
    Returns how many body bytes were sent and the start of the answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    chunk = b"x" * 65536
    sent = 0
    try:
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        else:
            sock.sendall(b"0\r\n\r\n")
        answer = sock.recv(65536)
    except (BrokenPipeError, ConnectionResetError):
        answer = sock.recv(65536)  # the server closed after answering; its answer is still here
    finally:
        sock.close()
    return sent, answer


@pytest.mark.parametrize("target", ["/async/", "/api/async/", "/echo/big"])
def test_a_huge_chunked_upload_is_cut_off_not_read_whole(server: int, target: str) -> None:
    total = 256 * 1024 * 1024
    sent, answer = upload_until_answered(server, target, total=total)

    assert answer.startswith(b"HTTP/1.1 413 ")
    assert sent < total // 4  # answered long before the upload ended, not after reading it


def test_a_declared_length_over_the_limit_is_refused_before_the_body_on_an_async_path(server: int) -> None:
    # Longer than uvicorn's 5 s keep-alive timeout: the close must come from the answer itself.
    sock = socket.create_connection(("127.0.0.1", server), timeout=15)
    # 2 GB announced, not a byte sent: only a server that does not wait for the body can answer.
    sock.sendall(b"POST /api/async/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000000000\r\n\r\n")
    answer = b""
    while chunk := sock.recv(65536):  # the server closes the connection: the body was never read
        answer += chunk
    sock.close()

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in head.lower()
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body) == {"detail": f"Request body too large: the limit is {MAX_BODY} bytes."}


def test_a_body_over_the_limit_is_json_on_the_api_and_text_elsewhere(server: int) -> None:
    api, api_body = fetch(server, "POST", "/api/v1/anything/", body=b"x" * (MAX_BODY + 1))
    page, page_body = fetch(server, "POST", "/echo/form", body=b"x" * (MAX_BODY + 1))

    assert api.status == page.status == 413
    assert api.getheader("Content-Type") == "application/json"
    assert json.loads(api_body)["detail"].startswith("Request body too large")
    assert page.getheader("Content-Type") == "text/plain; charset=utf-8"
    assert page_body.startswith(b"Request body too large")


def test_a_body_within_the_limit_reaches_an_async_view(server: int) -> None:
    seen = echo(server, "POST", "/async/", body=b"y" * MAX_BODY)

    assert seen["handler"] == "ASGIRequest"
    assert seen["body"] == "y" * MAX_BODY


def test_the_client_address_reaches_django(server: int) -> None:
    assert echo(server, "GET", "/echo/addr")["remote_addr"] == "127.0.0.1"
    # From a trusted proxy (FORWARDED_ALLOW_IPS, 127.0.0.1 by default) the forwarded address counts.
    forwarded = echo(server, "GET", "/echo/addr", headers=[("X-Forwarded-For", "203.0.113.9")])
    assert forwarded["remote_addr"] == "203.0.113.9"


def test_routing_by_view_kind_in_the_project_urls() -> None:
    # saas.urls today: every view is sync, and unknown paths go to WSGI for Django's 404.
    assert is_async_path("/dashboard/profile/") is False
    assert is_async_path("/no/such/path/") is False
