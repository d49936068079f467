from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from core.models import Flag

pytestmark = pytest.mark.django_db


def test_signups_closed_changes_the_landing_nav_and_the_signup_page(client: Client) -> None:
    assert "Start free" in client.get("/").content.decode()
    assert "Create an account" in client.get("/accounts/login/").content.decode()
    Flag.objects.create(name="signups", enabled=False, label="Sign-ups open")
    cache.clear()  # what the staff action's invalidation does on commit

    landing = client.get("/").content.decode()
    login = client.get("/accounts/login/").content.decode()
    page = client.get("/accounts/signup/")
    refused = client.post(
        "/accounts/signup/",
        {"display_name": "Cy", "email": "cy@example.com", "password": "a-long-passphrase-9"},
    )

    assert "Start free" not in landing
    assert "/accounts/signup/" not in login  # the login page's "New here?" goes too
    assert "Sign-ups are closed" in page.content.decode()
    assert 'name="email"' not in page.content.decode()
    assert refused.status_code == 403
    assert "Sign-ups are closed" in refused.content.decode()
    assert not User.objects.exists()


def test_the_banner_shows_only_when_on(client: Client) -> None:
    Flag.objects.create(name="maintenance_banner", enabled=False, label="b", message="Down at 10")
    assert "Down at 10" not in client.get("/").content.decode()

    Flag.objects.filter(name="maintenance_banner").update(enabled=True)
    cache.clear()
    assert (
        '<div class="banner banner-warning" role="status">Down at 10</div>'
        in client.get("/").content.decode()
    )


def test_flags_are_read_once_per_few_seconds_not_per_request(
    client: Client, django_assert_num_queries: Any
) -> None:
    client.get("/")
    with django_assert_num_queries(0):
        client.get("/")
