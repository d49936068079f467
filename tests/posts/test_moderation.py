from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from core.models import AuditEntry
from posts.models import Post
from tests.conftest import HTMX, personal_team

BOTH = pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
LIST = "/staff/posts/"


@pytest.fixture
def post(user: User) -> Post:
    return Post.objects.create(author=user, team=personal_team(user), title="Spam spam", body="buy *now*")


def delete_url(post: Post | int) -> str:
    return f"/staff/posts/{getattr(post, 'pk', post)}/delete/"


def test_moderation_is_for_staff(client: Client, user: User, staff_user: User, post: Post) -> None:
    assert client.get(LIST)["Location"].startswith("/accounts/login/?next=")
    assert client.post(delete_url(post))["Location"].startswith("/accounts/login/")
    client.force_login(user)
    assert client.get(LIST).status_code == 403
    assert client.post(delete_url(post)).status_code == 403
    assert client.post(delete_url(post), **HTMX).status_code == 403
    assert Post.objects.exists()
    assert not AuditEntry.objects.exists()
    client.force_login(staff_user)
    assert client.get(LIST).status_code == 200


def test_moderation_is_the_staff_panels_first_tab(staff_client: Client) -> None:
    home = staff_client.get("/staff/")
    assert home.status_code == 302
    assert home["Location"] == LIST
    assert staff_client.get("/staff/", {"q": "spam"})["Location"] == LIST + "?q=spam"
    html = staff_client.get(LIST).content.decode()
    assert html.index('href="/staff/posts/" aria-current="page">Posts') < html.index("Audit log")


def test_moderation_needs_the_csrf_token(staff_user: User, post: Post) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    assert client.post(delete_url(post)).status_code == 403
    assert Post.objects.exists()


# --- Posts moderation -------------------------------------------------------------------------


def test_list_shows_every_post_and_searches(staff_client: Client, post: Post, other_user: User) -> None:
    Post.objects.create(author=other_user, team=personal_team(other_user), title="Gardening", body="tomatoes")

    everything = staff_client.get(LIST).content.decode()
    found = staff_client.get(LIST, {"q": "tomato"}).content.decode()
    by_author = staff_client.get(LIST, {"q": "ann@"}, **HTMX).content.decode()

    assert "Spam spam" in everything
    assert "Gardening" in everything
    assert "Gardening" in found
    assert "Spam spam" not in found
    assert by_author.lstrip().startswith('<div id="post-table"')
    assert "Spam spam" in by_author
    assert "Gardening" not in by_author


def test_list_is_paginated_and_keeps_the_search(staff_client: Client, user: User) -> None:
    Post.objects.bulk_create(
        Post(author=user, team=personal_team(user), title=f"Match {i}", body="b") for i in range(25)
    )

    html = staff_client.get(LIST, {"q": "match"}).content.decode()

    assert html.count('<tr id="staff-post-') == 20
    assert 'href="?q=match&amp;page=2"' in html


def test_list_query_count_does_not_grow_with_posts(
    staff_client: Client, user: User, other_user: User, django_assert_max_num_queries: Any
) -> None:
    Post.objects.bulk_create(
        Post(author=user, team=personal_team(user), title=f"a{i}", body="b") for i in range(2)
    )
    staff_client.get(LIST)
    # 6, one added with tenancy: the person's memberships (the current team, shared with the switcher),
    # which the team's post count, plan and rows need before they run.
    with django_assert_max_num_queries(6) as few:
        staff_client.get(LIST)
    Post.objects.bulk_create(
        Post(author=other_user, team=personal_team(other_user), title=f"b{i}", body="b") for i in range(18)
    )
    with django_assert_max_num_queries(len(few)):
        staff_client.get(LIST)


def test_delete_htmx_removes_the_row_and_audits(staff_client: Client, staff_user: User, post: Post) -> None:
    response = staff_client.post(delete_url(post), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div id="toasts"')  # an empty swap, plus the toast out of band
    assert "Deleted “Spam spam” by ann@example.com." in html
    assert not Post.objects.exists()
    assert AuditEntry.objects.get().action == "post.delete"


def test_delete_without_javascript_confirms_first(staff_client: Client, post: Post) -> None:
    confirm = staff_client.get(delete_url(post), {"next": "/staff/posts/?q=spam&page=1"})

    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Delete this post?" in html
    assert "<em>now</em>" in html
    assert 'name="next" value="/staff/posts/?q=spam&amp;page=1"' in html
    assert Post.objects.exists()  # a GET changes nothing

    done = staff_client.post(delete_url(post), {"next": "/staff/posts/?q=spam&page=1"})

    assert done.status_code == 302
    assert done["Location"] == "/staff/posts/?q=spam&page=1"
    assert not Post.objects.exists()


def test_delete_never_redirects_off_site(staff_client: Client, post: Post) -> None:
    response = staff_client.post(delete_url(post), {"next": "https://evil.example/"})

    assert response["Location"] == LIST


@BOTH
def test_deleting_a_post_already_gone_is_not_an_error(staff_client: Client, headers: dict[str, str]) -> None:
    response = staff_client.post(delete_url(4242), **headers)

    assert response.status_code == (200 if headers else 302)
    if headers:
        assert "already deleted" in response.content.decode()
    else:
        assert "already deleted" in staff_client.get(response["Location"]).content.decode()
    assert not AuditEntry.objects.exists()


def test_confirmation_page_of_a_post_already_gone_goes_back(staff_client: Client) -> None:
    response = staff_client.get(delete_url(4242))

    assert response.status_code == 302
    assert response["Location"] == LIST


def test_a_moderation_is_in_the_audit_log(staff_client: Client, post: Post) -> None:
    staff_client.post(delete_url(post), **HTMX)

    html = staff_client.get("/staff/audit/").content.decode()

    assert "post.delete" in html
    assert "Spam spam" in html


def test_search_restored_from_htmx_history_is_the_whole_page(staff_client: Client, post: Post) -> None:
    response = staff_client.get(LIST, {"q": "spam"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)

    assert "<html" in response.content.decode()
