"""The posts actions under a database failure they did not cause (core.actions, through @operation)."""

import pytest
from django.test import Client

from accounts.models import User
from core.models import AuditEntry
from posts.models import Post
from tests.conftest import HTMX, personal_team
from tests.core.test_actions import database_failing_on


@pytest.fixture
def post(user: User) -> Post:
    return Post.objects.create(author=user, team=personal_team(user), title="Keep me", body="b")


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


def test_an_unsafe_referer_is_not_offered_as_the_way_back(user_client: Client, post: Post) -> None:
    with database_failing_on("posts_post"):
        response = user_client.post(
            f"/dashboard/posts/{post.pk}/delete/", HTTP_REFERER="https://evil.example/phish"
        )

    assert response.status_code == 503
    assert "evil.example" not in response.content.decode()
