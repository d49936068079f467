import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from core.entitlements import entitlements_for, tenant_for, usage_for
from core.operations import Kind, operation
from core.registry import fragments
from core.types import AuthedHttpRequest

NEW_ACCOUNT_GRACE = timedelta(minutes=1)  # sign-up's own login, a moment after the account was made

logger = logging.getLogger(__name__)


@operation("Landing page", why="Shows; changes nothing.", public=True)
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "core/landing.html")


@operation("The Action or API? guide", why="Shows every operation, built from the code.", public=True)
def guide(request: HttpRequest) -> HttpResponse:
    from core.guide import guide_rows

    rows = guide_rows()
    return render(
        request,
        "core/guide.html",
        {
            "actions": [row for row in rows if row.kind is Kind.ACTION],
            "apis": [row for row in rows if row.kind is Kind.API],
        },
    )


@operation("Dashboard", why="Shows your account; changes nothing.")
def dashboard(request: AuthedHttpRequest) -> HttpResponse:
    # The cards come from the installed apps (core.registry); they read the limits and usage they declared,
    # those of the team the person works in.
    team = tenant_for(request)
    context = {
        "cards": fragments("dashboard_cards"),
        "get_started": fragments("get_started"),
        "limits": entitlements_for(team),
        "usage": usage_for(team),
        "returning": _returning(request.user),
    }
    return render(request, "core/dashboard.html", context)


def _returning(user: Any) -> bool:
    """Has the user been here before this session? Logging in stamps `last_login`; at sign-up that is
    the moment the account was made, so a new account is welcomed, not welcomed back, until it next
    logs in."""
    if user.last_login is None:
        return False
    return bool(user.last_login - user.date_joined > NEW_ACCOUNT_GRACE)


@operation(
    "Liveness check",
    why="Called by load balancers, not people: plain HTTP status, no I/O.",
    kind=Kind.API,
    public=True,
)
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. No I/O, so a slow database never gets a healthy process killed."""
    return JsonResponse({"status": "ok"})


@operation(
    "Readiness check",
    why="Called by load balancers: the status code (200/503) is the answer.",
    kind=Kind.API,
    public=True,
)
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: the database and the cache answer. A load balancer stops sending traffic on 503."""
    failing = _failing_services()
    if failing:
        return JsonResponse({"status": "unavailable", "failing": failing}, status=503)
    return JsonResponse(
        {"status": "ok", "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]}
    )


def _failing_services() -> list[str]:
    """The services this process cannot reach right now: "database", "cache", or none."""
    failing: list[str] = []
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.warning("readyz: database unreachable", exc_info=True)
        failing.append("database")
    try:
        cache.set("readyz", "1", timeout=5)
        if cache.get("readyz") != "1":
            raise RuntimeError("cache did not return what was stored")
    except Exception:
        logger.warning("readyz: cache unreachable", exc_info=True)
        failing.append("cache")
    return failing


@operation("Status page", why="Shows whether the service is up, for people; changes nothing.", public=True)
@never_cache
def status_page(request: HttpRequest) -> HttpResponse:
    failing = _failing_services()
    services = [
        ("Web app", "Pages, actions and the API answer.", True),
        ("Database", "Accounts, posts, billing and chat history.", "database" not in failing),
        ("Cache", "Sessions, rate limits and throttles.", "cache" not in failing),
    ]
    return render(
        request,
        "core/status.html",
        {"services": services, "all_ok": not failing},
        status=503 if failing else 200,
    )
