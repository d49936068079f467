"""HEAD is answered wherever GET is (load balancers and uptime monitors send HEAD), on every route
the URLconf has, whichever apps are installed."""

import re

import pytest
from django.test import Client

from core.guide import view_methods
from core.operations import Kind, iter_routes

# A value for each path converter: the object will not exist, so GET and HEAD must agree on the 404.
_PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _url(pattern: str) -> str:
    return _PLACEHOLDER.sub(lambda match: "1" if match.group(1) in ("int", "id") else "x", pattern)


def _get_routes() -> list[str]:
    return sorted(
        _url(route.pattern)
        for route in iter_routes()
        if route.operation is not None
        and ("GET" in view_methods(route.callback) or route.operation.kind is Kind.PAGE)
    )


def test_every_page_is_walked() -> None:
    assert {"/", "/guide/", "/dashboard/", "/healthz", "/readyz", "/staff/flags/"} <= set(_get_routes())


@pytest.mark.django_db
@pytest.mark.parametrize("path", _get_routes())
def test_head_answers_as_get_does(staff_client: Client, path: str) -> None:
    get = staff_client.get(path)
    head = staff_client.head(path)

    assert head.status_code != 405
    assert head.status_code == get.status_code
    assert head.content == b""


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/guide/", "/healthz", "/readyz", "/accounts/login/", "/api/schema/"])
def test_head_of_a_public_page_or_health_check_is_200(client: Client, path: str) -> None:
    response = client.head(path)

    assert response.status_code == 200
    assert response.content == b""
