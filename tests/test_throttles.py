"""DRF throttles key on the address the server resolved (REMOTE_ADDR, set from X-Forwarded-For by
uvicorn for trusted proxies only), never on the raw header a client can rotate."""

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, RequestFactory
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from core.operations import iter_routes
from tests.prod_server import running_app

TOKEN_URL = "/api/v1/auth/token/"


def _drf_views() -> list[type[APIView]]:
    views = []
    for route in iter_routes():
        view_class = getattr(route.callback, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            views.append(view_class)
    return views


def test_every_drf_throttle_ignores_a_raw_forwarded_for_header() -> None:
    raw = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")
    request = Request(raw)
    throttles = [throttle for view in _drf_views() for throttle in view().get_throttles()]

    assert throttles  # the routes were found
    for throttle in throttles:
        assert isinstance(throttle, SimpleRateThrottle)
        assert throttle.get_ident(request) == "203.0.113.7", type(throttle)


def test_rotating_forwarded_for_does_not_escape_a_429(
    client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    statuses = [
        client.post(TOKEN_URL, {}, "application/json", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
        for i in range(5)
    ]

    assert statuses == [400, 400, 400, 429, 429]


def _post(url: str, forwarded_for: str) -> int:
    request = urllib.request.Request(
        url,
        data=b"{}",
        method="POST",
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status: int = response.status
    except urllib.error.HTTPError as error:
        body: Any = json.loads(error.read() or b"{}")
        assert isinstance(body, dict)
        status = error.code
    return status


def test_the_running_server_throttles_the_resolved_address(tmp_path: Path) -> None:
    # 127.0.0.1 is not a trusted proxy here: uvicorn keeps the socket's address, whatever the header says.
    with running_app(tmp_path, API_THROTTLE_AUTH="3/min", FORWARDED_ALLOW_IPS="192.0.2.1") as (base, _):
        statuses = [_post(base + TOKEN_URL, f"198.51.100.{i}") for i in range(5)]

    assert statuses == [400, 400, 400, 429, 429]
