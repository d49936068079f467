"""What the app answers when a request fails: the error pages, and 503s while the database is out.

Django turns an exception raised anywhere in a request (a view, or a middleware such as the one that
loads `request.user`) into a call of the project's error handlers (`handler404`, `handler500` in
saas/urls.py). These handlers answer

- on the API (`/api/...`): JSON `{"detail": ...}`, as every other API error;
- elsewhere: the branded pages, templates/404.html and templates/500.html;
- for a database error (PostgreSQL unreachable, a dropped connection): 503 with `Retry-After`, the
  "please try again" page, the htmx alert under htmx, JSON on the API. It is our failure and it
  passes; a 500 would say the request itself broke something.

Pages that may be shown while the database is down are rendered without the context processors (they
read the user, the plan and the feature flags, each a query): only settings and the CSP nonce.
"""

import functools
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.middleware.csp import get_nonce
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults

logger = logging.getLogger("twofold.errors")

ERROR_MESSAGE = "Something went wrong on our side and nothing was changed. Please try again in a moment."
RETRY_AFTER_SECONDS = 5
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def is_htmx_fragment_request(request: HttpRequest) -> bool:
    """An htmx request that swaps a fragment (not a boosted link or form, which wants a whole page).
    Read from the headers: a failure in an early middleware comes before django-htmx sets request.htmx."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render_without_database(
    request: HttpRequest, template_name: str, context: dict[str, Any], *, status: int
) -> HttpResponse:
    """Render a template with a plain context (no context processor runs, so no query is made)."""
    nonce = get_nonce(request)
    base = {"SITE_NAME": settings.SITE_NAME, "DEBUG": settings.DEBUG, "request": request}
    if nonce is not None:
        base["csp_nonce"] = nonce
    return HttpResponse(render_to_string(template_name, {**base, **context}), status=status)


def service_unavailable_response(request: HttpRequest) -> HttpResponse:
    """A passing failure of ours (the database): nothing was changed, try again shortly."""
    if is_api_request(request):
        response: HttpResponse = JsonResponse({"detail": ERROR_MESSAGE}, status=503)
    elif is_htmx_fragment_request(request):
        # htmx 2 swaps only 2xx: the alert comes with a 200, inserted at the top of the element that
        # made the request, so the form and the user's input stay as they were.
        response = render_without_database(
            request, "core/action_error.html#action-error", {"message": ERROR_MESSAGE}, status=200
        )
        response["HX-Retarget"] = "this"
        response["HX-Reswap"] = "afterbegin"
    else:
        referer = request.headers.get("Referer", "")
        safe = url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure())
        back = referer if referer and safe else "/"
        response = render_without_database(
            request,
            "core/action_error.html",
            {"message": ERROR_MESSAGE, "back": back, "changing": request.method not in SAFE_METHODS},
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: JSON on the API, the branded templates/404.html elsewhere."""
    if is_api_request(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400. A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 (under the production server the
    body never gets this far; under any other it does)."""
    if isinstance(exception, RequestDataTooBig):
        detail = f"Request body too large: the limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        if is_api_request(request):
            return JsonResponse({"detail": detail}, status=413)
        return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
    if is_api_request(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)  # type: ignore[arg-type]


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500, called by Django while it handles the exception (so `sys.exception()` is it).

    A database error becomes the 503 of `service_unavailable_response`; anything else the branded
    500, rendered without the database, or JSON on the API.
    """
    error = sys.exception()
    if isinstance(error, DatabaseError):
        response = service_unavailable_response(request)
        if response.status_code < 500:
            # Django logs the exception at the level of the answer's status: the htmx alert's 200 would
            # bury an outage among the info lines.
            logger.error("Database error: %s %s", request.method, request.path, exc_info=error)
        return response
    if is_api_request(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return render_without_database(request, "500.html", {}, status=500)


def async_database_errors[**P](
    view: Callable[P, Coroutine[Any, Any, HttpResponseBase]],
) -> Callable[P, Coroutine[Any, Any, HttpResponseBase]]:
    """The 503 of `server_error`, for an async view. Django hands an async view's exception to the
    error handler in another thread, where `sys.exception()` no longer shows it: catch it here."""

    @functools.wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        try:
            return await view(*args, **kwargs)
        except DatabaseError:
            request = args[0]
            assert isinstance(request, HttpRequest)
            logger.exception("Database error: %s %s", request.method, request.path)
            return service_unavailable_response(request)

    return wrapper
