"""The one production command is the same in every place that starts the app."""

import json
import re
from pathlib import Path

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
