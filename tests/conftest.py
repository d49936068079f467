import asyncio
import importlib.util
import shutil
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accounts.models import User
from core import entitlements

PASSWORD = "correct-horse-battery-staple"


def needs(*apps: str) -> pytest.MarkDecorator:
    """Skip a test that exercises a feature app when that app was removed (docs/architecture.md)."""
    missing = [app for app in apps if importlib.util.find_spec(app) is None]
    return pytest.mark.skipif(bool(missing), reason=f"the {', '.join(missing)} app is not installed")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Once a browser test has run, Playwright's sync API leaves its event loop marked as running on
    the main thread (its dispatcher greenlet sits inside `run_forever`). A test of sync code after it
    would see a running loop no production thread has (`asyncio.run` and `async_to_sync` refuse): each
    test that is not a browser test runs, setup to teardown, without the mark, and gives it back."""
    leftover = asyncio._get_running_loop()
    if leftover is None or item.get_closest_marker("browser"):
        return (yield)
    asyncio._set_running_loop(None)
    try:
        return (yield)
    finally:
        asyncio._set_running_loop(leftover)


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    # Throttles and flags live in the cache: every test starts from an empty one (Redis included).
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def plan_limits() -> Iterator[Callable[..., None]]:
    """Give every user these limit numbers, as a plan would: `plan_limits(max_posts=3)`. Tests of a
    feature's limits use it, so they hold with or without the billing app."""
    saved = list(entitlements._provider)

    def give(**numbers: int | None) -> None:
        entitlements.entitlements_provider_set(lambda user: numbers)

    yield give
    entitlements._provider[:] = saved


def personal_team(user: User) -> Any:
    """The user's personal team (every account has one), where their data lives until they switch."""
    from teams.services import personal_team_ensure

    return personal_team_ensure(user=user)


def personal_membership(user: User) -> Any:
    """The user's owner membership of their personal team: what a request of theirs works in."""
    from teams.models import Membership

    return Membership.objects.select_related("team").get(user=user, team=personal_team(user))


# The fixtures' addresses count as confirmed (accounts.verification), as every account before
# verification existed: tests of what an unconfirmed account may do make one with `unverified_user`.
@pytest.fixture
def user(db: None) -> User:
    return User.objects.create_user(
        email="ann@example.com", password=PASSWORD, display_name="Ann", email_verified_at=timezone.now()
    )


@pytest.fixture
def unverified_user(db: None) -> User:
    return User.objects.create_user(email="una@example.com", password=PASSWORD, display_name="Una")


@pytest.fixture
def other_user(db: None) -> User:
    return User.objects.create_user(
        email="bob@example.com", password=PASSWORD, display_name="Bob", email_verified_at=timezone.now()
    )


@pytest.fixture
def staff_user(db: None) -> User:
    return User.objects.create_user(
        email="staff@example.com",
        password=PASSWORD,
        display_name="Sam",
        is_staff=True,
        email_verified_at=timezone.now(),
    )


@pytest.fixture
def user_client(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(client: Client, staff_user: User) -> Client:
    client.force_login(staff_user)
    return client


HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate:
            return candidate
    return None


def in_own_thread[T](call: Callable[[], T]) -> T:
    """Run `call` in a fresh thread. The test client drives an async view (the chat stream) with
    async_to_sync, which refuses to run where an event loop is running: Playwright's sync API leaves one
    in the main thread once a browser test has run."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()
