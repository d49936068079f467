import copy
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from billing.plans import entitlements_for
from core.actions import action_errors
from core.operations import Kind, operation
from core.types import AuthedHttpRequest
from posts import services
from posts.forms import PostForm
from posts.models import Post

PER_PAGE = 10


def _list_context(request: AuthedHttpRequest, form: PostForm | None = None) -> dict[str, Any]:
    posts = Post.objects.owned_by(request.user)
    page: Page[Post] = Paginator(posts, PER_PAGE).get_page(request.GET.get("page"))
    limit = entitlements_for(request.user).max_posts
    return {"form": form or PostForm(), "page": page, "limit": limit, "count": page.paginator.count}


def _edit_form(post: Post, data: QueryDict | None = None) -> PostForm:
    # Each open edit form gets its own field ids: several may sit on the list page with the create form.
    # A copy of the post, so an invalid submission never leaks into the post shown elsewhere.
    return PostForm(data, instance=copy.copy(post), auto_id=f"post-{post.pk}-%s")


def _own_post(request: AuthedHttpRequest, pk: int) -> Post:
    # Another user's post is "not found", never "forbidden": ids leak nothing.
    return get_object_or_404(Post.objects.owned_by(request.user), pk=pk)


@operation(Kind.PAGE, "Your posts", why="Lists your posts; changes nothing.")
@login_required
@require_GET
@vary_on_headers("HX-Request")
def post_list(request: AuthedHttpRequest) -> HttpResponse:
    template = "posts/posts.html"
    # Pagination pushes URLs; restoring one from history (a cache miss) needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#posts-region"
    return render(request, template, _list_context(request))


@operation(
    Kind.ACTION,
    "Write a post",
    why="A form on our own page: htmx refreshes the list in place, a plain POST redirects back.",
    try_at="posts:post_list",
)
@action_errors
@login_required
@require_POST
def post_create(request: AuthedHttpRequest) -> HttpResponse:
    form = PostForm(request.POST)
    if form.is_valid():
        try:
            services.post_create(author=request.user, **form.cleaned_data)
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


@operation(Kind.PAGE, "One of your posts", why="Shows a post; htmx uses it to cancel an edit in place.")
@login_required
@require_GET
@vary_on_headers("HX-Request")
def post_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    post = _own_post(request, pk)
    if request.htmx:
        return render(request, "posts/posts.html#post-row", {"post": post})
    return render(request, "posts/post_detail.html", {"post": post})


@operation(
    Kind.ACTION,
    "Edit a post",
    why="Edited in place from our page with htmx; a separate form page without JavaScript.",
    try_at="posts:post_list",
)
@action_errors
@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def post_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    post = _own_post(request, pk)
    form = _edit_form(post, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        post = services.post_update(post=post, actor=request.user, **form.cleaned_data)
        messages.success(request, "Post saved.")
        if not request.htmx:
            return redirect("posts:post_list")
        return render(request, "posts/posts.html#post-row", {"post": post})
    if request.htmx:
        return render(request, "posts/posts.html#post-edit-row", {"post": post, "form": form})
    return render(request, "posts/post_edit.html", {"post": post, "form": form})


@operation(
    Kind.ACTION,
    "Delete a post",
    why="A button on our page: htmx removes the row, a plain POST redirects back.",
    try_at="posts:post_list",
)
@action_errors
@login_required
@require_POST
def post_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    post = _own_post(request, pk)
    services.post_delete(post=post, actor=request.user)
    messages.success(request, f"Deleted “{post.title}”.")
    if not request.htmx:
        return redirect("posts:post_list")
    # An empty outerHTML swap removes the row; the post count is updated out of band.
    count_context = {
        "count": Post.objects.owned_by(request.user).count(),
        "limit": entitlements_for(request.user).max_posts,
        "oob": True,
    }
    return render(request, "posts/posts.html#post-count", count_context)
