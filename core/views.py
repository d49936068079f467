import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.operations import Kind, operation

logger = logging.getLogger(__name__)


@operation(Kind.PAGE, "Landing page", why="Shows; changes nothing.")
@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "core/landing.html")


@operation(Kind.PAGE, "Pricing", why="Shows the plans; changes nothing.")
@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    from billing.plans import PLANS

    return render(request, "core/pricing.html", {"plans": PLANS})


@operation(Kind.PAGE, "The Action or API? guide", why="Shows every operation, built from the code.")
@require_GET
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


@operation(Kind.PAGE, "Dashboard", why="Shows your account; changes nothing.")
@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    from billing.plans import entitlements_for
    from billing.usage import usage_for

    return render(
        request,
        "core/dashboard.html",
        {"entitlements": entitlements_for(request.user), "usage": usage_for(request.user)},  # type: ignore[arg-type]
    )


@operation(Kind.API, "Liveness check", why="Called by load balancers, not people: plain HTTP status, no I/O.")
@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. No I/O, so a slow database never gets a healthy process killed."""
    return JsonResponse({"status": "ok"})


@operation(
    Kind.API, "Readiness check", why="Called by load balancers: the status code (200/503) is the answer."
)
@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: the database and the cache answer. A load balancer stops sending traffic on 503."""
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
    if failing:
        return JsonResponse({"status": "unavailable", "failing": failing}, status=503)
    return JsonResponse(
        {"status": "ok", "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]}
    )
