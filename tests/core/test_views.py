import re
import subprocess
import sys
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone

from accounts.models import User


def test_landing_renders_for_visitors(client: Client, db: None) -> None:
    landing = client.get("/")

    assert landing.status_code == 200
    assert "two kinds" in landing.content.decode()


def test_pages_carry_a_csp_with_a_nonce_and_the_security_headers(client: Client, db: None) -> None:
    response = client.get("/")

    csp = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "frame-ancestors 'none'" in csp
    nonce = csp.split("'nonce-", 1)[1].split("'", 1)[0]
    tags = re.findall(r"<script[^>]*>", response.content.decode())
    inline = [tag for tag in tags if " src=" not in tag]
    assert inline, "the theme script is inline"
    assert all(f'nonce="{nonce}"' in tag for tag in inline)
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_dashboard_requires_login(client: Client, user: User) -> None:
    assert client.get("/dashboard/")["Location"] == "/accounts/login/?next=/dashboard/"
    client.force_login(user)
    assert "Welcome, Ann" in client.get("/dashboard/").content.decode()  # a new account


def test_a_new_account_is_welcomed_and_a_returning_one_welcomed_back(client: Client, db: None) -> None:
    from datetime import timedelta

    from tests.conftest import PASSWORD

    signup = {"display_name": "Nia", "email": "nia@example.com", "password": PASSWORD}
    dashboard = client.post("/accounts/signup/", signup, follow=True).content.decode()
    assert "<h1>Welcome, Nia</h1>" in dashboard
    assert "Welcome back" not in dashboard

    User.objects.filter(email="nia@example.com").update(date_joined=timezone.now() - timedelta(days=3))
    client.logout()
    client.post("/accounts/login/", {"username": "nia@example.com", "password": PASSWORD})
    assert "<h1>Welcome back, Nia</h1>" in client.get("/dashboard/").content.decode()


def test_healthz_does_no_io(client: Client, db: None, django_assert_num_queries: object) -> None:
    with django_assert_num_queries(0):  # type: ignore[operator]
        response = client.get("/healthz")
    assert response.json() == {"status": "ok"}


def test_readyz_ok_when_database_and_cache_answer(client: Client, db: None) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_names_the_failing_database(client: Client, db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "ensure_connection", broken)
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": ["database"]}


def test_readyz_names_the_failing_cache(client: Client, db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.cache import cache

    def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "set", broken)
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]


def test_readyz_against_a_database_server_that_is_not_there() -> None:
    # A real refused connection, in a process of its own pointed at a closed port.
    code = (
        "import django, json; django.setup(); from django.test import Client;"
        "r = Client().get('/readyz'); print(r.status_code, json.dumps(r.json()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **_base_env(),
            "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
            "DJANGO_SETTINGS_MODULE": "saas.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip().splitlines()[-1] == '503 {"status": "unavailable", "failing": ["database"]}'


def _base_env() -> dict[str, str]:
    import os

    skip = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env["DJANGO_ALLOWED_HOSTS"] = "testserver"
    return env


def test_check_deploy_is_clean_with_production_settings() -> None:
    env = {
        **_base_env(),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "k" * 30 + "-a-real-looking-production-secret-key-0123456789",
        "DJANGO_ALLOWED_HOSTS": "app.example.com",
        "TWOFOLD_TESTING": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
        "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _without_a_key(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the project with production settings and no DJANGO_SECRET_KEY, as on a fresh clone."""
    env = {**_base_env(), "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": ""}
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    result = _without_a_key("manage.py", "check")
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


def test_seed_demo_is_idempotent(db: None) -> None:
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)

    assert User.objects.filter(email="demo@example.com", is_staff=False).count() == 1
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff
    assert admin.check_password("twofold-demo")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_checks_answer_any_host_over_plain_http(
    client: Client, db: None, settings: object, path: str
) -> None:
    settings.SECURE_SSL_REDIRECT = True  # type: ignore[attr-defined]
    settings.ALLOWED_HOSTS = ["app.example.com"]  # type: ignore[attr-defined]

    response = client.get(path, HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 200
    assert client.get("/", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_dashboard_query_count_is_bounded(
    user_client: Client, user: User, django_assert_max_num_queries: Any
) -> None:
    user_client.get("/dashboard/")
    # session and user, the team switcher's teams, plus what the installed apps' cards read (plan, posts,
    # today's chat messages)
    with django_assert_max_num_queries(6):
        html = user_client.get("/dashboard/").content.decode()
    assert "Welcome, Ann" in html


def test_routes_works_on_a_fresh_clone_without_debug_or_a_key() -> None:
    # The README and the guide give `python manage.py routes` as is: production settings, no key.
    result = _without_a_key("manage.py", "routes")
    assert result.returncode == 0, result.stderr
    assert "/dashboard/profile/" in result.stdout


def test_the_production_server_refuses_to_start_without_a_secret_key() -> None:
    result = _without_a_key("-c", "import saas.server")
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr
