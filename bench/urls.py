"""The URLconf `make bench` serves (DJANGO_ROOT_URLCONF=bench.urls): the whole app plus the bare view.

The bare view is the anchor of every benchmark ("fastest Django"): it goes through the project's full
middleware stack and does nothing else. It exists only here, never in production URLs.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from core.operations import Kind, operation


@operation(
    Kind.PAGE, "Bare view (benchmarks only)", why="The anchor of `make bench`: no work beyond middleware."
)
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("__bench__/bare/", bare, name="bench_bare"),
    path("", include("saas.urls")),
]
