"""The "Action or API?" guide: one row per operation, derived from the URLconf and the declarations.

Nothing here is written by hand: the path comes from the URL pattern, the kind, summary and "why"
from the `@operation` declaration next to the view, and the HTTP methods from the view itself
(`require_http_methods` and friends on function views, the handlers a class defines).
"""

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.views.generic.edit import ProcessFormView

from core.operations import Kind, Route, iter_routes

# HEAD and OPTIONS come with every GET and every class view; they say nothing about the operation.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
METHOD_ORDER = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True)
class GuideRow:
    kind: Kind
    summary: str
    why: str
    methods: tuple[str, ...]  # empty when the view accepts any method
    path: str  # e.g. "/dashboard/posts/<id:pk>/edit/"
    name: str
    try_url: str  # "" when there is nothing a person can open


def view_methods(callback: Callable[..., Any]) -> tuple[str, ...]:
    """The HTTP methods a routed view answers, read from the view rather than declared a second time."""
    actions = getattr(callback, "actions", None)  # a DRF ViewSet routed through a router
    if isinstance(actions, dict):
        return _ordered(method.upper() for method in actions)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        found = []
        for method in view_class.http_method_names:
            handler = getattr(view_class, method, None)
            # Django's form views route PUT to post(); nobody sends a form with PUT.
            if handler is None or handler is getattr(ProcessFormView, "put", None):
                continue
            found.append(method.upper())
        return _ordered(found)
    # Function views: the method list `require_http_methods` (and require_GET/POST) closes over,
    # found by walking the `__wrapped__` chain that functools.wraps leaves.
    function: Any = callback
    while function is not None:
        try:
            allowed = inspect.getclosurevars(function).nonlocals.get("request_method_list")
        except TypeError:
            allowed = None
        if allowed:
            return _ordered(allowed)
        function = getattr(function, "__wrapped__", None)
    return ()


def _ordered(methods: Iterable[str]) -> tuple[str, ...]:
    wanted = {method for method in methods if method not in IMPLICIT_METHODS}
    return tuple(sorted(wanted, key=lambda m: METHOD_ORDER.index(m) if m in METHOD_ORDER else 99))


_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _display_path(pattern: str) -> str:
    return _CONVERTER.sub(r"{\1}", pattern.replace("^", "").replace("$", "").replace("\\Z", ""))


def _try_url(route: Route, methods: tuple[str, ...]) -> str:
    assert route.operation is not None
    if route.operation.try_at:
        try:
            return reverse(route.operation.try_at)
        except NoReverseMatch:
            return ""
    if "<" not in route.pattern and (not methods or "GET" in methods):
        return _display_path(route.pattern)
    if route.operation.kind is Kind.API and route.pattern.startswith("/api/"):
        return "/api/docs/"
    return ""


def guide_rows(*, include_pages: bool = False) -> list[GuideRow]:
    """Every declared operation, actions first then API endpoints (then pages if asked), by path."""
    rows = []
    for route in iter_routes():
        if route.operation is None or (route.operation.kind is Kind.PAGE and not include_pages):
            continue
        methods = view_methods(route.callback)
        rows.append(
            GuideRow(
                kind=route.operation.kind,
                summary=route.operation.summary,
                why=route.operation.why,
                methods=methods,
                path=_display_path(route.pattern),
                name=route.name,
                try_url=_try_url(route, methods),
            )
        )
    order = list(Kind)
    return sorted(rows, key=lambda row: (order.index(row.kind), row.path))
