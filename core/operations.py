"""The action primitive: one decorator declares what a routed view is and gives it what that kind needs.

    @operation("Write a post", why="A form on our own page; works without JavaScript.", methods=["POST"])
    def post_create(request: AuthedHttpRequest) -> HttpResponse: ...

The kind is inferred where it is evident, so only what needs saying is said: a DRF view or an async
view is an API endpoint, a view that only answers GET is a page, anything else is an action (pass
`kind=` where the evident answer is wrong: a health check is an API endpoint though it only answers GET).

What each kind gets, for a function view:
- every one: the methods it answers (`methods`, default GET), HEAD wherever GET is (load balancers and
  uptime monitors send HEAD);
- pages and actions: `login_required` unless `public=True` (`staff=True`: staff only, others get a 403),
  and `Vary: HX-Request`, since under htmx they may answer a partial at the same URL;
- actions: `core.actions.action_errors`, the friendly answer to a transient failure of ours;
- API endpoints: nothing more: they authenticate themselves (DRF, a bearer token, a signature).

DRF views take the same decorator on the class (a declaration only: DRF does the rest). Views we do
not write (Django's auth views) are declared where they are routed: `declare(LoginView.as_view(), ...)`.
A test walks the URLconf and fails for any routed view without a declaration, so the guide built from
these cannot drift from the code.
"""

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from rest_framework.views import APIView

from core.actions import action_errors

ATTRIBUTE = "twofold_operation"


class Kind(StrEnum):
    ACTION = "action"  # a mutation a person makes from our pages: function view + htmx, works without JS
    API = "api"  # HTTP on purpose: DRF endpoint, webhook, OAuth callback, stream, cacheable JSON
    PAGE = "page"  # a page that only shows something (GET); listed for completeness, not a mutation


@dataclass(frozen=True)
class Operation:
    kind: Kind
    summary: str
    why: str
    # Where a person can try it, as a URL name, when the route itself is not a page to open
    # (a POST-only action lives on the page that holds its form).
    try_at: str = ""


type View = Callable[..., Any]


def staff_required[V: View](view: V) -> V:
    """Anonymous people are sent to log in; signed-in people who are not staff get a 403."""

    @functools.wraps(view)
    def check(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("Staff only.")
        return cast(HttpResponse, view(request, *args, **kwargs))

    return cast(V, login_required(check))


def infer_kind(view: View | type, methods: Sequence[str]) -> Kind:
    """API for a DRF view or an async view, a page for a GET-only view, else an action."""
    if isinstance(view, type):
        if issubclass(view, APIView):
            return Kind.API
        raise TypeError(f"Say what kind of operation {view.__name__} is: kind=Kind.…")
    if inspect.iscoroutinefunction(view):
        return Kind.API
    if {method.upper() for method in methods} <= {"GET", "HEAD"}:
        return Kind.PAGE
    return Kind.ACTION


def operation[V: View | type](
    summary: str,
    *,
    why: str,
    methods: Sequence[str] = ("GET",),
    kind: Kind | None = None,
    public: bool = False,
    staff: bool = False,
    try_at: str = "",
) -> Callable[[V], V]:
    """Declare a routed view (function or DRF class) and apply what its kind needs (module docstring)."""

    def decorate(view: V) -> V:
        declared = Operation(kind or infer_kind(view, methods), summary, why, try_at)
        if isinstance(view, type):
            setattr(view, ATTRIBUTE, declared)
            return view
        allowed = [method.upper() for method in methods]
        if "GET" in allowed and "HEAD" not in allowed:
            allowed.append("HEAD")
        wrapped: View = require_http_methods(allowed)(view)
        if declared.kind is not Kind.API:
            wrapped = vary_on_headers("HX-Request")(wrapped)
            if staff:
                wrapped = staff_required(wrapped)
            elif not public:
                wrapped = login_required(wrapped)
            if declared.kind is Kind.ACTION:
                wrapped = action_errors(wrapped)
        setattr(wrapped, ATTRIBUTE, declared)
        return cast(V, wrapped)

    return decorate


def declare[V: View | type](view: V, kind: Kind, summary: str, *, why: str, try_at: str = "") -> V:
    """The declaration alone, for a view routed from someone else's code (it handles its own methods)."""
    setattr(view, ATTRIBUTE, Operation(kind, summary, why, try_at))
    return view


def operation_of(callback: Callable[..., Any]) -> Operation | None:
    """The declaration of a routed callback: on the function, or on the class behind `as_view()`."""
    found = getattr(callback, ATTRIBUTE, None)
    if found is None:
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        found = getattr(view_class, ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None


@dataclass(frozen=True)
class Route:
    pattern: str  # e.g. "/api/v1/posts/<id:pk>/"
    name: str  # e.g. "api:post_detail"
    callback: Callable[..., Any]
    operation: Operation | None


# Django's admin is its own world, with its own permissions and many views; it is not part of the guide.
EXCLUDED_NAMESPACES = {"admin"}


def iter_routes() -> Iterator[Route]:
    """Every view the root URLconf routes to, with its full pattern and namespaced name."""

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Route]:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace in EXCLUDED_NAMESPACES:
                    continue
                ns = ":".join(part for part in (namespace, entry.namespace or "") if part)
                yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
            elif isinstance(entry, URLPattern):
                name = ":".join(part for part in (namespace, entry.name or "") if part)
                yield Route(
                    "/" + prefix + str(entry.pattern), name, entry.callback, operation_of(entry.callback)
                )

    yield from walk(get_resolver().url_patterns, "", "")
