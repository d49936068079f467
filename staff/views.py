import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from core.actions import action_errors
from core.operations import Kind, operation
from core.types import AuthedHttpRequest
from posts.models import Post
from posts.services import post_moderate_delete
from staff.flags import DEFAULTS, KNOWN_FLAGS, FlagSpec
from staff.forms import FlagMessageForm, PostSearchForm
from staff.models import AuditEntry, Flag
from staff.services import flag_message_set, flag_set

POSTS_PER_PAGE = 20
AUDIT_PER_PAGE = 30

type View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Anonymous people are sent to log in; signed-in people who are not staff get a 403."""

    @functools.wraps(view)
    def check(request: AuthedHttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return login_required(check)


def _back(request: AuthedHttpRequest, default: str) -> str:
    """Where a plain POST returns to: the list page (with its search and page) it came from."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(default)


# --- Posts moderation -------------------------------------------------------------------------


@operation(Kind.PAGE, "Staff: every post", why="Search and browse for moderation; changes nothing.")
@staff_required
@require_GET
@vary_on_headers("HX-Request")
def staff_post_list(request: AuthedHttpRequest) -> HttpResponse:
    search = PostSearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    posts = Post.objects.with_author().search(query)
    page = Paginator(posts, POSTS_PER_PAGE).get_page(request.GET.get("page"))
    template = "staff/posts.html"
    # The search pushes URLs; restoring one from history (a cache miss) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#post-table"
    return render(request, template, {"search": search, "query": query, "page": page})


@operation(
    Kind.ACTION,
    "Staff: delete any post",
    why="A button on our staff page: htmx confirms and removes the row; without JS a confirmation page.",
    try_at="staff:post_list",
)
@action_errors
@staff_required
@require_http_methods(["GET", "POST"])
def staff_post_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    if request.method == "GET":
        post = Post.objects.with_author().filter(pk=pk).first()
        if post is None:
            messages.info(request, "That post was already deleted.")
            return redirect(_back(request, "staff:post_list"))
        return render(
            request, "staff/post_delete.html", {"post": post, "next": _back(request, "staff:post_list")}
        )
    deleted = post_moderate_delete(actor=request.user, post_id=pk)
    if deleted is None:
        messages.info(request, "That post was already deleted.")
    else:
        messages.success(request, f"Deleted “{deleted.title}” by {deleted.author.email}.")
    if request.htmx:
        return HttpResponse("")  # an empty outerHTML swap: the row goes
    return redirect(_back(request, "staff:post_list"))


# --- Feature flags ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagRow:
    spec: FlagSpec
    flag: Flag | None
    submitted: FlagMessageForm | None = None  # a rejected message, shown with its errors

    @property
    def enabled(self) -> bool:
        return self.flag.enabled if self.flag else self.spec.default

    @property
    def message(self) -> str:
        return self.flag.message if self.flag else ""

    @property
    def message_form(self) -> FlagMessageForm | None:
        if self.spec.name not in FLAGS_WITH_MESSAGE:
            return None
        return self.submitted or FlagMessageForm(initial={"message": self.message})


# Flags that display a staff-written text.
FLAGS_WITH_MESSAGE = {"maintenance_banner"}


def _flag_rows(submitted: FlagMessageForm | None = None) -> list[FlagRow]:
    flags = {flag.name: flag for flag in Flag.objects.select_related("updated_by")}
    return [
        FlagRow(spec, flags.get(spec.name), submitted if spec.name in FLAGS_WITH_MESSAGE else None)
        for spec in KNOWN_FLAGS
    ]


def _flag_row(name: str, submitted: FlagMessageForm | None = None) -> FlagRow:
    flag = Flag.objects.select_related("updated_by").filter(name=name).first()
    return FlagRow(DEFAULTS[name], flag, submitted)


def _known(name: str) -> str:
    if name not in DEFAULTS:
        raise Http404("No such flag.")
    return name


@operation(Kind.PAGE, "Staff: feature flags", why="Shows every flag with its switch.")
@staff_required
@require_GET
def staff_flag_list(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "staff/flags.html", {"rows": _flag_rows()})


def _flag_row_response(
    request: AuthedHttpRequest, name: str, submitted: FlagMessageForm | None = None
) -> HttpResponse:
    # The banner is swapped out of band too, so the staff member sees the change on this very page.
    return render(request, "staff/flags.html#flag-row-with-banner", {"row": _flag_row(name, submitted)})


@operation(
    Kind.ACTION,
    "Staff: turn a feature flag on or off",
    why="A switch on our staff page; the POST carries the wanted state, so a replay changes nothing.",
    try_at="staff:flag_list",
)
@action_errors
@staff_required
@require_POST
def staff_flag_toggle(request: AuthedHttpRequest, name: str) -> HttpResponse:
    name = _known(name)
    enabled = request.POST.get("enabled") == "on"
    flag_set(actor=request.user, name=name, enabled=enabled)
    messages.success(request, f"{DEFAULTS[name].label}: {'on' if enabled else 'off'}.")
    if request.htmx:
        return _flag_row_response(request, name)
    return redirect("staff:flag_list")


@operation(
    Kind.ACTION,
    "Staff: edit the maintenance banner's message",
    why="A form on our staff page; errors come back inside the form, with or without JavaScript.",
    try_at="staff:flag_list",
)
@action_errors
@staff_required
@require_POST
def staff_flag_message(request: AuthedHttpRequest, name: str) -> HttpResponse:
    name = _known(name)
    form = FlagMessageForm(request.POST)
    if form.is_valid():
        flag_message_set(actor=request.user, name=name, message=form.cleaned_data["message"])
        messages.success(request, "Banner message saved.")
        if not request.htmx:
            return redirect("staff:flag_list")
        return _flag_row_response(request, name)
    if request.htmx:
        return _flag_row_response(request, name, form)
    return render(request, "staff/flags.html", {"rows": _flag_rows(form)})


# --- Audit log --------------------------------------------------------------------------------


@operation(Kind.PAGE, "Staff: audit log", why="Who did what, newest first; changes nothing.")
@staff_required
@require_GET
def staff_audit_list(request: AuthedHttpRequest) -> HttpResponse:
    page = Paginator(AuditEntry.objects.all(), AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "staff/audit.html", {"page": page})
