from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from playwright.sync_api import Page, expect

from accounts.models import User
from posts.models import Post
from tests.browser.conftest import log_in
from tests.conftest import personal_team

pytestmark = pytest.mark.django_db(transaction=True)


def test_edit_a_post_in_place_with_javascript(js_page: Page, live_server: object, user: User) -> None:
    post = Post.objects.create(author=user, team=personal_team(user), title="Draft", body="old text")
    base = live_server.url  # type: ignore[attr-defined]
    page = js_page
    log_in(page, base, user.email)
    page.goto(f"{base}/dashboard/posts/")
    page.evaluate("window.__noReload = true")
    row = page.locator(f"#post-{post.pk}")

    row.get_by_role("link", name="Edit").click()
    row.locator("input[name=title]").fill("Final")
    row.locator("textarea[name=body]").fill("**new** text")
    row.get_by_role("button", name="Save").click()

    expect(row.locator(".post-title")).to_have_text("Final")
    expect(row.locator(".prose strong")).to_have_text("new")
    expect(page.locator(".toast")).to_contain_text("Post saved.")
    assert page.evaluate("window.__noReload") is True
    post.refresh_from_db()
    assert post.title == "Final"


def test_an_invalid_edit_keeps_the_form_open_with_the_error(
    js_page: Page, live_server: object, user: User
) -> None:
    post = Post.objects.create(author=user, team=personal_team(user), title="Draft", body="text")
    base = live_server.url  # type: ignore[attr-defined]
    log_in(js_page, base, user.email)
    js_page.goto(f"{base}/dashboard/posts/")
    row = js_page.locator(f"#post-{post.pk}")

    row.get_by_role("link", name="Edit").click()
    row.locator("input[name=title]").fill("")
    row.get_by_role("button", name="Save").click()

    expect(row.locator(".errorlist")).to_have_text("Give your post a title.")
    row.get_by_role("link", name="Cancel").click()
    expect(row.locator(".post-title")).to_have_text("Draft")


def test_create_and_delete_with_javascript(js_page: Page, live_server: object, user: User) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    page = js_page
    log_in(page, base, user.email)
    page.goto(f"{base}/dashboard/posts/")
    page.evaluate("window.__noReload = true")

    page.fill("#post-create-form input[name=title]", "Fresh")
    page.fill("#post-create-form textarea[name=body]", "Hello <script>alert(1)</script>")
    page.click("#post-create-form button[type=submit]")
    expect(page.locator(".post-row .post-title")).to_have_text(["Fresh"])
    expect(page.locator(".post-row .prose")).to_contain_text("Hello")
    expect(page.locator(".post-list-empty")).to_be_hidden()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(".post-row").get_by_role("button", name="Delete").click()
    expect(page.locator(".post-row")).to_have_count(0)
    expect(page.locator(".post-list-empty")).to_be_visible()
    expect(page.locator("#post-count")).to_have_text("0 / 50 posts on your team's plan")
    assert page.evaluate("window.__noReload") is True
    assert not Post.objects.exists()


def test_create_edit_and_delete_without_javascript(nojs_page: Page, live_server: object, user: User) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    page = nojs_page
    log_in(page, base, user.email)
    page.goto(f"{base}/dashboard/posts/")

    page.fill("#post-create-form input[name=title]", "No JS")
    page.fill("#post-create-form textarea[name=body]", "plain")
    with page.expect_navigation():
        page.click("#post-create-form button[type=submit]")
    assert page.url == f"{base}/dashboard/posts/"
    expect(page.locator(".toast")).to_contain_text("Post published.")

    with page.expect_navigation():
        page.locator(".post-row").get_by_role("link", name="Edit").click()
    assert "/edit/" in page.url
    page.fill("input[name=title]", "No JS, edited")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.locator(".post-row .post-title")).to_have_text("No JS, edited")

    with page.expect_navigation():
        page.locator(".post-row").get_by_role("button", name="Delete").click()
    assert page.url == f"{base}/dashboard/posts/"
    expect(page.locator(".post-row")).to_have_count(0)
    assert not Post.objects.exists()


@contextmanager
def table_away(table: str) -> Iterator[None]:
    """A real database failure for the live server: its queries on `table` fail with an
    OperationalError ("no such table" / "relation does not exist") until the block ends."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")


def test_a_database_failure_shows_a_friendly_error_in_the_form_and_keeps_the_input(
    js_page: Page, live_server: object, user: User
) -> None:
    post = Post.objects.create(author=user, team=personal_team(user), title="Draft", body="text")
    base = live_server.url  # type: ignore[attr-defined]
    log_in(js_page, base, user.email)
    js_page.goto(f"{base}/dashboard/posts/")
    row = js_page.locator(f"#post-{post.pk}")
    row.get_by_role("link", name="Edit").click()
    row.locator("input[name=title]").fill("Unsaved")

    with table_away("posts_post"):
        row.get_by_role("button", name="Save").click()
        expect(row.locator("[role=alert]")).to_contain_text("nothing was changed")

    expect(row.locator("input[name=title]")).to_have_value("Unsaved")
    post.refresh_from_db()
    assert post.title == "Draft"
    row.get_by_role("button", name="Save").click()  # once the database is back, it just works
    expect(row.locator(".post-title")).to_have_text("Unsaved")
