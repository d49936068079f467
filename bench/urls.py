"""The URLconf `make bench` serves (bench.settings): the whole app plus the two anchor views.

The bare view is the anchor of every benchmark ("fastest Django"): it goes through the project's full
middleware stack and does nothing else. The signed-in view is "Django's signed-in floor": the least a
page for a signed-in user costs (the session, the user loaded from the database, a small template
rendered), through the same middleware. Both exist only here, never in the product's URLs.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.template import engines
from django.urls import include, path

SIGNED_IN_PATH = "/__bench__/signed-in/"

# Compiled once, as the cached template loader keeps a template file in production.
SIGNED_IN_TEMPLATE = engines["django"].from_string(
    "<!doctype html><title>Signed in</title>"
    "<p>Signed in as {{ user.email }} ({{ user.get_short_name }}).</p>\n"
)


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def signed_in(request: HttpRequest) -> HttpResponse:
    # 403 rather than a redirect to the login page: a bench load without a live session must fail loudly.
    if not request.user.is_authenticated:
        return HttpResponseForbidden("not signed in")
    return HttpResponse(SIGNED_IN_TEMPLATE.render({"user": request.user}, request))


urlpatterns = [
    path("__bench__/bare/", bare, name="bench_bare"),
    path(SIGNED_IN_PATH.strip("/") + "/", signed_in, name="bench_signed_in"),
    path("", include("saas.urls")),
]
