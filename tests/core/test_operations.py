from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.views import View
from rest_framework.views import APIView

from accounts.models import User
from core.operations import Kind, iter_routes, operation, operation_of


def test_every_routed_view_declares_its_kind_of_operation() -> None:
    undeclared = [f"{route.pattern} ({route.name})" for route in iter_routes() if route.operation is None]

    assert undeclared == [], "Declare these views with core.operations.operation / declare: " + ", ".join(
        undeclared
    )


def test_the_profile_update_is_an_action() -> None:
    routes = {route.name: route for route in iter_routes()}

    profile = routes["accounts:profile_edit"]
    assert profile.pattern == "/dashboard/profile/"
    assert profile.operation is not None
    assert profile.operation.kind is Kind.ACTION


# --- The action primitive ----------------------------------------------------------------------


def _view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


async def _stream(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


class _ThingApi(APIView):
    pass


@pytest.mark.parametrize(
    ("view", "methods", "kind"),
    [
        (_view, ["GET"], Kind.PAGE),
        (_view, ["GET", "POST"], Kind.ACTION),
        (_view, ["POST"], Kind.ACTION),
        (_stream, ["POST"], Kind.API),
        (_ThingApi, ["GET"], Kind.API),
    ],
)
def test_the_kind_is_inferred_where_it_is_evident(view: Any, methods: list[str], kind: Kind) -> None:
    declared = operation("Thing", why="Because.", methods=methods)(view)

    found = operation_of(declared.as_view() if isinstance(declared, type) else declared)
    assert found is not None
    assert found.kind is kind


def test_a_plain_django_class_view_must_say_its_kind() -> None:
    class Page(View): ...

    with pytest.raises(TypeError, match="kind="):
        operation("Page", why="Because.")(Page)


@pytest.mark.django_db
def test_a_page_answers_head_needs_login_and_varies_on_htmx(user: User) -> None:
    page = operation("Page", why="Because.")(_view)
    factory = RequestFactory()

    anonymous = factory.head("/thing/")
    anonymous.user = AnonymousUser()
    assert page(anonymous).status_code == 302

    signed_in = factory.head("/thing/")
    signed_in.user = user
    response = page(signed_in)
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]

    refused = factory.put("/thing/")
    refused.user = user
    assert page(refused).status_code == 405


@pytest.mark.django_db
def test_a_staff_action_refuses_others_and_handles_a_transient_failure(user: User, staff_user: User) -> None:
    def failing(request: HttpRequest) -> HttpResponse:
        raise OperationalError("the database went away")

    action = operation("Action", why="Because.", methods=["POST"], staff=True)(failing)
    request = RequestFactory().post("/thing/")
    request.user = user
    with pytest.raises(PermissionDenied):
        action(request)

    request.user = staff_user
    request.htmx = False  # type: ignore[attr-defined]
    request._messages = []  # type: ignore[attr-defined]
    assert action(request).status_code == 503  # core.actions' answer, not a 500


def test_an_api_function_view_is_not_wrapped_in_login() -> None:
    endpoint = operation("Health", why="Because.", kind=Kind.API, public=True)(_view)

    response = endpoint(RequestFactory().head("/healthz"))  # no user at all: no login check ran
    assert response.status_code == 200
