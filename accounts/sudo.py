"""Sudo mode: sensitive actions need a recent proof that the person at the keyboard is the account's owner.

A login, or the re-authentication page (`accounts:reauth`), opens a window of `SUDO_SECONDS` (default
ten minutes) in the session. An action wrapped in `sudo_required` runs inside the window; outside it the
person is sent to re-authenticate and comes back to the page they were on. A POST outside the window
is not carried out: its data is dropped, and the page it came from is shown again after the proof,
so nothing happens that the person did not confirm twice.

Any way of proving it calls `sudo_grant(request)`: the password form on the re-authentication page, and
any second factor or passkey the account has.
"""

import functools
import time
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

SESSION_KEY = "sudo_until"


def sudo_seconds() -> int:
    return int(getattr(settings, "SUDO_SECONDS", 600))


def sudo_grant(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = int(time.time()) + sudo_seconds()


def sudo_active(request: HttpRequest) -> bool:
    until = request.session.get(SESSION_KEY)
    return isinstance(until, int) and time.time() < until


def sudo_url(request: HttpRequest, next_url: str | None = None) -> str:
    """The re-authentication page, coming back to `next_url` (default: the page the request came from)."""
    target = next_url or _page_of(request)
    return f"{reverse('accounts:reauth')}?{urlencode({'next': target})}"


def _page_of(request: HttpRequest) -> str:
    # A GET comes back to itself; a POST to the page that holds its form, when that is one of ours.
    if request.method == "GET":
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.path


type View = Callable[..., Any]


def sudo_required[V: View](view: V) -> V:
    """Run the view only inside the sudo window; otherwise send the person to re-authenticate.

    Under htmx the answer is `HX-Redirect`, so the whole page goes to the re-authentication form
    instead of a partial being swapped in. Put it inside `@operation`, which checks the login first.
    """

    @functools.wraps(view)
    def check(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if sudo_active(request):
            return cast(HttpResponse, view(request, *args, **kwargs))
        url = sudo_url(request)
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)

    return cast(V, check)


@receiver(user_logged_in, dispatch_uid="accounts.sudo_on_login")
def sudo_on_login(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    # Having just typed the password (or used a passkey) is the proof itself.
    if request is not None and hasattr(request, "session"):
        sudo_grant(request)
