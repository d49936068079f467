from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from posts.models import Post
from tests.conftest import HTMX, personal_team

LIST = "/dashboard/posts/"
CREATE = "/dashboard/posts/new/"
BOTH = pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])


@pytest.fixture
def post(user: User) -> Post:
    return Post.objects.create(author=user, team=personal_team(user), title="First", body="Hello **world**")


def edit_url(post: Post) -> str:
    return f"/dashboard/posts/{post.pk}/edit/"


def delete_url(post: Post) -> str:
    return f"/dashboard/posts/{post.pk}/delete/"


# --- List -------------------------------------------------------------------------------------


def test_list_shows_only_my_posts_with_markdown_rendered(
    user_client: Client, post: Post, other_user: User, plan_limits: Callable[..., None]
) -> None:
    plan_limits(max_posts=50)
    Post.objects.create(author=other_user, team=personal_team(other_user), title="Not yours", body="b")

    html = user_client.get(LIST).content.decode()

    assert "First" in html
    assert "<strong>world</strong>" in html
    assert "Not yours" not in html
    assert "1 / 50 posts on your team's plan" in html


def test_list_never_lets_raw_html_through(user_client: Client, user: User) -> None:
    Post.objects.create(
        author=user,
        team=personal_team(user),
        title="<b>t</b>",
        body="<script>alert(1)</script> [x](javascript:alert(1))",
    )

    html = user_client.get(LIST).content.decode()

    assert "<script>alert(1)" not in html
    assert 'href="javascript' not in html
    assert "&lt;b&gt;t&lt;/b&gt;" in html


def test_list_is_paginated(user_client: Client, user: User) -> None:
    Post.objects.bulk_create(
        Post(author=user, team=personal_team(user), title=f"Post {i:02}", body="b") for i in range(12)
    )

    first = user_client.get(LIST).content.decode()
    second = user_client.get(LIST, {"page": 2}).content.decode()

    assert first.count('class="card post-row"') == 10
    assert second.count('class="card post-row"') == 2
    assert "Page 2 of 2" in second


def test_list_query_count_does_not_grow_with_posts(
    user_client: Client, user: User, django_assert_max_num_queries: object
) -> None:
    Post.objects.bulk_create(
        Post(author=user, team=personal_team(user), title=f"Post {i}", body="*b*") for i in range(3)
    )
    user_client.get(LIST)  # warm the flag cache, as in any running process
    # 6, one added with tenancy: the person's memberships (the current team, shared with the switcher),
    # which the team's post count, plan and rows need before they run.
    with django_assert_max_num_queries(6) as few:  # type: ignore[operator]
        user_client.get(LIST)
    Post.objects.bulk_create(
        Post(author=user, team=personal_team(user), title=f"More {i}", body="*b*") for i in range(20)
    )
    with django_assert_max_num_queries(len(few)):  # type: ignore[operator]
        user_client.get(LIST)


def test_list_htmx_returns_the_region_only(user_client: Client, post: Post) -> None:
    response = user_client.get(LIST, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="posts-region"')
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_list_needs_login(client: Client, db: None) -> None:
    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={LIST}"


# --- Create -----------------------------------------------------------------------------------


def test_create_plain_post_redirects_back_with_a_message(user_client: Client, user: User) -> None:
    response = user_client.post(CREATE, {"title": "Hello", "body": "World"})

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert Post.objects.get().author == user
    assert "Post published." in user_client.get(LIST).content.decode()


def test_create_htmx_returns_the_refreshed_region_with_a_blank_form_and_a_toast(
    user_client: Client, user: User
) -> None:
    response = user_client.post(CREATE, {"title": "Hello", "body": "World"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="posts-region"')
    assert f'id="post-{Post.objects.get().pk}"' in html
    assert 'name="title" value="Hello"' not in html  # the form is blank again
    assert "Post published." in html
    assert 'hx-swap-oob="beforeend"' in html


@BOTH
def test_create_invalid_input_is_shown_in_the_form_and_changes_nothing(
    user_client: Client, headers: dict[str, str]
) -> None:
    response = user_client.post(CREATE, {"title": "  ", "body": ""}, **headers)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Give your post a title." in html
    assert "Write something in the body." in html
    assert not Post.objects.exists()


@BOTH
def test_create_beyond_the_plan_limit_is_a_form_error(
    user_client: Client, user: User, headers: dict[str, str], plan_limits: Callable[..., None]
) -> None:
    limit = 3
    plan_limits(max_posts=limit)
    Post.objects.bulk_create(
        Post(author=user, team=personal_team(user), title=f"p{i}", body="b") for i in range(limit)
    )

    response = user_client.post(CREATE, {"title": "Extra", "body": "Text kept"}, **headers)

    html = response.content.decode()
    assert response.status_code == 200
    assert f"limit of {limit} posts" in html
    assert 'class="form-errors"' in html
    assert "Text kept</textarea>" in html
    assert Post.objects.count() == limit


def test_create_needs_post(user_client: Client) -> None:
    assert user_client.get(CREATE).status_code == 405


def test_create_anonymous_htmx_gets_a_client_redirect_to_login(client: Client, db: None) -> None:
    response = client.post(CREATE, {"title": "x", "body": "y"}, **HTMX)

    assert response["HX-Redirect"].startswith("/accounts/login/")
    assert not Post.objects.exists()


# --- Edit -------------------------------------------------------------------------------------


def test_edit_htmx_get_returns_the_inline_form(user_client: Client, post: Post) -> None:
    html = user_client.get(edit_url(post), **HTMX).content.decode()

    assert html.lstrip().startswith(f'<article class="card post-row post-row-editing" id="post-{post.pk}"')
    assert f'id="post-{post.pk}-title"' in html
    assert 'value="First"' in html


def test_edit_plain_get_is_a_full_page(user_client: Client, post: Post) -> None:
    html = user_client.get(edit_url(post)).content.decode()

    assert "<html" in html
    assert "Edit post" in html


def test_edit_htmx_post_returns_the_updated_row(user_client: Client, post: Post) -> None:
    response = user_client.post(edit_url(post), {"title": "Renamed", "body": "_new_"}, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith(f'<article class="card post-row" id="post-{post.pk}"')
    assert "Renamed" in html
    assert "<em>new</em>" in html
    assert "Post saved." in html
    post.refresh_from_db()
    assert post.title == "Renamed"


def test_edit_plain_post_redirects_to_the_list(user_client: Client, post: Post) -> None:
    response = user_client.post(edit_url(post), {"title": "Renamed", "body": "b"})

    assert response.status_code == 302
    assert response["Location"] == LIST
    post.refresh_from_db()
    assert post.title == "Renamed"


@BOTH
def test_edit_invalid_input_stays_in_the_form_and_changes_nothing(
    user_client: Client, post: Post, headers: dict[str, str]
) -> None:
    response = user_client.post(edit_url(post), {"title": "", "body": "still here"}, **headers)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Give your post a title." in html
    assert "still here</textarea>" in html
    post.refresh_from_db()
    assert post.title == "First"


def test_post_detail_htmx_returns_the_row_to_cancel_an_edit(user_client: Client, post: Post) -> None:
    html = user_client.get(f"/dashboard/posts/{post.pk}/", **HTMX).content.decode()

    assert html.lstrip().startswith(f'<article class="card post-row" id="post-{post.pk}"')
    assert "<html" in user_client.get(f"/dashboard/posts/{post.pk}/").content.decode()


# --- Delete -----------------------------------------------------------------------------------


def test_delete_htmx_answers_empty_so_the_row_goes(
    user_client: Client, post: Post, plan_limits: Callable[..., None]
) -> None:
    plan_limits(max_posts=50)
    response = user_client.post(delete_url(post), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    # Nothing in-band (the row's outerHTML becomes empty); the count and a toast out of band.
    assert html.startswith(
        '<span id="post-count" class="muted small" hx-swap-oob="true">0 / 50 posts on your team\'s plan'
    )
    assert '<div id="toasts"' in html
    assert "Deleted “First”." in response.content.decode()
    assert not Post.objects.exists()


def test_delete_plain_post_redirects_back(user_client: Client, post: Post) -> None:
    response = user_client.post(delete_url(post))

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not Post.objects.exists()


def test_delete_needs_post(user_client: Client, post: Post) -> None:
    assert user_client.get(delete_url(post)).status_code == 405
    assert Post.objects.exists()


# --- Authorization and CSRF -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "edit", {}),
        ("post", "edit", {"title": "Stolen", "body": "b"}),
        ("post", "delete", {}),
        ("get", "detail", {}),
    ],
)
def test_another_users_post_is_not_found(
    client: Client,
    post: Post,
    other_user: User,
    staff_user: User,
    method: str,
    path: str,
    data: dict[str, str],
) -> None:
    url = {"edit": edit_url(post), "delete": delete_url(post), "detail": f"/dashboard/posts/{post.pk}/"}[path]
    for intruder in (other_user, staff_user):  # staff moderate from the staff panel, not here
        client.force_login(intruder)
        assert getattr(client, method)(url, data).status_code == 404
    post.refresh_from_db()
    assert post.title == "First"


@pytest.mark.parametrize("path", ["edit", "delete"])
def test_anonymous_is_sent_to_log_in(client: Client, post: Post, path: str) -> None:
    url = edit_url(post) if path == "edit" else delete_url(post)

    response = client.post(url, {"title": "x", "body": "y"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Post.objects.filter(title="First").exists()


@pytest.mark.parametrize("path", ["create", "edit", "delete"])
def test_a_post_without_the_csrf_token_is_refused(user: User, post: Post, path: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = {"create": CREATE, "edit": edit_url(post), "delete": delete_url(post)}[path]

    response = client.post(url, {"title": "Changed", "body": "b"}, **HTMX)

    assert response.status_code == 403
    assert list(Post.objects.values_list("title", flat=True)) == ["First"]


def test_list_restored_from_htmx_history_is_the_whole_page(user_client: Client, post: Post) -> None:
    response = user_client.get(LIST, {"page": 1}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)

    assert "<html" in response.content.decode()


def test_the_dashboard_card_counts_posts_against_the_limit_in_constant_queries(
    user_client: Client, user: User, plan_limits: Callable[..., None], django_assert_max_num_queries: Any
) -> None:
    plan_limits(max_posts=50)
    user_client.get("/dashboard/")
    # 6, one added with tenancy: the person's memberships (the current team, shared with the switcher),
    # which the team's post count, plan and rows need before they run.
    with django_assert_max_num_queries(6) as few:
        user_client.get("/dashboard/")
    Post.objects.bulk_create(
        Post(author=user, team=personal_team(user), title=f"p{i}", body="b") for i in range(30)
    )
    with django_assert_max_num_queries(len(few)):
        html = user_client.get("/dashboard/").content.decode()

    assert '>30</a> <small class="muted">/ 50</small>' in html
    assert '<a href="/dashboard/posts/"' in html  # the sidebar link posts adds


def test_without_a_plan_posts_are_unlimited(user_client: Client, plan_limits: Callable[..., None]) -> None:
    plan_limits()  # a provider that sets no number: the limit's own default

    assert '<small class="muted">/ unlimited</small>' in user_client.get("/dashboard/").content.decode()
