import os
import subprocess
import sys
from typing import Any

import pytest
from django.core.checks import Warning, run_checks

from billing.checks import billing_deploy_check


def _production_env(**extra: str) -> dict[str, str]:
    skip = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "BILLING_SIMULATION")
    env = {k: v for k, v in os.environ.items() if k not in skip and not k.startswith("STRIPE_")}
    return {
        **env,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "k" * 30 + "-a-real-looking-production-secret-key-0123456789",
        "DJANGO_ALLOWED_HOSTS": "app.example.com",
        "TWOFOLD_TESTING": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
        "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
        **extra,
    }


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [({"DJANGO_DEBUG": "false"}, "False"), ({"DJANGO_DEBUG": "true"}, "True")],
    ids=["production", "debug"],
)
def test_the_simulation_defaults_to_on_in_debug_only(env: dict[str, str], expected: str) -> None:
    # The settings module alone, in a fresh interpreter: its defaults are read at import.
    result = subprocess.run(
        [sys.executable, "-c", "from saas import settings; print(settings.BILLING_SIMULATION)"],
        env=_production_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip() == expected, result.stderr


def test_check_deploy_warns_when_the_simulation_is_on_on_purpose() -> None:
    result = _manage(
        _production_env(BILLING_SIMULATION="true"), "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode != 0
    assert "(billing.W001) BILLING_SIMULATION is on" in result.stderr


def test_the_checks_are_deploy_checks_only(settings: Any) -> None:
    settings.BILLING_SIMULATION = True
    settings.STRIPE_SECRET_KEY = ""
    assert run_checks(tags=["billing"]) == []
    assert [m.id for m in run_checks(tags=["billing"], include_deployment_checks=True)] == ["billing.W001"]


@pytest.mark.parametrize(
    ("simulation", "secret_key", "webhook_secret", "expected"),
    [
        (True, "", "", ["billing.W001"]),
        (False, "", "", []),  # billing off: nothing to warn about
        (True, "sk_live_x", "whsec_x", []),  # Stripe's keys win over the simulation
        (False, "sk_live_x", "whsec_x", []),
        (False, "sk_live_x", "", ["billing.W002"]),
    ],
)
def test_billing_deploy_check(
    settings: Any, simulation: bool, secret_key: str, webhook_secret: str, expected: list[str]
) -> None:
    settings.BILLING_SIMULATION = simulation
    settings.STRIPE_SECRET_KEY = secret_key
    settings.STRIPE_WEBHOOK_SECRET = webhook_secret
    messages = billing_deploy_check(app_configs=None)
    assert [m.id for m in messages] == expected
    assert all(isinstance(m, Warning) and m.hint for m in messages)
