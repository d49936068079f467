import copy
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from core.entitlements import limit_for
from core.operations import operation
from core.types import AuthedHttpRequest
from posts import services
from posts.forms import PostForm, PostSearchForm
from posts.models import Post
from teams.models import Membership
from teams.roles import Permission, can
from teams.services import acting_membership

PER_PAGE = 10
STAFF_PER_PAGE = 20


def _list_context(request: AuthedHttpRequest, form: PostForm | None = None) -> dict[str, Any]:
    membership = acting_membership(request)
    posts = Post.objects.in_team(membership.team).with_author()
    page: Page[Post] = Paginator(posts, PER_PAGE).get_page(request.GET.get("page"))
    limit = limit_for(membership.team, "max_posts")
    return {
        "form": form or PostForm(),
        "page": page,
        "limit": limit,
        "count": page.paginator.count,
        **_rights(membership),
    }


def _rights(membership: Membership) -> dict[str, Any]:
    # What the rows show: Edit on one's own posts, Delete on those and, for admins and owners, on all.
    return {
        "team": membership.team,
        "me_id": membership.user_id,
        "delete_any": can(membership.role, Permission.POSTS_DELETE_ANY),
    }


def _edit_form(post: Post, data: QueryDict | None = None) -> PostForm:
    # Each open edit form gets its own field ids: several may sit on the list page with the create form.
    # A copy of the post, so an invalid submission never leaks into the post shown elsewhere.
    return PostForm(data, instance=copy.copy(post), auto_id=f"post-{post.pk}-%s")


def _team_post(request: AuthedHttpRequest, pk: int) -> Post:
    # Another team's post is "not found", never "forbidden": ids leak nothing.
    return get_object_or_404(Post.objects.in_team(acting_membership(request).team).with_author(), pk=pk)


@operation("Your team's posts", why="Lists the current team's posts; changes nothing.")
def post_list(request: AuthedHttpRequest) -> HttpResponse:
    template = "posts/posts.html"
    # Pagination pushes URLs; restoring one from history (a cache miss) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#posts-region"
    return render(request, template, _list_context(request))


@operation(
    "Write a post",
    why="A form on our own page: htmx refreshes the list in place, a plain POST redirects back.",
    methods=["POST"],
    try_at="posts:post_list",
)
def post_create(request: AuthedHttpRequest) -> HttpResponse:
    form = PostForm(request.POST)
    if form.is_valid():
        try:
            services.post_create(membership=acting_membership(request), **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)  # the plan's limit: a form error, the input kept
        else:
            messages.success(request, "Post published.")
            if not request.htmx:
                return redirect("posts:post_list")
            form = PostForm()  # a blank form above the refreshed list
    template = "posts/posts.html"
    if request.htmx:
        template += "#posts-region"
    # Errors are shown in the form, input kept, with a 200 both ways (htmx 2 swaps only 2xx).
    return render(request, template, _list_context(request, form))


@operation("One of your team's posts", why="Shows a post; htmx uses it to cancel an edit in place.")
def post_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    post = _team_post(request, pk)
    context = {"post": post, **_rights(acting_membership(request))}
    if request.htmx:
        return render(request, "posts/posts.html#post-row", context)
    return render(request, "posts/post_detail.html", context)


@operation(
    "Edit a post",
    why="Edited in place from our page with htmx; a separate form page without JavaScript.",
    methods=["GET", "POST"],
    try_at="posts:post_list",
)
def post_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    post = _team_post(request, pk)
    membership = acting_membership(request)
    if not services.may_edit(post=post, membership=membership):
        raise PermissionDenied("Only the author may edit this post.")
    form = _edit_form(post, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        post = services.post_update(post=post, membership=membership, **form.cleaned_data)
        messages.success(request, "Post saved.")
        if not request.htmx:
            return redirect("posts:post_list")
        return render(request, "posts/posts.html#post-row", {"post": post, **_rights(membership)})
    if request.htmx:
        return render(request, "posts/posts.html#post-edit-row", {"post": post, "form": form})
    return render(request, "posts/post_edit.html", {"post": post, "form": form})


@operation(
    "Delete a post",
    why="A button on our page: htmx removes the row, a plain POST redirects back.",
    methods=["POST"],
    try_at="posts:post_list",
)
def post_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    post = _team_post(request, pk)
    membership = acting_membership(request)
    services.post_delete(post=post, membership=membership)  # PermissionDenied: a 403 page
    messages.success(request, f"Deleted “{post.title}”.")
    if not request.htmx:
        return redirect("posts:post_list")
    # An empty outerHTML swap removes the row; the post count is updated out of band.
    count_context = {
        "count": Post.objects.in_team(membership.team).count(),
        "limit": limit_for(membership.team, "max_posts"),
        "oob": True,
    }
    return render(request, "posts/posts.html#post-count", count_context)


# --- Moderation: the staff panel's posts tab ----------------------------------------------------


def _back(request: AuthedHttpRequest, default: str) -> str:
    """Where a plain POST returns to: the list page (with its search and page) it came from."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(default)


@operation("Staff: every post", why="Search and browse for moderation; changes nothing.", staff=True)
def staff_post_list(request: AuthedHttpRequest) -> HttpResponse:
    search = PostSearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    posts = Post.objects.with_author().search(query)
    page = Paginator(posts, STAFF_PER_PAGE).get_page(request.GET.get("page"))
    template = "posts/staff_posts.html"
    # The search pushes URLs; restoring one from history (a cache miss) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#post-table"
    return render(request, template, {"search": search, "query": query, "page": page})


@operation(
    "Staff: delete any post",
    why="A button on our staff page: htmx confirms and removes the row; without JS a confirmation page.",
    methods=["GET", "POST"],
    staff=True,
    try_at="posts:staff_post_list",
)
def staff_post_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        post = Post.objects.with_author().filter(pk=pk).first()
        if post is None:
            messages.info(request, "That post was already deleted.")
            return redirect(_back(request, "posts:staff_post_list"))
        return render(
            request,
            "posts/staff_post_delete.html",
            {"post": post, "next": _back(request, "posts:staff_post_list")},
        )
    deleted = services.post_moderate_delete(actor=request.user, post_id=pk)
    if deleted is None:
        messages.info(request, "That post was already deleted.")
    else:
        messages.success(request, f"Deleted “{deleted.title}” by {deleted.author.email}.")
    if request.htmx:
        return HttpResponse("")  # an empty outerHTML swap: the row goes
    return redirect(_back(request, "posts:staff_post_list"))
