"""A test-only URLconf for tests/test_server.py: views that report what reached Django."""

import json

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def report(request: HttpRequest) -> dict[str, object]:
    return {
        "handler": type(request).__name__,  # WSGIRequest or ASGIRequest
        "method": request.method,
        "path": request.path,
        "query": {key: request.GET.getlist(key) for key in request.GET},
        "body": request.body.decode(),
        "cookies": request.COOKIES,
        "remote_addr": request.META.get("REMOTE_ADDR"),
        "x_multi": request.headers.get("X-Multi"),
    }


@csrf_exempt
def echo(request: HttpRequest, rest: str) -> HttpResponse:
    response = JsonResponse(report(request), json_dumps_params={"ensure_ascii": False})
    response.set_cookie("first", "1")
    response.set_cookie("second", "2")
    return response


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("the same body for GET and HEAD")


@csrf_exempt
async def async_echo(request: HttpRequest) -> HttpResponse:
    return HttpResponse(json.dumps(report(request)), content_type="application/json")


urlpatterns = [
    path("echo/<path:rest>", echo),
    path("plain/", plain),
    path("async/", async_echo),
    path("api/async/", async_echo),
]


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    # The project's branded 404 links to pages this URLconf does not have.
    return HttpResponseNotFound("Not Found")


handler404 = not_found
