"""The project's URLs and error handlers, plus views that fail, for tests/core/test_errors.py."""

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path

from saas.urls import handler400, handler404, handler500
from saas.urls import urlpatterns as project_urlpatterns


def boom(request: HttpRequest) -> HttpResponse:
    raise ValueError("a bug of ours")


def database_gone(request: HttpRequest) -> HttpResponse:
    raise OperationalError("server closed the connection unexpectedly")


urlpatterns = [
    path("boom/", boom),
    path("api/boom/", boom),
    path("database-gone/", database_gone),
    *project_urlpatterns,
]

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]
