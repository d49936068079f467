import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User

PASSWORD = "correct-horse-battery-staple"


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
def user(db: None) -> User:
    return User.objects.create_user(email="ann@example.com", password=PASSWORD, display_name="Ann")


@pytest.fixture
def other_user(db: None) -> User:
    return User.objects.create_user(email="bob@example.com", password=PASSWORD, display_name="Bob")


@pytest.fixture
def staff_user(db: None) -> User:
    return User.objects.create_user(
        email="staff@example.com", password=PASSWORD, display_name="Sam", is_staff=True
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
