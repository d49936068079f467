"""Every routed view declares what kind of operation it is; the "Action or API?" guide is built from these.

    @operation(Kind.ACTION, "Update your profile", why="Called from our page; works without JavaScript.")
    def profile_edit(request): ...

DRF views take the same decorator on the class. Views we do not write (Django's auth views) are
declared where they are routed: `declare(LoginView.as_view(...), Kind.PAGE, ...)`. A test walks the
URLconf and fails for any routed view without a declaration, so the guide cannot drift from the code.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

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


def operation[V: Callable[..., Any] | type](
    kind: Kind, summary: str, *, why: str, try_at: str = ""
) -> Callable[[V], V]:
    """Declare the kind of operation a view (function or DRF class) performs, and why it is that kind."""

    def decorate(view: V) -> V:
        setattr(view, ATTRIBUTE, Operation(kind, summary, why, try_at))
        return view

    return decorate


def declare[V: Callable[..., Any] | type](
    view: V, kind: Kind, summary: str, *, why: str, try_at: str = ""
) -> V:
    """The same declaration for a view routed from someone else's code."""
    return operation(kind, summary, why=why, try_at=try_at)(view)


def operation_of(callback: Callable[..., Any]) -> Operation | None:
    """The declaration of a routed callback: on the function, or on the class behind `as_view()`."""
    found = getattr(callback, ATTRIBUTE, None)
    if found is None:
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        found = getattr(view_class, ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None


@dataclass(frozen=True)
class Route:
    pattern: str  # e.g. "/api/v1/posts/<int:pk>/"
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
