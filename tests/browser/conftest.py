"""Playwright on a real Chromium (Debian's when present), with JavaScript on and off.

The Django live server runs in a thread of this process; Playwright's sync API keeps an event loop
in the main thread, hence DJANGO_ALLOW_ASYNC_UNSAFE for the database setup around each test.
"""

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import PASSWORD, chromium_path

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The pages of a feature app are tested here, in one browser session per run; with the app removed
# (docs/architecture.md, "Removing a feature app"), its file is not collected.
NEEDS_APP = {
    "test_billing.py": "billing",
    "test_chat.py": "chat",
    "test_posts.py": "posts",
    "test_staff.py": "posts",
}
collect_ignore = [name for name, app in NEEDS_APP.items() if importlib.util.find_spec(app) is None]

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def js_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def nojs_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Any]:
    contexts: list[BrowserContext] = []

    def make(**kwargs: Any) -> BrowserContext:
        context = browser.new_context(**kwargs)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def log_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base_url}/dashboard/")
