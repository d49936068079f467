import pytest
from playwright.sync_api import Dialog, Page, expect

from accounts.models import User
from core.models import AuditEntry
from posts.models import Post
from tests.browser.conftest import log_in
from tests.conftest import personal_team

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_delete_with_javascript_confirms_and_removes_the_row(
    js_page: Page, live_server: object, staff_user: User, user: User
) -> None:
    doomed = Post.objects.create(author=user, team=personal_team(user), title="Spam", body="b")
    kept = Post.objects.create(author=user, team=personal_team(user), title="Fine", body="b")
    base = live_server.url  # type: ignore[attr-defined]
    page = js_page
    log_in(page, base, staff_user.email)
    page.goto(f"{base}/staff/")
    page.evaluate("window.__noReload = true")
    dialogs: list[str] = []

    def dismiss_then_accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        if len(dialogs) == 1:
            dialog.dismiss()
        else:
            dialog.accept()

    page.on("dialog", dismiss_then_accept)
    button = page.locator(f"#staff-post-{doomed.pk}").get_by_role("button", name="Delete")
    button.click()  # dismissed: nothing happens
    expect(page.locator(f"#staff-post-{doomed.pk}")).to_be_visible()
    assert Post.objects.filter(pk=doomed.pk).exists()

    button.click()
    expect(page.locator(f"#staff-post-{doomed.pk}")).to_have_count(0)
    expect(page.locator(f"#staff-post-{kept.pk}")).to_be_visible()
    expect(page.locator(".toast")).to_contain_text("Deleted “Spam”")
    assert dialogs[0] == "Delete “Spam” by ann@example.com? This cannot be undone."
    assert page.evaluate("window.__noReload") is True
    assert not Post.objects.filter(pk=doomed.pk).exists()
    assert AuditEntry.objects.get().action == "post.delete"


def test_staff_delete_without_javascript_goes_through_a_confirmation_page(
    nojs_page: Page, live_server: object, staff_user: User, user: User
) -> None:
    post = Post.objects.create(author=user, team=personal_team(user), title="Spam", body="b")
    base = live_server.url  # type: ignore[attr-defined]
    page = nojs_page
    log_in(page, base, staff_user.email)
    page.goto(f"{base}/staff/posts/?q=spam")

    with page.expect_navigation():
        page.locator(f"#staff-post-{post.pk}").get_by_role("button", name="Delete").click()
    expect(page.locator("h2")).to_have_text("Delete this post?")
    assert Post.objects.exists()
    with page.expect_navigation():
        page.get_by_role("button", name="Delete post").click()

    assert page.url == f"{base}/staff/posts/?q=spam"
    expect(page.locator(".toast")).to_contain_text("Deleted “Spam”")
    expect(page.locator(".empty")).to_contain_text("No post matches")
    assert not Post.objects.exists()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_toggling_a_flag_changes_the_product_for_another_visitor(
    new_context: object, live_server: object, staff_user: User, javascript: bool
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    staff_page = new_context(java_script_enabled=javascript).new_page()  # type: ignore[operator]
    visitor = new_context().new_page()  # type: ignore[operator]
    visitor.goto(f"{base}/accounts/signup/")
    expect(visitor.locator("h1")).to_have_text("Create your account")

    log_in(staff_page, base, staff_user.email)
    staff_page.goto(f"{base}/staff/flags/")
    switch = staff_page.locator("#flag-signups").get_by_role("switch")
    expect(switch).to_have_attribute("aria-checked", "true")
    if javascript:
        switch.click()
    else:
        with staff_page.expect_navigation():
            switch.click()
    expect(staff_page.locator("#flag-signups").get_by_role("switch")).to_have_attribute(
        "aria-checked", "false"
    )
    expect(staff_page.locator(".toast")).to_contain_text("Sign-ups open: off.")

    visitor.reload()
    expect(visitor.locator("h1")).to_have_text("Sign-ups are closed")
    expect(visitor.get_by_role("link", name="Start free")).to_have_count(0)


def test_the_maintenance_banner_appears_at_once_with_javascript(
    js_page: Page, new_context: object, live_server: object, staff_user: User
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    page = js_page
    log_in(page, base, staff_user.email)
    page.goto(f"{base}/staff/flags/")
    row = page.locator("#flag-maintenance_banner")

    row.locator("input[name=message]").fill("Upgrading at 22:00 UTC")
    row.get_by_role("button", name="Save message").click()
    expect(page.locator(".toast")).to_contain_text("Banner message saved.")
    page.locator("#flag-maintenance_banner").get_by_role("switch").click()

    expect(page.locator("#site-banner")).to_have_text("Upgrading at 22:00 UTC")  # swapped out of band
    visitor = new_context().new_page()  # type: ignore[operator]
    visitor.goto(f"{base}/")
    expect(visitor.locator("#site-banner .banner")).to_have_text("Upgrading at 22:00 UTC")
