"""Every page, with JavaScript on and off, at phone and desktop width, light and dark: axe-core finds no
serious or critical accessibility violation, and nothing scrolls sideways on a phone. And the parts of the
shared frame a phone needs: the menu button, the dashboard's links, what shows only with JavaScript."""

import importlib.util
import re
from datetime import timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from django.utils import timezone
from playwright.sync_api import Browser, Page, Route, ViewportSize, expect

from accounts.models import User
from accounts.tokens import api_token_create
from core.audit import audit_record
from tests.browser.conftest import log_in
from tests.conftest import personal_membership

pytestmark = pytest.mark.django_db(transaction=True)

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1366, "height": 900}

PUBLIC_PAGES = [
    *("/", "/pricing/", "/guide/", "/accounts/login/", "/accounts/signup/", "/accounts/password-reset/"),
    *("/status/", "/no-such-page/"),
]
SIGNED_IN_PAGES = [
    *("/dashboard/", "/dashboard/posts/", "/dashboard/profile/", "/dashboard/tokens/", "/billing/", "/chat/"),
    *("/accounts/password-change/", "/accounts/security/", "/teams/", "/team/"),
    *("/staff/posts/", "/staff/teams/", "/staff/flags/", "/staff/audit/", "/staff/webhooks/"),
]
APP_OF_PAGE = {
    **{"/pricing/": "billing", "/billing/": "billing", "/staff/webhooks/": "billing", "/chat/": "chat"},
    **{
        "/dashboard/posts/": "posts",
        "/staff/posts/": "posts",
        "/staff/flags/": "staff",
        "/staff/audit/": "staff",
    },
    **{"/teams/": "teams", "/team/": "teams", "/staff/teams/": "teams"},
}


def installed(path: str) -> bool:
    app = APP_OF_PAGE.get(path)
    return app is None or importlib.util.find_spec(app) is not None


def some_of_everything(staff: User) -> None:
    """A row in every table, long values included, so the tables are seen as people see them."""
    api_token_create(user=staff, name="A deploy key for the continuous integration server")
    if importlib.util.find_spec("posts"):
        from posts.services import post_create

        post_create(
            membership=personal_membership(staff),
            title="A post with a rather long title to wrap",
            body="Some **text**.",
        )
    if importlib.util.find_spec("teams"):
        from teams.services import invitation_create

        invitation_create(actor=personal_membership(staff), email="a.rather.long.address@example.com")
    if importlib.util.find_spec("billing"):
        from billing.models import StripeEvent

        event = StripeEvent.objects.create(
            id="evt_1Q2x9ZpLmN4b7RtXabcdefgh",
            type="invoice.payment_failed",
            created=timezone.now(),
            payload={},
            status="failed",
            attempts=3,
            error="KeyError: 'customer' while handling invoice.payment_failed " * 3,
            next_attempt_at=timezone.now() + timedelta(minutes=5),
        )
        audit_record(actor=staff, action="stripe_event.replay", target=event, detail={"type": event.type})


SCRIPT = re.compile(rb"<script\b[^>]*>.*?</script>", re.S | re.I)
NOSCRIPT = re.compile(rb"</?noscript>", re.I)


def as_without_javascript(route: Route) -> None:
    """The page as a browser without JavaScript renders it: no script of ours runs (so `<html>` never gets
    its `js` class) and `<noscript>` content shows. axe itself needs a script engine, which a context with
    JavaScript turned off does not give even to Playwright's own evaluate, so the page's scripts are taken
    out of the HTML instead."""
    response = route.fetch(max_redirects=0)  # the browser follows redirects itself, cookies and all
    body = response.body()
    if "text/html" in response.headers.get("content-type", ""):
        body = NOSCRIPT.sub(b"", SCRIPT.sub(b"", body))
    route.fulfill(response=response, body=body)


def serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']][:3]}"
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


# On a phone a stacked table shows each cell as "LABEL value" (docs/ui.md): a cell with neither a label
# nor a role of its own (the row's title, its buttons) would be a bare value nobody can read.
UNLABELLED_CELLS = """[...document.querySelectorAll('table.table-stack td')]
    .filter(td => !td.dataset.label && td.textContent.trim())
    .filter(td => !td.matches('.cell-title, .cell-actions, .empty'))
    .map(td => td.closest('table').tHead?.rows[0].cells[td.cellIndex]?.textContent)"""


def check_page(page: Page, url: str, viewport: ViewportSize) -> list[str]:
    page.goto(url)
    problems = [f"{url}: {violation}" for violation in serious_violations(page)]
    if unlabelled := page.evaluate(UNLABELLED_CELLS):
        problems.append(f"{url}: table cells without data-label in columns {sorted(set(unlabelled))}")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > viewport["width"]:
        problems.append(f"{url}: scrolls sideways ({width} px wide at {viewport['width']} px)")
    return problems


@pytest.mark.parametrize(
    ("javascript", "viewport", "theme"),
    [(True, DESKTOP, "light"), (True, PHONE, "dark"), (False, PHONE, "light"), (False, DESKTOP, "dark")],
    ids=["js-desktop-light", "js-phone-dark", "nojs-phone-light", "nojs-desktop-dark"],
)
def test_every_page_is_accessible_and_fits(
    browser: Browser,
    live_server: Any,
    staff_user: User,
    javascript: bool,
    viewport: ViewportSize,
    theme: str,
) -> None:
    some_of_everything(staff_user)
    context = browser.new_context(viewport=viewport, color_scheme=theme)  # type: ignore[arg-type]
    if not javascript:
        context.route(lambda url: "/static/" not in url, as_without_javascript)
    page = context.new_page()
    problems: list[str] = []
    for path in filter(installed, PUBLIC_PAGES):
        problems += check_page(page, live_server.url + path, viewport)
    log_in(page, live_server.url, staff_user.email)
    for path in filter(installed, SIGNED_IN_PAGES):
        problems += check_page(page, live_server.url + path, viewport)
    context.close()
    assert problems == []


def expanded_state(page: Page, name: str) -> bool | None:
    """What the browser tells screen readers about the button `name`: expanded, collapsed, or nothing."""
    session = page.context.new_cdp_session(page)
    for node in session.send("Accessibility.getFullAXTree")["nodes"]:
        if node.get("role", {}).get("value") == "button" and node.get("name", {}).get("value") == name:
            for prop in node.get("properties", []):
                if prop["name"] == "expanded":
                    return bool(prop["value"]["value"])
            return None
    raise AssertionError(f"no button named {name!r}")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_phone_menu_is_a_button_that_opens_every_dashboard_page(
    browser: Browser, live_server: Any, staff_user: User, javascript: bool
) -> None:
    context = browser.new_context(java_script_enabled=javascript, viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server.url, staff_user.email)
    page.goto(live_server.url + "/pricing/" if installed("/pricing/") else live_server.url + "/guide/")

    menu = page.locator("#site-nav")
    button = page.get_by_role("button", name="Menu")
    expect(menu).to_be_hidden()
    assert expanded_state(page, "Menu") is False

    button.focus()
    page.keyboard.press("Enter")  # by keyboard, as a screen reader user would
    expect(menu).to_be_visible()
    assert expanded_state(page, "Menu") is True
    if javascript:
        expect(button).to_have_attribute("aria-expanded", "true")
    for label in ("Overview", "Profile", "API tokens", "Password", "Staff panel"):
        expect(menu.get_by_role("link", name=label, exact=True)).to_be_visible()

    menu.get_by_role("link", name="API tokens").click()
    page.wait_for_url("**/dashboard/tokens/")
    expect(page.locator("#site-nav")).to_be_hidden()
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_dashboard_links_on_a_phone_are_all_on_screen(
    browser: Browser, live_server: Any, staff_user: User, javascript: bool
) -> None:
    context = browser.new_context(java_script_enabled=javascript, viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server.url, staff_user.email)
    page.goto(live_server.url + "/dashboard/profile/")
    links = page.locator(".sidenav a")
    assert links.count() >= 5
    for index in range(links.count()):
        box = links.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"], links.nth(index).inner_text()
    page.locator(".sidenav").get_by_role("link", name="Password").click()
    page.wait_for_url("**/accounts/password-change/")
    context.close()


def test_desktop_shows_the_nav_inline_and_no_menu_button(js_page: Page, live_server: Any) -> None:
    js_page.set_viewport_size(DESKTOP)
    js_page.goto(live_server.url + "/")
    expect(js_page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(js_page.locator("#site-nav").get_by_role("link", name="Guide")).to_be_visible()


def test_without_javascript_what_cannot_work_is_hidden(nojs_page: Page, live_server: Any, user: User) -> None:
    log_in(nojs_page, live_server.url, user.email)
    nojs_page.goto(live_server.url + "/dashboard/profile/")
    nojs_page.fill("input[name=display_name]", "Ann B")
    nojs_page.click("#profile-form button[type=submit]")
    expect(nojs_page.locator(".toast")).to_be_visible()
    expect(nojs_page.locator(".toast-close")).to_be_hidden()
    expect(nojs_page.locator("[data-theme-toggle]")).to_be_hidden()


def test_theme_follows_the_system_until_the_toggle_overrides_it(browser: Browser, live_server: Any) -> None:
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(live_server.url + "/")
    background = "getComputedStyle(document.body).backgroundColor"
    dark = page.evaluate(background)
    assert dark == "rgb(13, 15, 23)"

    toggle = page.locator("[data-theme-toggle]")
    expect(toggle).to_be_visible()
    toggle.click()
    assert page.evaluate(background) != dark
    page.reload()
    assert page.evaluate(background) != dark  # the choice is kept
    page.locator("[data-theme-toggle]").click()  # back to what the system says: the override goes
    assert page.evaluate("localStorage.getItem('theme')") is None
    assert page.evaluate(background) == dark
    context.close()
