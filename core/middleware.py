import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

Handler = Callable[[HttpRequest], HttpResponse]


class HealthCheckMiddleware:
    """Answer /healthz and /readyz before anything looks at the Host header or redirects to HTTPS.

    Load balancers and container health checks call these by IP address over plain http; they must
    not get a 400 (DisallowedHost) or a 301 (SSL redirect) instead of the process's real health.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from core import views

        if request.path == "/healthz":
            return views.healthz(request)
        if request.path == "/readyz":
            return views.readyz(request)
        return self.get_response(request)


class HtmxLoginRedirectMiddleware:
    """An htmx request that must log in first gets a client redirect (HX-Redirect), never a login page
    swapped into a fragment. The XHR would follow a 302 silently, so the redirect is rewritten here."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "htmx", False) and response.status_code == 302:
            location = response.headers.get("Location", "")
            if location.startswith(resolve_url(settings.LOGIN_URL)):
                # The page the fragment lives on is where the user should land after logging in.
                current = request.headers.get("HX-Current-URL")
                if current:
                    from urllib.parse import urlencode, urlsplit

                    parts = urlsplit(current)
                    page = parts.path + (f"?{parts.query}" if parts.query else "")
                    location = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': page})}"
                return HttpResponseClientRedirect(location)
        return response


class HtmxMessagesMiddleware:
    """Flash messages queued during an htmx request are appended to the response as out-of-band toasts,
    so an action can call `messages.success()` the same way whether or not it redirects."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not getattr(request, "htmx", False)
            or "HX-Redirect" in response.headers
            or 300 <= response.status_code < 400
            or not response.get("Content-Type", "").startswith("text/html")
            or getattr(response, "streaming", False)
        ):
            return response
        queued = list(messages.get_messages(request))
        if queued:
            response.write(render_to_string("_toasts.html", {"messages": queued, "oob": True}))
        return response


class UserTimezoneMiddleware:
    """Show times in the signed-in user's own time zone."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "time_zone", "UTC") != "UTC":
            timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
        else:
            timezone.deactivate()
        return self.get_response(request)
