"""API tokens die with the password, whichever way it changes; the cap on active tokens holds
everywhere, also when tokens are created at the same moment."""

import threading
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import connection, connections
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import ApiToken, User
from accounts.tokens import MAX_ACTIVE_TOKENS, TokenLimitReached, api_token_create
from tests.conftest import HTMX, PASSWORD, personal_team

NEW_PASSWORD = "an-entirely-new-passphrase-42"


def _active(user: User) -> int:
    return ApiToken.objects.active().filter(user=user).count()


def test_password_change_page_revokes_the_tokens(user_client: Client, user: User, other_user: User) -> None:
    api_token_create(user=user, name="Phone")
    api_token_create(user=other_user, name="Theirs")

    response = user_client.post(
        "/accounts/password-change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert _active(user) == 0
    assert _active(other_user) == 1


def test_password_reset_link_revokes_the_tokens(client: Client, user: User) -> None:
    _, raw = api_token_create(user=user, name="Phone")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = client.get(f"/accounts/reset/{uid}/{default_token_generator.make_token(user)}/")
    assert link.status_code == 302  # Django moves the token into the session first

    response = client.post(link["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert _active(user) == 0
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_admin_password_form_revokes_the_tokens(client: Client, user: User) -> None:
    admin = User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client.force_login(admin)
    api_token_create(user=user, name="Phone")

    response = client.post(
        f"/{settings.ADMIN_URL}accounts/user/{user.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert _active(user) == 0


def test_taking_the_password_away_revokes_the_tokens(user: User) -> None:
    api_token_create(user=user, name="Phone")

    user.set_unusable_password()
    user.save()

    assert _active(user) == 0


def test_set_password_anywhere_revokes_the_tokens(user: User) -> None:
    api_token_create(user=user, name="Phone")

    user.set_password(NEW_PASSWORD)
    user.save(update_fields=["password"])

    assert _active(user) == 0


def test_other_saves_and_a_rehash_on_login_keep_the_tokens(user: User, settings: Any) -> None:
    api_token_create(user=user, name="Phone")
    user.display_name = "Ann B"
    user.save()
    # A new preferred hasher: the next check_password() rewrites the hash, the password is the same.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    fresh = User.objects.get(pk=user.pk)

    assert fresh.check_password(PASSWORD)
    assert User.objects.get(pk=user.pk).password.startswith("pbkdf2_")
    assert _active(user) == 1


def test_the_tokens_page_says_so(user_client: Client) -> None:
    page = user_client.get("/dashboard/tokens/").content.decode()

    assert "Changing or resetting your password revokes all your tokens" in page


def _fill(user: User, count: int) -> None:
    team = personal_team(user)
    ApiToken.objects.bulk_create(
        ApiToken(user=user, team=team, name=f"T{i}", prefix="tf_x", digest=f"{user.pk}-{i}")
        for i in range(count)
    )


def test_the_cap_holds_on_the_page_both_ways(user_client: Client, user: User) -> None:
    _fill(user, MAX_ACTIVE_TOKENS)

    for headers in ({}, HTMX):
        response = user_client.post("/dashboard/tokens/", {"name": "One more"}, **headers)
        assert response.status_code == 200
        assert f"at most {MAX_ACTIVE_TOKENS} active tokens" in response.content.decode()
    assert _active(user) == MAX_ACTIVE_TOKENS


def test_the_cap_holds_on_the_api(client: Client, user: User) -> None:
    _fill(user, MAX_ACTIVE_TOKENS)

    response = client.post(
        "/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, "application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "token_limit"
    assert f"at most {MAX_ACTIVE_TOKENS}" in response.json()["detail"]
    assert _active(user) == MAX_ACTIVE_TOKENS


def test_revoked_tokens_do_not_count(user: User) -> None:
    _fill(user, MAX_ACTIVE_TOKENS)
    ApiToken.objects.filter(user=user).update(revoked_at="2026-01-01T00:00:00Z")

    api_token_create(user=user, name="Fresh")

    assert _active(user) == 1


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="row locks under real concurrency: PostgreSQL (set DATABASE_URL)",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_cannot_pass_the_cap() -> None:
    user = User.objects.create_user(email="race@example.com", password=PASSWORD)
    _fill(user, MAX_ACTIVE_TOKENS - 2)
    threads = 8
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []

    def create() -> None:
        try:
            barrier.wait()
            api_token_create(user=user, name="Racer")
            outcomes.append("created")
        except TokenLimitReached:
            outcomes.append("refused")
        finally:
            connections.close_all()

    workers = [threading.Thread(target=create) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(outcomes) == ["created"] * 2 + ["refused"] * (threads - 2)
    assert _active(user) == MAX_ACTIVE_TOKENS
    assert connection.vendor == "postgresql"
