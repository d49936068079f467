from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from posts.models import Post
from staff.flags import FLAG_CACHE_KEY, flag_is_active
from staff.models import AuditEntry, Flag
from tests.conftest import HTMX

BOTH = pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
STAFF_PAGES = ["/staff/", "/staff/flags/", "/staff/audit/"]


@pytest.fixture
def post(user: User) -> Post:
    return Post.objects.create(author=user, title="Spam spam", body="buy *now*")


def delete_url(post: Post | int) -> str:
    return f"/staff/posts/{getattr(post, 'pk', post)}/delete/"


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_are_for_staff(client: Client, user: User, staff_user: User, path: str) -> None:
    anonymous = client.get(path)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=")

    client.force_login(user)
    forbidden = client.get(path)
    assert forbidden.status_code == 403
    assert "reserved for other accounts" in forbidden.content.decode()

    client.force_login(staff_user)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("delete", {}),
        ("/staff/flags/signups/toggle/", {"enabled": "off"}),
        ("/staff/flags/maintenance_banner/message/", {"message": "x"}),
    ],
)
def test_staff_actions_refuse_everyone_else(
    client: Client, user: User, post: Post, path: str, data: dict[str, str]
) -> None:
    url = delete_url(post) if path == "delete" else path

    assert client.post(url, data)["Location"].startswith("/accounts/login/")
    client.force_login(user)
    assert client.post(url, data).status_code == 403
    assert client.post(url, data, **HTMX).status_code == 403

    assert Post.objects.exists()
    assert not Flag.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("delete", {}),
        ("/staff/flags/signups/toggle/", {"enabled": "off"}),
        ("/staff/flags/maintenance_banner/message/", {"message": "x"}),
    ],
)
def test_staff_actions_need_the_csrf_token(
    staff_user: User, post: Post, path: str, data: dict[str, str]
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)

    response = client.post(delete_url(post) if path == "delete" else path, data, **HTMX)

    assert response.status_code == 403
    assert Post.objects.exists()
    assert not AuditEntry.objects.exists()


# --- Posts moderation -------------------------------------------------------------------------


def test_list_shows_every_post_and_searches(staff_client: Client, post: Post, other_user: User) -> None:
    Post.objects.create(author=other_user, title="Gardening", body="tomatoes")

    everything = staff_client.get("/staff/").content.decode()
    found = staff_client.get("/staff/", {"q": "tomato"}).content.decode()
    by_author = staff_client.get("/staff/", {"q": "ann@"}, **HTMX).content.decode()

    assert "Spam spam" in everything
    assert "Gardening" in everything
    assert "Gardening" in found
    assert "Spam spam" not in found
    assert by_author.lstrip().startswith('<div id="post-table"')
    assert "Spam spam" in by_author
    assert "Gardening" not in by_author


def test_list_is_paginated_and_keeps_the_search(staff_client: Client, user: User) -> None:
    Post.objects.bulk_create(Post(author=user, title=f"Match {i}", body="b") for i in range(25))

    html = staff_client.get("/staff/", {"q": "match"}).content.decode()

    assert html.count('<tr id="staff-post-') == 20
    assert 'href="?q=match&amp;page=2"' in html


def test_list_query_count_does_not_grow_with_posts(
    staff_client: Client, user: User, other_user: User, django_assert_max_num_queries: Any
) -> None:
    Post.objects.bulk_create(Post(author=user, title=f"a{i}", body="b") for i in range(2))
    staff_client.get("/staff/")
    with django_assert_max_num_queries(5) as few:
        staff_client.get("/staff/")
    Post.objects.bulk_create(Post(author=other_user, title=f"b{i}", body="b") for i in range(18))
    with django_assert_max_num_queries(len(few)):
        staff_client.get("/staff/")


def test_delete_htmx_removes_the_row_and_audits(staff_client: Client, staff_user: User, post: Post) -> None:
    response = staff_client.post(delete_url(post), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div id="toasts"')  # an empty swap, plus the toast out of band
    assert "Deleted “Spam spam” by ann@example.com." in html
    assert not Post.objects.exists()
    assert AuditEntry.objects.get().action == "post.delete"


def test_delete_without_javascript_confirms_first(staff_client: Client, post: Post) -> None:
    confirm = staff_client.get(delete_url(post), {"next": "/staff/?q=spam&page=1"})

    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Delete this post?" in html
    assert "<em>now</em>" in html
    assert 'name="next" value="/staff/?q=spam&amp;page=1"' in html
    assert Post.objects.exists()  # a GET changes nothing

    done = staff_client.post(delete_url(post), {"next": "/staff/?q=spam&page=1"})

    assert done.status_code == 302
    assert done["Location"] == "/staff/?q=spam&page=1"
    assert not Post.objects.exists()


def test_delete_never_redirects_off_site(staff_client: Client, post: Post) -> None:
    response = staff_client.post(delete_url(post), {"next": "https://evil.example/"})

    assert response["Location"] == "/staff/"


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
    assert response["Location"] == "/staff/"


# --- Feature flags ----------------------------------------------------------------------------


def test_flags_page_lists_every_known_flag(staff_client: Client) -> None:
    html = staff_client.get("/staff/flags/").content.decode()

    for name in ("signups", "chat", "maintenance_banner"):
        assert f'id="flag-{name}"' in html
    assert html.count('role="switch"') == 3


def test_toggle_htmx_returns_the_row_and_the_banner_out_of_band(
    staff_client: Client, staff_user: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/staff/flags/maintenance_banner/toggle/", {"enabled": "on"}, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card flag-row" id="flag-maintenance_banner"')
    assert 'aria-checked="true"' in html
    assert '<div id="site-banner" hx-swap-oob="true"><div class="banner banner-warning"' in html
    assert flag_is_active("maintenance_banner")
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.detail) == (staff_user, "flag.toggle", {"enabled": True})


def test_toggle_plain_post_redirects_and_the_product_changes_at_once(
    staff_client: Client, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    assert flag_is_active("signups")  # the state is now cached, as in every running process

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/staff/flags/signups/toggle/", {"enabled": "off"})

    assert response.status_code == 302
    assert response["Location"] == "/staff/flags/"
    assert cache.get(FLAG_CACHE_KEY) is None
    staff_client.logout()
    assert "Sign-ups are closed" in staff_client.get("/accounts/signup/").content.decode()


def test_toggle_sends_the_wanted_state_so_a_replay_changes_nothing(
    staff_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/staff/flags/chat/toggle/", {"enabled": "off"})
        staff_client.post("/staff/flags/chat/toggle/", {"enabled": "off"})

    assert Flag.objects.get(name="chat").enabled is False
    assert AuditEntry.objects.count() == 1


def test_toggle_an_unknown_flag_is_404(staff_client: Client) -> None:
    assert staff_client.post("/staff/flags/nope/toggle/", {"enabled": "on"}).status_code == 404
    assert not Flag.objects.exists()


@BOTH
def test_banner_message_is_saved_and_shown_on_every_page(
    staff_client: Client,
    client: Client,
    user: User,
    headers: dict[str, str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/staff/flags/maintenance_banner/toggle/", {"enabled": "on"})
        response = staff_client.post(
            "/staff/flags/maintenance_banner/message/", {"message": "  Back at 22:00 UTC.  "}, **headers
        )

    assert response.status_code == (200 if headers else 302)
    assert Flag.objects.get(name="maintenance_banner").message == "Back at 22:00 UTC."
    client.force_login(user)
    for path in ("/", "/dashboard/", "/guide/"):
        assert (
            '<div class="banner banner-warning" role="status">Back at 22:00 UTC.</div>'
            in client.get(path).content.decode()
        )
    assert [entry.action for entry in AuditEntry.objects.order_by("id")] == ["flag.toggle", "flag.message"]


@BOTH
def test_banner_message_too_long_is_a_form_error(staff_client: Client, headers: dict[str, str]) -> None:
    response = staff_client.post(
        "/staff/flags/maintenance_banner/message/", {"message": "x" * 281}, **headers
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "at most 280 characters" in html
    assert not AuditEntry.objects.exists()


# --- Audit log --------------------------------------------------------------------------------


def test_audit_log_lists_newest_first(
    staff_client: Client,
    post: Post,
    django_capture_on_commit_callbacks: Any,
    django_assert_max_num_queries: Any,
) -> None:
    staff_client.post(delete_url(post), **HTMX)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/staff/flags/chat/toggle/", {"enabled": "off"})

    with django_assert_max_num_queries(6):
        html = staff_client.get("/staff/audit/").content.decode()

    assert html.index("flag.toggle") < html.index("post.delete")
    assert "staff@example.com" in html
    assert "Spam spam" in html


def test_search_restored_from_htmx_history_is_the_whole_page(staff_client: Client, post: Post) -> None:
    response = staff_client.get("/staff/", {"q": "spam"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)

    assert "<html" in response.content.decode()
