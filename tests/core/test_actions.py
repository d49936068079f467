"""A failure the user did not cause, made real: the database refuses every statement on the posts
table, the way it would while unreachable. The action answers with a friendly error in place,
logs it and changes nothing."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from accounts.models import User
from posts.models import Post
from staff.models import AuditEntry, Flag
from tests.conftest import HTMX


@contextmanager
def database_failing_on(table: str) -> Iterator[None]:
    def refuse(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if table in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


@pytest.fixture
def post(user: User) -> Post:
    return Post.objects.create(author=user, title="Keep me", body="b")


def test_htmx_action_gets_a_friendly_error_inserted_where_it_was_sent_from(
    user_client: Client, post: Post, caplog: pytest.LogCaptureFixture
) -> None:
    with database_failing_on("posts_post"):
        response = user_client.post(
            f"/dashboard/posts/{post.pk}/edit/", {"title": "New", "body": "b"}, **HTMX
        )

    html = response.content.decode()
    assert response.status_code == 200  # htmx 2 swaps only 2xx: never an empty swap
    assert response["HX-Retarget"] == "this"
    assert response["HX-Reswap"] == "afterbegin"
    assert 'role="alert"' in html
    assert "nothing was changed" in html
    assert "Traceback" not in html
    assert "<html" not in html
    assert any("Action post_edit failed" in record.getMessage() for record in caplog.records)
    post.refresh_from_db()
    assert post.title == "Keep me"


def test_plain_action_gets_a_friendly_error_page(user_client: Client, post: Post) -> None:
    with database_failing_on("posts_post"):
        response = user_client.post(
            "/dashboard/posts/new/",
            {"title": "New", "body": "b"},
            HTTP_REFERER="http://testserver/dashboard/posts/",
        )

    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Please try again" in html
    assert "nothing was changed" in html
    assert 'href="http://testserver/dashboard/posts/"' in html  # the way back
    assert Post.objects.count() == 1


def test_a_failure_midway_rolls_back_the_whole_staff_action(
    staff_client: Client, staff_user: User, post: Post
) -> None:
    # The audit entry is written first, then the delete fails: neither may remain.
    with database_failing_on('DELETE FROM "posts_post"'):
        response = staff_client.post(f"/staff/posts/{post.pk}/delete/", **HTMX)

    assert response.status_code == 200
    assert "nothing was changed" in response.content.decode()
    assert Post.objects.filter(pk=post.pk).exists()
    assert not AuditEntry.objects.exists()


def test_a_flag_toggle_failing_leaves_the_flag_as_it_was(staff_client: Client) -> None:
    with database_failing_on('"staff_auditentry"'):
        response = staff_client.post("/staff/flags/signups/toggle/", {"enabled": "off"})

    assert response.status_code == 503
    assert not Flag.objects.filter(name="signups", enabled=False).exists()


def test_an_unsafe_referer_is_not_offered_as_the_way_back(user_client: Client, post: Post) -> None:
    with database_failing_on("posts_post"):
        response = user_client.post(
            f"/dashboard/posts/{post.pk}/delete/", HTTP_REFERER="https://evil.example/phish"
        )

    assert response.status_code == 503
    assert "evil.example" not in response.content.decode()


# profile_edit saves without a transaction of its own, as Django's forms do: run it in autocommit,
# as in production, not inside the transaction a test normally runs in.
@pytest.mark.django_db(transaction=True)
def test_the_profile_action_is_covered_too(user_client: Client, user: User) -> None:
    with database_failing_on('UPDATE "accounts_user"'):
        response = user_client.post(
            "/dashboard/profile/", {"display_name": "New", "bio": "", "time_zone": "UTC"}, **HTMX
        )

    assert response.status_code == 200
    assert "nothing was changed" in response.content.decode()
    user.refresh_from_db()
    assert user.display_name == "Ann"
