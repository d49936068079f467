"""The one production command is the same in every place that starts the app."""

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PRODUCTION_COMMAND = ["python", "-m", "saas.serve"]


def test_dockerfile_runs_the_production_command() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd is not None
    assert json.loads(cmd.group(1)) == PRODUCTION_COMMAND
    assert "FROM python:3.13" in dockerfile


def test_compose_web_runs_it_and_worker_runs_the_task_worker() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    assert services["web"]["command"] == PRODUCTION_COMMAND
    assert services["worker"]["command"] == ["python", "manage.py", "db_worker"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert {"db", "redis", "mailpit", "stripe"} <= set(services)
    assert services["stripe"]["profiles"] == ["stripe"]


def test_make_serve_prod_runs_it() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nserve-prod:", 1)[1].split("\n\n", 1)[0]
    assert "python -m saas.serve" in recipe


# --- docker compose after `cp .env.example .env` ---------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


def dotenv(text: str) -> dict[str, str]:
    """KEY=VALUE lines as compose reads .env (comments and blank lines skipped; no quoting needed here)."""
    pairs = (line.split("=", 1) for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's interpolation (compose-spec "Interpolation"): $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d},
    ${VAR:?e}, ${VAR?e}, ${VAR:+r}, ${VAR+r}, defaults interpolated in turn."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        escaped, name, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        name = name or bare
        current = env.get(name)
        unset_or_empty = not current if operator and operator.startswith(":") else current is None
        op = (operator or "").lstrip(":")
        if op == "-":
            return interpolate(argument, env) if unset_or_empty else str(current)
        if op == "?":
            assert not unset_or_empty, f"compose would refuse: {name} {argument}"
        if op == "+":
            return "" if unset_or_empty else interpolate(argument, env)
        return current or ""

    return _VARIABLE.sub(replace, value)


def test_interpolation_follows_compose_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    cases = {
        "${SET:-d}": "x",
        "${EMPTY:-d}": "d",
        "${EMPTY-d}": "",
        "${UNSET-d}": "d",
        "${SET:+r}": "r",
        "${EMPTY+r}": "r",
        "${UNSET:+r}": "",
        "$$SET": "$SET",
        "$SET/${UNSET}": "x/",
        "${UNSET:-${SET}}": "x",
    }
    assert {case: interpolate(case, env) for case in cases} == cases


def compose_with(env: dict[str, str]) -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return interpolate(compose, env)


@pytest.mark.parametrize("service", ["web", "worker", "migrate"])
def test_compose_serves_plain_http_on_localhost_with_the_example_env(service: str) -> None:
    example = dotenv((ROOT / ".env.example").read_text())
    assert example["DJANGO_SECURE_SSL_REDIRECT"] == "true"  # what makes this test matter

    environment = compose_with(example)["services"][service]["environment"]
    # env_file (.env) is overridden by `environment:`, so these are what the container gets.
    assert environment["DJANGO_SECURE_SSL_REDIRECT"].lower() == "false"
    assert {"web", "localhost", "127.0.0.1"} <= set(environment["DJANGO_ALLOWED_HOSTS"].split(","))
    assert environment["DJANGO_DEBUG"] == "false"
    assert environment["DJANGO_SECRET_KEY"]  # the empty one in .env.example falls back to compose's


def test_only_the_web_container_is_health_checked_over_http() -> None:
    services = compose_with({})["services"]

    assert services["worker"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["healthcheck"] == {"disable": True}
    web = services["web"]["healthcheck"]
    assert "disable" not in web
    assert "/healthz" in " ".join(web["test"])


# --- Render and Fly.io ---------------------------------------------------------------------------
# Neither host's schema ships with check-jsonschema or a package we can install here, so these check
# the structure the deploy relies on: the same commands as everywhere else, the health check, the data.

MIGRATE = "python manage.py migrate --noinput"
WORKER = "python manage.py db_worker"


def test_render_blueprint_runs_web_worker_and_migrations_on_its_database_and_redis() -> None:
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    services = {service["name"]: service for service in blueprint["services"]}
    web = next(s for s in services.values() if s["type"] == "web")
    worker = next(s for s in services.values() if s["type"] == "worker")
    redis = next(s for s in services.values() if s["type"] == "keyvalue")
    databases = {database["name"] for database in blueprint["databases"]}
    groups = {group["name"]: group["envVars"] for group in blueprint["envVarGroups"]}

    assert web["dockerCommand"].split() == PRODUCTION_COMMAND
    assert web["preDeployCommand"] == MIGRATE
    assert web["healthCheckPath"] == "/healthz"
    assert worker["dockerCommand"] == WORKER
    assert redis["maxmemoryPolicy"] == "noeviction"
    for service in (web, worker):
        assert service["runtime"] == "docker"
        env = {var.get("key") or var["fromGroup"]: var for var in service["envVars"]}
        assert env["DATABASE_URL"]["fromDatabase"]["name"] in databases
        assert env["REDIS_URL"]["fromService"] == {
            "type": "keyvalue",
            "name": redis["name"],
            "property": "connectionString",
        }
        shared = {
            var["key"]: var
            for var in groups[next(v["fromGroup"] for v in service["envVars"] if "fromGroup" in v)]
        }
        assert shared["DJANGO_SECRET_KEY"] == {"key": "DJANGO_SECRET_KEY", "generateValue": True}
        assert shared["TASKS_BACKEND"]["value"] == "django_tasks_db.DatabaseBackend"
        assert {"DJANGO_ALLOWED_HOSTS", "SITE_URL", "EMAIL_URL"} <= set(shared)


def test_fly_config_runs_web_worker_and_migrations_with_the_health_check() -> None:
    config = tomllib.loads((ROOT / "fly.toml").read_text())
    http = config["http_service"]

    assert config["deploy"]["release_command"] == MIGRATE
    assert config["processes"]["web"].split() == PRODUCTION_COMMAND
    assert config["processes"]["worker"] == WORKER
    assert http["processes"] == ["web"]  # the worker gets no traffic and no HTTP check
    assert http["internal_port"] == int(config["env"]["PORT"])
    assert [check["path"] for check in http["checks"]] == ["/healthz"]
    assert config["env"]["TASKS_BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert {"web", "worker"} <= {process for vm in config["vm"] for process in vm["processes"]}


# --- .env.example documents every variable -------------------------------------------------------


def test_env_example_names_every_variable_the_settings_read() -> None:
    settings_source = (ROOT / "saas" / "settings.py").read_text()
    read = set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""", settings_source))
    read -= {"TWOFOLD_TESTING"}  # set by the test suite itself (saas/pytest_env.py)
    example = (ROOT / ".env.example").read_text()

    assert len(read) > 40  # the pattern still finds what settings.py reads
    missing = sorted(name for name in read if not re.search(rf"\b{name}=", example))
    assert missing == []
