"""Sessions and devices: the signed-in browsers of an account, shown on the security page.

The session store (SESSION_ENGINE) keeps the sessions; `UserSession` rows describe them (device,
address, last seen) under the same key. A row is written at login and touched at most once a minute
per session (a cache key says it was seen recently, so most requests cost one cache `add` and no
query). Signing a session out deletes its store entry, so the browser holding it is anonymous on its
next request, and its row. Logging out, a password change (or reset) and deleting the account remove
rows too.
"""

import re
from collections.abc import Callable
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import User, UserSession
from accounts.services import client_ip

TOUCH_EVERY = 60  # seconds: how stale "last seen" may be, and how rarely a request writes it
SEEN_KEY = "accounts:session-seen:"


def _store(session_key: str | None = None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key)
    return store


def session_touch(request: HttpRequest, *, user: Any = None, force: bool = False) -> None:
    """Record (or refresh) the row of the request's session, unless it was refreshed in the last minute."""
    session = getattr(request, "session", None)
    key = session.session_key if session is not None else None
    user = user or getattr(request, "user", None)
    if not key or user is None or not user.is_authenticated:
        return
    if not cache.add(SEEN_KEY + key, 1, timeout=TOUCH_EVERY) and not force:
        return
    values = {
        "user": user,
        "user_agent": request.headers.get("User-Agent", "")[:300],
        "ip": client_ip(request.META),
        "last_seen_at": timezone.now(),
    }
    try:
        with transaction.atomic():
            UserSession.objects.update_or_create(session_key=key, defaults=values)
    except IntegrityError:  # two requests of a new session at once: the other one wrote it
        pass


class SessionActivityMiddleware:
    """After the view (a login or logout may have changed the session), keep the session's row fresh."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            session_touch(request)
        return response


def sessions_active(*, user: User) -> list[UserSession]:
    """The account's sessions that can still be in use (younger than SESSION_COOKIE_AGE), newest first."""
    since = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    return list(UserSession.objects.filter(user=user, last_seen_at__gte=since))


def session_end(*, user: User, session_id: int, keep: str | None) -> bool:
    """Sign one of the account's other sessions out: its store entry and its row. False when it is not
    the user's, or is `keep` (the one asking, which logs out instead)."""
    row = UserSession.objects.filter(user=user, pk=session_id).exclude(session_key=keep or "").first()
    if row is None:
        return False
    _forget([row.session_key])
    return True


def sessions_end_others(*, user: User, keep: str | None) -> int:
    """Sign out every session of the account but `keep` (the one asking); how many were ended."""
    keys = list(
        UserSession.objects.filter(user=user)
        .exclude(session_key=keep or "")
        .values_list("session_key", flat=True)
    )
    _forget(keys)
    return len(keys)


def sessions_end_all(*, user: User) -> None:
    _forget(list(UserSession.objects.filter(user=user).values_list("session_key", flat=True)))


def _forget(keys: list[str]) -> None:
    for key in keys:
        _store(key).delete(key)
        cache.delete(SEEN_KEY + key)
    UserSession.objects.filter(session_key__in=keys).delete()


# A small user-agent reader: enough to tell "Firefox on Windows" from "Safari on iPhone". Order matters:
# Edge and Opera say "Chrome" too, Chrome says "Safari", Android says "Linux".
_BROWSERS = [
    ("Edge", r"Edg(e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Samsung Internet", r"SamsungBrowser/"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/|Chromium/"),
    ("Safari", r"Safari/"),
    ("curl", r"^curl/"),
    ("Python", r"python-requests|Python-urllib|httpx"),
]
_SYSTEMS = [
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Android", r"Android"),
    ("ChromeOS", r"CrOS"),
    ("Windows", r"Windows"),
    ("macOS", r"Macintosh|Mac OS X"),
    ("Linux", r"Linux|X11"),
]


def device_label(user_agent: str) -> str:
    """ "Chrome on macOS", "Safari on iPhone", or "Unknown device"."""
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, user_agent)), "")
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


def device_is_mobile(user_agent: str) -> bool:
    return bool(re.search(r"Mobi|iPhone|Android", user_agent))


@receiver(user_logged_in, dispatch_uid="accounts.session_on_login")
def session_on_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        if not request.session.session_key:
            request.session.save()
        session_touch(request, user=user, force=True)


@receiver(user_logged_out, dispatch_uid="accounts.session_on_logout")
def session_on_logout(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    key = request.session.session_key if request is not None and hasattr(request, "session") else None
    if key:
        UserSession.objects.filter(session_key=key).delete()
        cache.delete(SEEN_KEY + key)
